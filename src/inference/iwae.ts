/**
 * The importance-weighted bound (IWAE, Burda et al. 2016) with weights kept
 * apart along the plates all sites share (Pyro's RenyiELBO at α = 0): k
 * particles z_j ~ q, log weights log w_j[i] = Σ_sites scale · (log p − log q)
 * with i over the common plates, IWAE_k = Σ_i [log Σ_j w_j[i] − log k] ≤ log p(x).
 * `particleLogWeights` is shared with `logMarginal`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { logSumExp } from '../backend/numerics.js'
import { subSeed } from '../backend/seed.js'
import { InvalidArgumentError } from '../errors.js'
import type { PlateFrame } from '../dsl/messages.js'
import { subsampledSize } from './elbo.js'
import { SiteError } from './interpreter.js'
import type { Handler } from './interpreter.js'
import { logWeightsOf } from './log-weights.js'
import type { LogWeights } from './log-weights.js'
import type { Loss, LossContext, ProgramFn } from './loss.js'
import { checkParticleOptions, plateDepthMemo, vectorizedTraces } from './particles.js'
import { PARTICLE_PLATE } from './plate-dims.js'
import { traceReplayed } from './replayed.js'
import { enumState, enumerateSites } from './enumerate.js'
import type { PlateDraws } from './replayed.js'
import { latents } from './trace.js'
import type { Trace } from './trace.js'

/** One particle: the guide and model traces and their log weights. */
export interface ParticleWeights {
  /** log w, one per element of the plates common to all sites (shape: their sizes, leftmost first). */
  readonly logWeights: tf.Tensor
  readonly guide: Trace
  readonly model: Trace
  /** Every plate's subsample in this particle (pass it as `plates` so that later particles reuse them). */
  readonly plates: PlateDraws
}

/**
 * One importance-sampling particle: traces the guide (seeded with subSeed(s, 0)), replays the
 * model on it (subSeed(s, 1)), checks coverage, and returns its log weights
 * log w = Σ_sites scale · mask · (log p − log q), kept apart along the plates every site shares
 * (as Pyro's RenyiELBO) and summed over everything else: one weight per data point when every
 * site is in the data plate; one for the whole batch when a site is global. With `particleSeed`
 * undefined the draws are unseeded. Given `plates` (an earlier particle's), its plates reuse
 * those subsamples, so that the particles weigh the same data points. Given `enumerateAt` (the
 * program's plate depth), the model's sites marked `{ enumerate: 'parallel' }` are summed out.
 *
 * @example
 * const { logWeights } = particleLogWeights(model, guide, [x], [], subSeed(seed, j))   // shape [N]
 */
export const particleLogWeights = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, handlers: readonly Handler[], particleSeed: number | undefined, plates?: PlateDraws, enumerateAt?: number,
): ParticleWeights => {
  const options = enumerateAt === undefined ? {} : { model: { last: [enumerateSites('model', enumState(enumerateAt))] } }
  const { guide: q, model: p, plates: drawn } = traceReplayed(model, guide, args, handlers, particleSeed, plates, options)
  return { logWeights: logWeightsOf(p, q, () => true).value, guide: q, model: p, plates: drawn }
}

/**
 * The IWAE bound from log weights with the particles on axis 0: Σ [logSumExp_j log w_j − log k].
 *
 * @example iwaeBound(tf.stack([lw0, lw1]))   // a scalar
 */
export const iwaeBound = (logWeights: tf.Tensor): tf.Scalar =>
  tf.sum(tf.sub(logSumExp(logWeights, 0), Math.log(logWeights.shape[0]!))) as tf.Scalar

const requireReparameterised = (guide: Trace): void => {
  const bad = latents(guide).find((g) => !g.dist.reparameterized)
  if (bad !== undefined) {
    throw new SiteError(`iwae: guide site '${bad.name}' (${bad.dist.name}) is not reparameterised; iwae uses pathwise gradients only, and the score function of an importance-weighted bound needs VIMCO, which tfppl does not have. Use a reparameterised or relaxed distribution, or elbo() (score function) for discrete latents`)
  }
}

