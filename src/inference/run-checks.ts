/**
 * Checks of a run that Pyro lets pass and tfppl reports through the warnings
 * channel: values given by name to sites that never ran (a typo'd `condition`
 * gives a prior fit), a plate only the guide has, and a guide whose latent
 * sites come in another order than the model's under analytic KL.
 */
import type { Handler } from './interpreter.js'
import type { NamingHandler } from './handlers.js'
import { vectorised } from './plate-costs.js'
import { PARTICLE_PLATE } from './plate-dims.js'
import { latents } from './trace.js'
import type { Trace } from './trace.js'
import { listNames } from './warnings.js'
import type { Warn } from './warnings.js'

/**
 * A handler recording into `sink` the name of every sample, param, factor and deterministic site
 * a run meets (put it first, so it sees names before any handler answers).
 *
 * @example const seen = new Set<string>(); traceProgram(model(x), [recordNames(seen), condition(data)])
 */
export const recordNames = (sink: Set<string>): Handler => (msg, next) => {
  if (msg._tag === 'Sample' || msg._tag === 'Param' || msg._tag === 'Factor' || msg._tag === 'Deterministic') sink.add(msg.name)
  return next(msg)
}

const givesNames = (h: Handler): h is NamingHandler => 'givesNames' in h

/**
 * Warns (cause 'unknown-names') for each `condition`/`substitute` among `handlers` that names sites
 * none of the runs met, listing the unknown names and the sites there are.
 *
 * @example warnUnknownNames('predictive', handlers, seen, warn)
 */
export const warnUnknownNames = (where: string, handlers: readonly Handler[], seen: ReadonlySet<string>, warn: Warn): void => {
  for (const h of handlers.filter(givesNames)) {
    const unknown = h.givesNames.names.filter((n) => !seen.has(n))
    if (unknown.length === 0) continue
    warn({ cause: 'unknown-names', message: `${where}: ${h.givesNames.by}(…) names ${listNames(unknown)}, which no site of the program has, so ${unknown.length === 1 ? 'it is' : 'they are'} ignored; the sites are ${listNames([...seen].sort())}` })
  }
}

/** The vectorised plates of a trace's sites, the particle plate and the plates of auxiliary sites aside. */
const plateNames = (t: Trace): Set<string> =>
  new Set(t.sites.flatMap((s) => s._tag === 'Deterministic' || (s._tag === 'Sample' && s.options.auxiliary === true) ? [] : vectorised(s.plates).map((p) => p.name)).filter((n) => n !== PARTICLE_PLATE))

/**
 * Warns (cause 'guide-only-plate') for each vectorised plate the guide's sites are in and no model
 * site is (Pyro warns too): the model's sites are then not broadcast or scaled along it. A plate
 * only auxiliary sites are in is the guide's own (no model site pairs with them), and passes.
 *
 * @example warnGuideOnlyPlates(p, q, warn)
 */
export const warnGuideOnlyPlates = (p: Trace, q: Trace, warn: Warn): void => {
  const model = plateNames(p)
  for (const name of plateNames(q)) {
    if (!model.has(name)) warn({ cause: 'guide-only-plate', message: `plate '${name}' is in the guide but in no site of the model; the model's sites are not broadcast or scaled along it. Put the model's sites for those elements in plate '${name}' too` })
  }
}

/**
 * Warns (cause 'kl-site-order') when analytic KL meets a guide whose latent sites run in another
 * order than the model's (Pyro's TraceMeanField_ELBO check): KL(q ‖ p) site by site assumes each
 * guide site is independent of the model sites after it, which another order suggests it is not.
 *
 * @example warnKlSiteOrder(p, q, warn)
 */
export const warnKlSiteOrder = (p: Trace, q: Trace, warn: Warn): void => {
  const inModel = latents(p).map((s) => s.name)
  const inGuide = latents(q).map((s) => s.name).filter((n) => inModel.includes(n))
  if (inGuide.every((n, i) => n === inModel[i])) return
  warn({ cause: 'kl-site-order', message: `elbo({ kl: 'auto' }): the guide samples its latent sites in the order ${listNames(inGuide)} but the model in the order ${listNames(inModel)}; analytic KL assumes a mean-field guide whose sites follow the model's order, so the estimate may be biased. Reorder the guide, or use kl: 'mc'` })
}
