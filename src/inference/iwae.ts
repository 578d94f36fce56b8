/**
 * The importance-weighted bound (IWAE, Burda et al. 2016), per data point:
 * k particles z_j ~ q, log weights log w_j[i] = Σ_sites scale · (log p − log q)
 * reduced to one number per data point i, and
 * IWAE_k = Σ_i [log Σ_j w_j[i] − log k] ≤ log p(x).
 * `particleLogWeights` is shared with `logMarginal`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { logSumExp } from '../backend/numerics.js'
import { subSeed } from '../backend/seed.js'
import { InvalidArgumentError, showShape } from '../errors.js'
import { subsampledSize } from './elbo.js'
import { SiteError } from './interpreter.js'
import type { Handler } from './interpreter.js'
import { applyMask, sampleLogProb } from './log-joint.js'
import type { Loss, ProgramFn } from './loss.js'
import { traceReplayed } from './replayed.js'
import { latents } from './trace.js'
import type { Trace } from './trace.js'

/** One site's contribution to the log weights: rank 0 (a global site) or rank 1 (one entry per data point). */
interface Term {
  readonly name: string
  readonly value: tf.Tensor
}

/** mask · scale · lp, summed over every dim but the leftmost (the data dim). */
const perPoint = (lp: tf.Tensor, scale: number | tf.Tensor, mask: tf.Tensor | undefined): tf.Tensor => {
  const masked = applyMask(lp, mask)
  const scaled = tf.mul(masked, scale)
  return scaled.rank <= 1 ? scaled : tf.sum(scaled, Array.from({ length: scaled.rank - 1 }, (_, d) => d + 1))
}

/** The terms of one guide/model trace pair: model sample and factor sites (+), guide latents and factors (−). */
const siteTerms = (p: Trace, q: Trace): Term[] => [
  ...q.sites.flatMap((s): Term[] => s._tag === 'Factor' ? [{ name: s.name, value: tf.neg(perPoint(s.logWeight, s.scale, s.mask)) }] : []),
  ...p.sites.flatMap((s): Term[] =>
    s._tag === 'Sample' ? [{ name: s.name, value: perPoint(sampleLogProb(s), s.scale, s.mask) }]
      : s._tag === 'Factor' ? [{ name: s.name, value: perPoint(s.logWeight, s.scale, s.mask) }] : []),
  ...latents(q).map((g): Term => ({ name: g.name, value: tf.neg(perPoint(sampleLogProb(g), g.scale, g.mask)) })),
]

/** The common number of data points of the rank-1 terms (1 when every site is global). */
const numPoints = (terms: readonly Term[]): number => {
  let first: Term | undefined
  for (const t of terms) {
    if (t.value.rank === 0) continue
    if (first === undefined) first = t
    else if (t.value.shape[0] !== first.value.shape[0]) {
      throw new SiteError(`importance weights: site '${t.name}' has ${t.value.shape[0]} data points (the leftmost batch dim of its log-density, shape ${showShape(t.value.shape)} after reduction) but site '${first.name}' has ${first.value.shape[0]}; every site's log-density must have the data points as its leftmost batch dim, or be a scalar (a global site)`)
    }
  }
  return first?.value.shape[0] ?? 1
}

/** Σ terms per data point; a global (scalar) term is split equally: each point gets term / N. */
const combine = (terms: readonly Term[]): tf.Tensor1D => {
  const n = numPoints(terms)
  const local = terms.filter((t) => t.value.rank === 1).map((t) => t.value)
  const global = terms.filter((t) => t.value.rank === 0).map((t) => t.value)
  const shared = global.length === 0 ? tf.zeros([n]) : tf.broadcastTo(tf.div(tf.addN(global), n), [n])
  return (local.length === 0 ? shared : tf.add(shared, tf.addN(local))) as tf.Tensor1D
}

/** One particle: the guide and model traces and the log weights per data point. */
export interface ParticleWeights {
  /** log w[i], shape [numDataPoints]. */
  readonly logWeights: tf.Tensor1D
  readonly guide: Trace
  readonly model: Trace
}

