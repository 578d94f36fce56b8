/**
 * Importance-sampling estimates of the log marginal likelihood log p(x_i) per
 * data point, with the guide as proposal, computed in memory-bounded chunks.
 */
import * as tf from '@tensorflow/tfjs-core'
import { logAddExp, logSumExp } from '../backend/numerics.js'
import { subSeed } from '../backend/seed.js'
import { InvalidArgumentError } from '../errors.js'
import type { Handler } from './interpreter.js'
import { particleLogWeights } from './iwae.js'
import type { ProgramFn } from './loss.js'

/** Options of {@link logMarginal}. */
export interface LogMarginalOptions {
  /** Importance samples S (draws from the guide). */
  readonly samples: number
  /** Draws per chunk (default 100): memory grows with `batch`, not with `samples`. */
  readonly batch?: number
  /** Seeds the draws: draw j uses subSeed(seed, j), so the chunking does not change them. Default: unseeded. */
  readonly seed?: number
  /** Handlers applied (innermost) to model and guide, e.g. the param store. */
  readonly handlers?: readonly Handler[]
}

const checkCount = (name: string, v: number): void => {
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`logMarginal: ${name} must be a positive integer; got ${v}`)
}

/** logSumExp over draws [start, end) of the log weights, folded into `acc` with logAddExp. */
const chunk = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, opts: LogMarginalOptions, start: number, end: number, acc: tf.Tensor | undefined,
): tf.Tensor => tf.tidy(() => {
  const lw = Array.from({ length: end - start }, (_, j) =>
    particleLogWeights(model, guide, args, opts.handlers ?? [], subSeed(opts.seed, start + j)).logWeights)
  const lse = logSumExp(tf.stack(lw), 0)
  return acc === undefined ? lse : logAddExp(acc, lse)
})

/**
 * The importance-sampling estimate of log p(x_i) for every data point i, with
 * the guide q as proposal:
 *
 * log p(x_i) ≈ log (1/S) Σ_{j=1..S} w_j[i],  log w_j[i] = Σ_sites scale · (log p − log q)(z_j)[i],  z_j ~ q,
 *
 * the log weights of {@link particleLogWeights} (data dim leftmost; global sites
 * split equally over the data points). Draws are taken `batch` at a time and
 * combined with a running logSumExp, so 10⁴ samples need the memory of `batch`.
 * Consistent as S → ∞ (and a stochastic lower bound in expectation for finite S).
 * The caller owns the returned tensor, shape [numDataPoints].
 *
 * @example
 * const lp = logMarginal(model, guide, [x], { samples: 5000, seed: 0 })   // shape [N]
 * lp.dispose()
 */
export const logMarginal = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, opts: LogMarginalOptions,
): tf.Tensor1D => {
  const batch = opts.batch ?? 100
  checkCount('samples', opts.samples)
  checkCount('batch', batch)
  let acc: tf.Tensor | undefined
  try {
    for (let start = 0; start < opts.samples; start += batch) {
      const next = chunk(model, guide, args, opts, start, Math.min(opts.samples, start + batch), acc)
      acc?.dispose()
      acc = next
    }
    const total = acc!
    return tf.tidy(() => tf.sub(total, Math.log(opts.samples)) as tf.Tensor1D)
  } finally {
    acc?.dispose()
  }
}
