/**
 * The run-time half of model/guide validity: every latent site of the model is
 * sampled by the guide, and the guide samples nothing the model lacks — except
 * its auxiliary sites (`sample(name, d, { auxiliary: true })`), which are the
 * guide's own and must not be the model's.
 * (The compile-time half is `MissingSites` / `MismatchedSites` in src/dsl.)
 */
import { SiteError } from './interpreter.js'
import type { SampleSite, Trace } from './trace.js'

const names = (sites: readonly SampleSite[]): string => sites.map((s) => `'${s.name}'`).join(', ') || 'none'

/**
 * Throws a {@link SiteError} naming the first site that breaks the pairing.
 *
 * @example checkCoverage(modelTrace, guideTrace)
 */
export const checkCoverage = (model: Trace, guide: Trace): void => {
  const guideLatents = guide.sites.filter((s): s is SampleSite => s._tag === 'Sample' && s.kind === 'latent')
  for (const site of model.sites) {
    if (site._tag !== 'Sample' || site.kind !== 'latent' || site.enumeration?.own?.side === 'model') continue   // a model-enumerated site is summed out, not guided
    const g = guide.byName.get(site.name)
    if (g === undefined || g._tag !== 'Sample' || g.kind !== 'latent') {
      throw new SiteError(`the model's latent site '${site.name}' is not sampled by the guide; the guide samples ${names(guideLatents)}. Add sample('${site.name}', …) to the guide, or observe/condition it in the model`)
    }
  }
  for (const g of guideLatents) {
    const m = model.byName.get(g.name)
    if (g.options.auxiliary === true) {
      if (m !== undefined) throw new SiteError(`the guide's auxiliary site '${g.name}' has the name of a ${m._tag === 'Sample' ? m.kind : m._tag.toLowerCase()} site of the model; an auxiliary site is the guide's own: give it a name the model does not use`)
      continue
    }
    if (m === undefined || m._tag !== 'Sample') {
      throw new SiteError(`the guide samples site '${g.name}', which the model does not have; the model's sites are ${model.sites.map((s) => `'${s.name}'`).join(', ') || 'none'}. If it is the guide's own latent, mark it sample('${g.name}', …, { auxiliary: true })`)
    }
    if (m.kind === 'observed') {
      throw new SiteError(`the guide samples site '${g.name}', which is observed in the model; a guide may sample only latent sites`)
    }
  }
}