/**
 * One importance-sampling particle: traces the guide (seeded with subSeed(s, 0)),
 * replays the model on it (subSeed(s, 1)), checks coverage, and returns
 * log w[i] = Σ_sites scale · mask · (log p − log q) per data point i.
 *
 * The data dim is the leftmost batch dim of each site's log-density (the batch of
 * data points comes first, as in every model of this library); the other dims are
 * summed. A site whose log-density is a scalar (a global latent, an event-summed
 * observation, a scalar factor) is split equally: each of the N data points gets
 * 1/N of it, so Σ_i log w[i] is the particle's total log weight (and a one-particle
 * IWAE equals the ELBO). Factor sites follow the same rule. Sites must agree on N.
 * With `particleSeed` undefined the draws are unseeded.
 *
 * @example
 * const { logWeights } = particleLogWeights(model, guide, [x], [], subSeed(seed, j))
 */
export const particleLogWeights = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, handlers: readonly Handler[], particleSeed: number | undefined,
): ParticleWeights => {
  const { guide: q, model: p } = traceReplayed(model, guide, args, handlers, particleSeed)
  return { logWeights: combine(siteTerms(p, q)), guide: q, model: p }
}

/**
 * The IWAE bound from the particles' log weights (each [N]): Σ_i [logSumExp_j log w_j[i] − log k].
 *
 * @example iwaeBound([lw0, lw1])   // a scalar
 */
export const iwaeBound = (logWeights: readonly tf.Tensor1D[]): tf.Scalar =>
  tf.sum(tf.sub(logSumExp(tf.stack([...logWeights]), 0), Math.log(logWeights.length))) as tf.Scalar

const requireReparameterised = (guide: Trace): void => {
  const bad = latents(guide).find((g) => !g.dist.reparameterized)
  if (bad !== undefined) {
    throw new SiteError(`iwae: guide site '${bad.name}' (${bad.dist.name}) is not reparameterised; iwae uses pathwise gradients only. Use a reparameterised or relaxed distribution, or elbo() (score function) for discrete latents`)
  }
}

/** Options of {@link iwae}. */
export interface IwaeOptions {
  /** One weight per data point (default true); `false`: the classic IWAE with one weight for the whole batch. */
  readonly perDataPoint?: boolean
}

/**
 * The importance-weighted autoencoder bound with `k` particles, per data point:
 *
 * IWAE_k = Σ_i [log Σ_{j=1..k} w_j[i] − log k],  log w_j[i] = Σ_sites scale · (log p − log q)(z_j)[i],
 *
 * with z_j ~ q seeded by subSeed(seed, j). E[IWAE_k] ≤ E[IWAE_{k+1}] ≤ log p(x), and
 * IWAE_1 is the ELBO. The data dim is the leftmost batch dim of each site's
 * log-density; scalar (global) sites are split equally over the data points (see
 * {@link particleLogWeights}). With global latents and N > 1 the per-point bound is
 * a per-point approximation: use `perDataPoint: false` for the classic
 * whole-batch bound. Gradients are pathwise only: a non-reparameterised guide
 * site is a `SiteError` (use `elbo` for discrete latents). `surrogate` = `bound`.
 *
 * @example
 * const loss = iwae(8)
 * await svi({ optimizer: tf.train.adam(1e-3), loss }).fit(model, guide, data)
 */
export const iwae = (k: number, options: IwaeOptions = {}): Loss => {
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`iwae: k (the number of particles) must be a positive integer; got ${k}`)
  const perDataPoint = options.perDataPoint ?? true
  return {
    _tag: 'Loss', name: `iwae(${k}${perDataPoint ? '' : ', whole batch'})`, 
    estimate: (model, guide, args, ctx) => {
      const parts = Array.from({ length: k }, (_, j) => {
        const part = particleLogWeights(model, guide, args, ctx.handlers, subSeed(ctx.seed, j))
        requireReparameterised(part.guide)
        return part
      })
      const weights = parts.map((p) => perDataPoint ? p.logWeights : tf.reshape(tf.sum(p.logWeights), [1]) as tf.Tensor1D)
      const bound = iwaeBound(weights)
      return { surrogate: bound, bound, baselines: [], dataSize: subsampledSize(parts[0]!.model) }
    },
  }
}
