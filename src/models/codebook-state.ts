/**
 * A VQ-VAE's codebook as state kept between steps: the exponential-moving-average
 * update, code usage per dead-code window and per epoch, the data-dependent
 * initialisation and dead-code restarts, and the hooks that run them after each
 * step, reading the step's own encoder outputs and code assignments.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { scoped } from '../backend/scope.js'
import { nearestCodes } from '../backend/nearest-codes.js'
import { VQ_SITES } from './vector-quantize.js'

/** The state of an EMA codebook: smoothed assignment counts N [K], summed outputs m [K, D], codes [K, D]. */
export type EmaCodebook = {
  readonly counts: tf.Tensor
  readonly sums: tf.Tensor
  readonly codebook: tf.Tensor
}

/**
 * How many of `indices` (int32 [N], each in [0, k)) name each code: n_k = #{i: k(i) = k}, float32 [k].
 *
 * @example codeCounts(tf.tensor1d([2, 0, 2], 'int32'), 3)   // [1, 0, 2]
 */
export const codeCounts = (indices: tf.Tensor, k: number): tf.Tensor => tf.unsortedSegmentSum(tf.ones(indices.shape), indices as tf.Tensor1D, k)

/**
 * One exponential-moving-average codebook update (the paper's appendix) from a batch of
 * encoder outputs `flat` [N, D] assigned to codes `indices` [N]:
 * N_k ← γ N_k + (1 − γ) n_k,  m_k ← γ m_k + (1 − γ) Σ_{i: k(i) = k} z_i,
 * e_k = m_k / Ñ_k with Laplace-smoothed counts Ñ_k = (N_k + ε) / (n + K ε) · n, n = Σ_k N_k.
 *
 * @example const next = emaCodebookUpdate(state, flat, indices, 0.99)
 */
export const emaCodebookUpdate = scoped('emaCodebookUpdate', (state: EmaCodebook, flat: tf.Tensor, indices: tf.Tensor, decay: number, epsilon: number = 1e-5): EmaCodebook => {
  const k = state.counts.shape[0]!
  const counts = tf.add(tf.mul(decay, state.counts), tf.mul(1 - decay, codeCounts(indices, k)))
  const sums = tf.add(tf.mul(decay, state.sums), tf.mul(1 - decay, tf.unsortedSegmentSum(flat, indices as tf.Tensor1D, k)))
  const n = tf.sum(counts)
  const smoothed = tf.mul(tf.div(tf.add(counts, epsilon), tf.add(n, k * epsilon)), n)
  return { counts, sums, codebook: tf.div(sums, tf.expandDims(smoothed, 1)) }
})

/** Options of {@link codebookState}. */
export interface CodebookStateOptions {
  readonly numCodes: number
  readonly codeDim: number
  /** EMA updates in `afterStep` (the codebook is then not trainable). */
  readonly ema: boolean
  readonly decay: number
  readonly seed: number | undefined
  /** Steps per dead-code window (default 50). */
  readonly restartEvery?: number
  /** Codes used less than this fraction of a uniform share in a window are restarted (default 0.3). */
  readonly restartBelow?: number
}

/** A VQ-VAE's codebook with its usage counts, EMA statistics and hooks; it owns its variables. */
export interface CodebookState {
  /** [K, D], initialised U(−1/K, 1/K), then from encoder outputs after the first step; trainable unless `ema`. */
  readonly codebook: tf.Variable
  /**
   * Everything the hooks keep from one call to the next, as non-trainable variables by name, so that a
   * checkpoint holding them resumes a run exactly: with `ema`, `codebook` [K, D], `emaCounts` N [K] and
   * `emaSums` m [K, D] (a loss-mode codebook is a trainable variable instead); always `windowUsage` [K]
   * (assignments in the current dead-code window), `epochUsage` [K] (this epoch's so far), `lastUsage` [K]
   * (the last closed epoch's), and the int32 scalars `steps` (steps counted in all: it drives the data-dependent
   * initialisation, the restart windows and their seeds) and `epochSteps` (steps in this epoch).
   */
  readonly buffers: Readonly<Record<string, tf.Variable>>
  /** Assignments per code over the last full epoch (the current epoch's so far before one ends). */
  readonly usage: () => number[]
  /**
   * After a step on the batch `args` (`[x]`): counts its code assignments; with `ema`, applies
   * {@link emaCodebookUpdate}; restarts dead codes at window ends. `kept` are the step's values of the
   * sites {@link VQ_SITES} (`svi({ keep })`); without them the batch is encoded and searched again.
   */
  readonly afterStep: (args: readonly tf.Tensor[], kept?: Readonly<Record<string, tf.Tensor>>) => void
  /** Closes the previous epoch's usage (for {@link CodebookState.usage}). */
  readonly beforeEpoch: (epoch: number) => void
  readonly dispose: () => void
}

