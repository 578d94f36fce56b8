/**
 * The evidence lower bound, ELBO = E_q[log p(x, z) − log q(z | x)]:
 * trace the guide, replay the model on it, sum log p − log q over the sites.
 * Pathwise gradients where the guide is reparameterised; a score-function
 * surrogate with a decaying-average baseline where it is not; the analytic KL
 * from the registry with `kl: 'auto'`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { stopGradient } from '../backend/gradient.js'
import { subSeed } from '../backend/seed.js'
import { kl as klRegistry } from '../distributions/kl.js'
import { InvalidArgumentError } from '../errors.js'
import { SiteError } from './interpreter.js'
import { factorTerm, scaledSum, siteTerm } from './log-joint.js'
import type { Loss, LossContext, LossEstimate, ProgramFn } from './loss.js'
import { traceReplayed } from './replayed.js'
import type { SampleSite, Trace } from './trace.js'

/** Options of {@link elbo}. */
export interface ElboOptions {
  /** Particles averaged per estimate (default 1). */
  readonly numParticles?: number
  /** 'auto': analytic KL(q ‖ p) at sites where the registry has one; 'mc' (default): Monte Carlo. */
  readonly kl?: 'auto' | 'mc'
  /** Decay of the score-function baseline b ← decay·b + (1 − decay)·ELBO (default 0.9); `false`: no baseline. */
  readonly baseline?: number | false
  /** Reject guides with non-reparameterised latent sites instead of using the score function. */
  readonly reparameterizedOnly?: boolean
}

/** The largest size of a subsampled plate in a trace (the data size it stands for). */
export const subsampledSize = (trace: Trace): number | undefined =>
  trace.sites.reduce<number | undefined>((n, s) => s._tag === 'Deterministic' ? n
    : s.plates.reduce<number | undefined>((m, f) => f.subsampleSize < f.size ? Math.max(m ?? 0, f.size) : m, n), undefined)

/** Σ terms, in one `AddN` (a lone term as it is; no terms: 0). */
const total = (xs: readonly tf.Scalar[]): tf.Scalar => xs.length === 0 ? tf.scalar(0) : xs.length === 1 ? xs[0]! : tf.addN([...xs]) as tf.Scalar

/** log p − log q at a latent site, or −KL(q ‖ p) when analytic and available. */
const latentTerm = (site: SampleSite, guideSite: SampleSite, analytic: boolean): tf.Scalar => {
  if (analytic) {
    const d = klRegistry(guideSite.dist, site.dist)
    if (d !== undefined) return tf.neg(scaledSum(d, site.scale, site.mask)) as tf.Scalar
  }
  return tf.sub(siteTerm(site), siteTerm(guideSite)) as tf.Scalar
}

const particle = <Args extends readonly unknown[]>(model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, ctx: LossContext, opts: Required<ElboOptions>, i: number): LossEstimate => {
  const s = subSeed(ctx.seed, i) ?? 0
  const { guide: q, model: p } = traceReplayed(model, guide, args, ctx.handlers, s)
  const terms: tf.Scalar[] = []
  for (const site of p.sites) {
    if (site._tag === 'Factor') terms.push(factorTerm(site))
    else if (site._tag === 'Sample') {
      terms.push(site.kind === 'observed' ? siteTerm(site) : latentTerm(site, q.byName.get(site.name) as SampleSite, opts.kl === 'auto'))
    }
  }
  // A guide's factor is part of log q (as in Pyro): it enters the bound with a minus sign.
  for (const g of q.sites) if (g._tag === 'Factor') terms.push(tf.neg(factorTerm(g)))
  const bound = total(terms)
  const scored = q.sites.filter((g): g is SampleSite => g._tag === 'Sample' && g.kind === 'latent' && !g.dist.reparameterized)
  if (opts.reparameterizedOnly && scored.length > 0) {
    throw new SiteError(`guide site '${scored[0]!.name}' (${scored[0]!.dist.name}) is not reparameterised, but this ELBO was built with reparameterizedOnly: true; use a reparameterised or relaxed distribution, or drop the option to use the score function`)
  }
  const surrogate = scored.length === 0 ? bound : tf.add(bound, tf.mul(total(scored.map(siteTerm)), stopGradient(tf.sub(bound, ctx.baseline)))) as tf.Scalar
  return { surrogate, bound, scoreSites: scored.map((g) => g.name), dataSize: subsampledSize(p) }
}

const mean = (xs: readonly tf.Scalar[]): tf.Scalar => xs.length === 1 ? xs[0]! : tf.div(total(xs), xs.length) as tf.Scalar

/**
 * The ELBO estimator.
 *
 * ELBO = E_q[Σ_sites scale · (log p − log q)] (+ model factors, − guide factors), with −KL(q ‖ p) in place of
 * log p − log q at a latent site when `kl: 'auto'` and the registry has the pair.
 * Score-function surrogate for non-reparameterised guide sites:
 * ELBO + Σ log q(z) · ⟂(ELBO − b), ⟂ = stop-gradient, b = decaying average.
 *
 * @example
 * const loss = elbo({ kl: 'auto', numParticles: 2 })
 * await svi({ optimizer: tf.train.adam(1e-3), loss }).fit(model, guide, data)
 */
export const elbo = (options: ElboOptions = {}): Loss => {
  const opts: Required<ElboOptions> = { numParticles: 1, kl: 'mc', baseline: 0.9, reparameterizedOnly: false, ...options }
  if (!Number.isInteger(opts.numParticles) || opts.numParticles < 1) {
    throw new InvalidArgumentError(`elbo: numParticles must be a positive integer; got ${opts.numParticles}`)
  }
  if (opts.baseline !== false && !(opts.baseline >= 0 && opts.baseline < 1)) {
    throw new InvalidArgumentError(`elbo: baseline decay must be in [0, 1), or false; got ${opts.baseline}`)
  }
  return {
    _tag: 'Loss', name: `elbo(${opts.kl === 'auto' ? 'analytic KL' : 'Monte Carlo'}${opts.numParticles > 1 ? `, ${opts.numParticles} particles` : ''})`,
    baselineDecay: opts.baseline === false ? undefined : opts.baseline,
    estimate: (model, guide, args, ctx) => {
      const parts = Array.from({ length: opts.numParticles }, (_, i) => particle(model, guide, args, ctx, opts, i))
      return {
        surrogate: mean(parts.map((r) => r.surrogate)), bound: mean(parts.map((r) => r.bound)),
        scoreSites: parts[0]!.scoreSites, dataSize: parts[0]!.dataSize,
      }
    },
  }
}
