/**
 * Importance-sampling estimates of the log marginal likelihood log p(x_i) per
 * data point, with the guide as proposal, computed in memory-bounded chunks.
 */
import * as tf from '@tensorflow/tfjs-core'
import { logAddExp, logSumExp } from '../backend/numerics.js'
import { subSeed } from '../backend/seed.js'
import { BackendError, InvalidArgumentError } from '../errors.js'
import type { Handler } from './interpreter.js'
import { particleLogWeights } from './iwae.js'
import type { ProgramFn } from './loss.js'
import type { PlateDraws } from './replayed.js'
import { traceReplayed } from './replayed.js'
import { plateDepthOf } from './plate-costs.js'

/** Options of {@link logMarginal}: give `numParticles` (or its old name `samples`). */
export type LogMarginalOptions = LogMarginalCommon & ({ readonly numParticles: number } | {
  /** @deprecated the particle count is `numParticles` in every estimator. */
  readonly samples: number
})

/** The options besides the particle count. */
interface LogMarginalCommon {
  /** Draws per chunk (default 100): memory grows with `batch`, not with `samples`. */
  readonly batch?: number
  /** Seeds the draws: draw j uses subSeed(seed, j), so the chunking does not change them. Default: unseeded. */
  readonly seed?: number
  /** Handlers applied (innermost) to model and guide, e.g. the param store. */
  readonly handlers?: readonly Handler[]
}

/** S, the importance samples asked for, under either name. */
const particlesOf = (opts: LogMarginalOptions): number => 'numParticles' in opts ? opts.numParticles : opts.samples

const checkCount = (name: string, v: number): void => {
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`logMarginal: ${name} must be a positive integer; got ${v}`)
}

/** The subsamples every draw shares: the first draw's (copies of their indices, kept past its chunk's `tidy`); the program's plate depth. */
interface SharedPlates { draws: PlateDraws | undefined; readonly depth: number }

/** The plate depth of one traced run (model-enumerated sites drawn from the model there): where enumeration dims start. */
const plateDepthOfRun = <Args extends readonly unknown[]>(model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, opts: LogMarginalOptions): number =>
  tf.tidy(() => { const r = traceReplayed(model, guide, args, opts.handlers ?? [], subSeed(opts.seed, 0), undefined, { coverage: false }); return plateDepthOf([r.guide, r.model]) })

/** logSumExp over draws [start, end) of the log weights, folded into `acc` with logAddExp. */
const chunk = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, opts: LogMarginalOptions, start: number, end: number, acc: tf.Tensor | undefined, shared: SharedPlates,
): tf.Tensor => tf.tidy(() => {
  const lw = Array.from({ length: end - start }, (_, j) => {
    const draw = particleLogWeights(model, guide, args, opts.handlers ?? [], subSeed(opts.seed, start + j), shared.draws, shared.depth)
    // Our own copies (buffer-sharing clones), kept past the tidy: a plate's indices may be the user's tensor.
    if (shared.draws === undefined) shared.draws = new Map([...draw.plates].map(([name, p]) => [name, { ...p, indices: tf.keep(tf.clone(p.indices)) }]))
    return draw.logWeights
  })
  const lse = logSumExp(tf.stack(lw), 0)
  return acc === undefined ? lse : logAddExp(acc, lse)
})

/** WebAssembly's trap error, where the platform has WebAssembly (read off globalThis: the core's types carry no WebAssembly). */
const WasmTrap = (globalThis as { WebAssembly?: { RuntimeError: new () => Error } }).WebAssembly?.RuntimeError

/** Whether `err` is WebAssembly's own fault (a wasm kernel read or wrote outside its memory, e.g. after an allocation failed). */
const isWasmFault = (err: unknown): err is Error => WasmTrap !== undefined && err instanceof WasmTrap

/**
 * Runs one chunk; a WebAssembly fault inside it (the wasm backend's memory is at most 4 GB, and a
 * chunk's draws are all alive at once) becomes a BackendError that says which draws and what to lower.
 */
const chunkOrExplain = (run: () => tf.Tensor, start: number, batch: number, samples: number): tf.Tensor => {
  try { return run() } catch (err) {
    if (!isWasmFault(err)) throw err
    throw new BackendError(`logMarginal: the ${tf.getBackend()} backend failed with "${err.message}" in draws ${start}–${Math.min(samples, start + batch) - 1} ` +
      `(batch: ${batch} draws per chunk, all alive at once); the wasm heap holds at most 4 GB. Lower \`batch\` (e.g. ${Math.max(1, Math.floor(batch / 4))}), ` +
      'or pass fewer data points per call; the backend may be unusable after this fault: restart the program before using it again')
  }
}

/**
 * The importance-sampling estimate of log p(x_i) for every element i of the plates
 * all sites share (every data point, when each site is in the data plate), with
 * the guide q as proposal:
 *
 * log p(x_i) ≈ log (1/S) Σ_{j=1..S} w_j[i],  log w_j[i] = Σ_sites scale · (log p − log q)(z_j)[i],  z_j ~ q,
 *
 * the log weights of {@link particleLogWeights} (each site summed over its other
 * plates; a global site makes it one estimate for the batch). Draws are taken `batch` at a time and
 * combined with a running logSumExp, so 10⁴ samples need the memory of `batch`.
 * Consistent as S → ∞ (and a stochastic lower bound in expectation for finite S). The model's sites
 * marked `{ enumerate: 'parallel' }` are summed out exactly in every weight (enumElbo's contraction),
 * so a guide need not sample them.
 * The caller owns the returned tensor: one entry per element of the common plates ([N] for a data plate).
 *
 * @example
 * const lp = logMarginal(model, guide, [x], { numParticles: 5000, seed: 0 })   // shape [N]
 * lp.dispose()
 */
export const logMarginal = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, opts: LogMarginalOptions,
): tf.Tensor => {
  const batch = opts.batch ?? 100
  const samples = particlesOf(opts)
  checkCount('numParticles', samples)
  checkCount('batch', batch)
  let acc: tf.Tensor | undefined
  const shared: SharedPlates = { draws: undefined, depth: plateDepthOfRun(model, guide, args, opts) }   // every draw weighs the same data points (a subsampled plate's)
  try {
    for (let start = 0; start < samples; start += batch) {
      const next = chunkOrExplain(() => chunk(model, guide, args, opts, start, Math.min(samples, start + batch), acc, shared), start, batch, samples)
      acc?.dispose()
      acc = next
    }
    const total = acc!
    return tf.tidy(() => tf.sub(total, Math.log(samples)))
  } finally {
    acc?.dispose()
    for (const p of shared.draws?.values() ?? []) p.indices.dispose()
  }
}