/** A variable holding `init` (the initial tensor is released). */
const fresh = (init: tf.Tensor, trainable = false): tf.Variable => {
  const v = tf.variable(init, trainable)
  init.dispose()
  return v
}

/** The variables a dead-code restart rewrites. */
interface Stats { readonly codebook: tf.Variable; readonly counts: tf.Variable; readonly sums: tf.Variable }

/** Every variable of a codebook state. */
interface Vars extends Stats {
  readonly windowUsage: tf.Variable
  readonly epochUsage: tf.Variable
  readonly lastUsage: tf.Variable
  readonly steps: tf.Variable
  readonly epochSteps: tf.Variable
}

const createVars = (o: CodebookStateOptions): Vars => {
  const k = o.numCodes
  const codebook = fresh(tf.randomUniform([k, o.codeDim], -1 / k, 1 / k, 'float32', o.seed), !o.ema)
  return {
    codebook, counts: fresh(tf.ones([k])), sums: fresh(tf.clone(codebook)),
    windowUsage: fresh(tf.zeros([k])), epochUsage: fresh(tf.zeros([k])), lastUsage: fresh(tf.zeros([k])),
    steps: fresh(tf.scalar(0, 'int32')), epochSteps: fresh(tf.scalar(0, 'int32')),
  }
}

/** Sets each dead code to a random row of `batch` [N, D] (N_k = 1, m_k = e_k for the EMA statistics). */
const restartDead = (v: Stats, batch: tf.Tensor, dead: readonly boolean[], seed: number | undefined): void => tf.tidy(() => {
  const [k, d] = v.codebook.shape as [number, number]
  const rows = tf.gather(batch, tf.randomUniform([k], 0, batch.shape[0]!, 'int32', seed))
  const mask = tf.tensor1d(dead.map((b) => (b ? 1 : 0)), 'bool')
  const wide = tf.broadcastTo(tf.expandDims(mask, 1), [k, d])
  v.codebook.assign(tf.where(wide, rows, v.codebook))
  v.sums.assign(tf.where(wide, rows, v.sums))
  v.counts.assign(tf.where(mask, tf.onesLike(v.counts), v.counts))
})

/** Codes used less than `fraction` of a uniform share of `counts`' total. */
const rarelyUsed = (counts: readonly number[], fraction: number): boolean[] => {
  const share = counts.reduce((a, b) => a + b, 0) / counts.length
  return counts.map((c) => c < fraction * share)
}

/** A step's encoder outputs `flat` [N, D] and the codes it assigned them, `indices` [N]. */
interface Assignments { readonly flat: tf.Tensor; readonly indices: tf.Tensor }

/**
 * The step's assignments: its kept sites when given (encoder and codebook as the step saw them,
 * before its update), else the batch `x` encoded and searched now; undefined without either.
 */
const assignments = (d: number, encoder: { readonly apply: (x: tf.Tensor) => tf.Tensor }, codebook: tf.Tensor, x: tf.Tensor | undefined, kept: Readonly<Record<string, tf.Tensor>> | undefined): Assignments | undefined => {
  const ze = kept?.[VQ_SITES.encoded], codes = kept?.[VQ_SITES.codes]
  if (ze !== undefined && codes !== undefined) {
    if (ze.shape.at(-1) !== d || ze.size !== codes.size * d) throw new InvalidArgumentError(`codebookState.afterStep: the kept '${VQ_SITES.encoded}' [${ze.shape.join(', ')}] and '${VQ_SITES.codes}' [${codes.shape.join(', ')}] are not D = ${d} encoder outputs and one code each`)
    return { flat: tf.reshape(ze, [-1, d]), indices: tf.reshape(codes, [-1]) }
  }
  if (x === undefined) return undefined
  const flat = tf.reshape(encoder.apply(x), [-1, d])
  return { flat, indices: nearestCodes(flat, codebook) }
}

/** The seed of the restarts after `step` steps. */
const seedAt = (seed: number | undefined, step: number) => (seed === undefined ? undefined : (seed ^ Math.imul(step, 0x9e3779b1)) >>> 0)

/**
 * The bookkeeping after step `done + 1` (inside a tidy): the data-dependent initialisation when asked
 * (every code set to a random encoder output of the step, which then chooses its codes again among
 * them), usage counts, the EMA update, the restarts at a window's end, the step counters.
 */