/** Options of {@link iwae}. */
export interface IwaeOptions {
  /** k, the particles per weight (≥ 1). */
  readonly numParticles: number
  /** Keep one weight per element of the plates all sites share (default true); `false`: one weight for the whole batch. */
  readonly perDataPoint?: boolean
  /** Run the k particles in one pass along a particle dim left of every plate (default true); `false`: a loop. */
  readonly vectorizeParticles?: boolean
  /** The program's plate nesting, where the particle dim goes; default: read from one traced particle. */
  readonly maxPlateNesting?: number
}

/** The k particles' log weights, particles on axis 0, and the first model trace (for dataSize); looped particles share the first one's plate subsamples. */
const weightsOf = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, ctx: LossContext,
  o: Required<Omit<IwaeOptions, 'maxPlateNesting'>>, depth: () => number,
): { lw: tf.Tensor; model: Trace } => {
  const keep = (f: PlateFrame) => o.perDataPoint || f.name === PARTICLE_PLATE
  if (o.numParticles > 1 && o.vectorizeParticles) {
    const { guide: q, model: p } = vectorizedTraces(model, guide, args, ctx, { k: o.numParticles, depth: depth(), estimator: 'iwae' })
    requireReparameterised(q)
    const w: LogWeights = logWeightsOf(p, q, keep)
    return { lw: w.value, model: p }
  }
  // The loop's particles share the first particle's plate subsamples: the log-sum-exp over particles compares weights of the same points.
  let plates: PlateDraws | undefined
  const parts = Array.from({ length: o.numParticles }, (_, j) => {
    const r = traceReplayed(model, guide, args, ctx.handlers, subSeed(ctx.seed, j), plates)
    plates ??= r.plates
    requireReparameterised(r.guide)
    return { lw: logWeightsOf(r.model, r.guide, keep).value, model: r.model }
  })
  return { lw: tf.stack(parts.map((r) => r.lw)), model: parts[0]!.model }
}

/**
 * The importance-weighted autoencoder bound with k particles (Burda et al. 2016), with weights kept
 * apart along the plates every site shares, as Pyro's RenyiELBO (α = 0):
 *
 * IWAE_k = Σ_i [log Σ_{j=1..k} w_j[i] − log k],  log w_j[i] = Σ_sites scale · (log p − log q)(z_j),
 *
 * i running over the elements of the common plates, each site's term summed over its other
 * plates. E[IWAE_k] ≤ E[IWAE_{k+1}] ≤ log p(x), and IWAE_1 is the ELBO. Gradients are pathwise: a
 * non-reparameterised guide site is a `SiteError`. `surrogate` = `bound`. `iwae(k)` is
 * `iwae({ numParticles: k })`.
 *
 * @example
 * const loss = iwae({ numParticles: 8 })
 * await svi({ optimizer: tf.train.adam(1e-3), loss }).fit(model, guide, data)
 */
export function iwae(options: IwaeOptions): Loss
/** @deprecated the particle count is `numParticles` in every estimator: `iwae({ numParticles: k })`. */
export function iwae(k: number, options?: Omit<IwaeOptions, 'numParticles'>): Loss
export function iwae(first: number | IwaeOptions, rest: Omit<IwaeOptions, 'numParticles'> = {}): Loss {
  const options: IwaeOptions = typeof first === 'number' ? { ...rest, numParticles: first } : first
  const o = { perDataPoint: true, vectorizeParticles: true, ...options }
  checkParticleOptions('iwae', o.numParticles, options.maxPlateNesting)
  const depthOf = plateDepthMemo(options.maxPlateNesting)
  return {
    _tag: 'Loss', name: `iwae(${o.numParticles}${o.perDataPoint ? '' : ', whole batch'})`,
    estimate: (model, guide, args, ctx) => {
      const { lw, model: p } = weightsOf(model, guide, args, ctx, o, () => depthOf(model, guide, args, ctx))
      const bound = iwaeBound(lw)
      return { surrogate: bound, bound, baselines: [], dataSize: subsampledSize(p) }
    },
  }
}