const update = (o: CodebookStateOptions, v: Vars, step: Assignments, done: number, initialise: boolean): void => {
  const k = o.numCodes
  if (initialise) restartDead(v, step.flat, Array.from({ length: k }, () => true), seedAt(o.seed, 0))
  const indices = initialise ? nearestCodes(step.flat, v.codebook) : step.indices
  const counted = codeCounts(indices, k)
  v.epochUsage.assign(tf.add(v.epochUsage, counted))
  v.windowUsage.assign(tf.add(v.windowUsage, counted))
  if (o.ema) {
    const next = emaCodebookUpdate(v, step.flat, indices, o.decay)
    v.counts.assign(next.counts); v.sums.assign(next.sums); v.codebook.assign(next.codebook)
  }
  if ((done + 1) % (o.restartEvery ?? 50) === 0) {
    const dead = rarelyUsed(Array.from(v.windowUsage.dataSync()), o.restartBelow ?? 0.3)
    if (dead.includes(true)) restartDead(v, step.flat, dead, seedAt(o.seed, done + 1))
    v.windowUsage.assign(tf.zerosLike(v.windowUsage))
  }
  v.steps.assign(tf.scalar(done + 1, 'int32'))
  v.epochSteps.assign(tf.add(v.epochSteps, tf.scalar(1, 'int32')))
}

/**
 * The codebook and its bookkeeping for a VQ-VAE whose encoder is `encoder` (x → z_e [B, …, D]).
 * `afterStep` counts the step's code assignments and (with `ema`) moves the codebook toward the
 * step's encoder outputs: those the step computed, when it kept the sites {@link VQ_SITES}
 * (`svi({ keep })`, then `afterStep([x], s.takeKept())`), else the batch encoded again. After the first
 * step every code is set to a random output of the encoder that step updated, the batch encoded anew
 * (data-dependent initialisation, once per run); after every `restartEvery` steps,
 * codes used less than `restartBelow` of a uniform share in that window are set to random encoder
 * outputs of the current batch (restarted codes split crowded clusters). All of this state lives in
 * `buffers`, which a checkpoint saves and restores: a resumed run continues the step count, the windows
 * and the EMA statistics where they were. Restored from a checkpoint written before the buffers were
 * saved (the step count reads 0 at an epoch after the first), a loss-mode codebook (a restored param)
 * is not re-initialised; an EMA one (not in such checkpoints) is, from the first batch, as in a new run.
 *
 * @example
 * const state = codebookState({ numCodes: 64, codeDim: 16, ema: true, decay: 0.99, seed: 1 }, encoder)
 * state.afterStep([x]); state.beforeEpoch(2); state.usage()
 */
export const codebookState = (o: CodebookStateOptions, encoder: { readonly apply: (x: tf.Tensor) => tf.Tensor }): CodebookState => {
  const v = createVars(o)
  const { codebook, windowUsage, epochUsage, lastUsage, steps, epochSteps } = v
  const buffers = { ...(o.ema && { codebook, emaCounts: v.counts, emaSums: v.sums }), windowUsage, epochUsage, lastUsage, steps, epochSteps }
  // Set by a resume from a checkpoint without buffers in loss mode: the restored codebook is kept.
  let keepCodebook = false
  const count = (t: tf.Variable): number => t.dataSync()[0]!   // read at each call: a checkpoint may have restored it since
  const afterStep = (args: readonly tf.Tensor[], kept?: Readonly<Record<string, tf.Tensor>>): void => {
    if (args[0] === undefined && kept === undefined) return
    const done = count(steps), initialise = done === 0 && !keepCodebook
    tf.tidy(() => {
      // The initialisation (once per run) encodes the batch anew: the codes start where the updated encoder is, not a step behind.
      const step = assignments(o.codeDim, encoder, codebook, args[0], initialise && args[0] !== undefined ? undefined : kept)
      if (step !== undefined) update(o, v, step, done, initialise)
    })
  }
  const beforeEpoch = (epoch: number): void => {
    if (epoch > 1 && !o.ema && count(steps) === 0) keepCodebook = true
    if (count(epochSteps) === 0) return
    tf.tidy(() => {
      lastUsage.assign(tf.clone(epochUsage))
      epochUsage.assign(tf.zerosLike(epochUsage))
      epochSteps.assign(tf.scalar(0, 'int32'))
    })
  }
  return {
    codebook, buffers, afterStep, beforeEpoch,
    // An epoch has closed once some counted steps lie before the current epoch.
    usage: () => Array.from((count(steps) > count(epochSteps) ? lastUsage : epochUsage).dataSync()),
    dispose: () => { for (const t of Object.values(v)) t.dispose() },
  }
}
