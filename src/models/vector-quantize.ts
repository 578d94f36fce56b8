/**
 * The vector-quantisation layer of the VQ-VAE (van den Oord et al. 2017):
 * nearest-code lookup with the straight-through gradient and the two auxiliary
 * losses, the uniform prior over a codebook as a distribution, the EMA
 * codebook update, and codebook pictures.
 */
import * as tf from '@tensorflow/tfjs-core'
import { stopGradient, straightThroughGrad } from '../backend/gradient.js'
import { scoped } from '../backend/scope.js'
import { indicesToOneHot } from '../distributions/categorical.js'
import * as constraints from '../distributions/constraints.js'
import type { Distribution, Independent } from '../distributions/distribution.js'
import { makeDistribution } from '../distributions/make.js'

/** What {@link vectorQuantize} returns; the losses are sums per image, shape [B]. */
export type Quantized = {
  /** The nearest code at every position, int32, shape of `ze` without its last dim. */
  readonly indices: tf.Tensor
  /** The quantised latents: the value of the nearest codes, the gradient of `ze` (straight-through). */
  readonly zq: tf.Tensor
  /** ‖sg(ze) − zq‖² per image: moves the codes toward the encoder outputs. */
  readonly codebookLoss: tf.Tensor
  /** ‖ze − sg(zq)‖² per image: keeps the encoder outputs near their codes. */
  readonly commitmentLoss: tf.Tensor
}

/**
 * The nearest code of each row of `flat` [N, D] in `codebook` [K, D] (int32 [N]):
 * argmin_k ‖z‖² − 2 z·e_k + ‖e_k‖², the cross term one plain product with the
 * codebook transposed explicitly (wasm's transposed matMul flags are slow).
 * Not differentiable (an argmin); callers detach the inputs.
 *
 * @example nearestCodes(tf.tensor2d([[0.9, 0]]), tf.tensor2d([[0, 0], [1, 0]]))   // [1]
 */
export const nearestCodes = (flat: tf.Tensor, codebook: tf.Tensor): tf.Tensor => {
  const zz = tf.sum(tf.square(flat), 1, true)
  const ee = tf.sum(tf.square(codebook), 1)
  const cross = tf.matMul(flat, tf.transpose(codebook))
  return tf.argMin(tf.add(tf.sub(zz, tf.mul(2, cross)), ee), 1)
}

/**
 * The codes at `indices` (int32, any shape S) as rows of `codebook` [K, D], shape S ++ [D]:
 * a one-hot product, so the gradient to the codebook needs no scatter kernel (wasm has none).
 *
 * @example lookupCodes(tf.tensor1d([1, 0], 'int32'), codebook)   // [[e₁], [e₀]]
 */
export const lookupCodes = (indices: tf.Tensor, codebook: tf.Tensor): tf.Tensor => {
  const [k, d] = codebook.shape as [number, number]
  const rows = tf.matMul(indicesToOneHot(tf.reshape(indices, [-1]), k), codebook)
  return tf.reshape(rows, [...indices.shape, d])
}

/** Sums all but the leading (batch) dim. */
const perImage = (x: tf.Tensor): tf.Tensor => tf.sum(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1))

/**
 * Vector quantisation of encoder outputs `ze` [B, …, D] with `codebook` [K, D]:
 * k(i) = argmin_k ‖ze_i − e_k‖², zq_i = e_{k(i)}, returned with the straight-through
 * gradient (value zq, ∂/∂ze = I); codebookLoss = Σ_i ‖sg(ze_i) − zq_i‖² (gradient to the
 * codebook only), commitmentLoss = Σ_i ‖ze_i − sg(zq_i)‖² (gradient to `ze` only), per image.
 *
 * @example
 * const { indices, zq, codebookLoss, commitmentLoss } = vectorQuantize(ze, codebook)   // ze [B, 7, 7, 16], codebook [64, 16]
 */
export const vectorQuantize = scoped('vectorQuantize', (ze: tf.Tensor, codebook: tf.Tensor): Quantized => {
  const d = ze.shape[ze.rank - 1]!
  const flat = stopGradient(tf.reshape(ze, [-1, d]))
  const indices = tf.reshape(nearestCodes(flat, stopGradient(codebook)), ze.shape.slice(0, -1))
  const hard = lookupCodes(indices, codebook)
  return {
    indices,
    zq: straightThroughGrad(hard, ze),
    codebookLoss: perImage(tf.square(tf.sub(stopGradient(ze), hard))),
    commitmentLoss: perImage(tf.square(tf.sub(ze, stopGradient(hard)))),
  }
})

/** The uniform distribution over the rows of a codebook, at every batch position. */
export interface UniformCodes extends Distribution<tf.Tensor, false> {
  readonly _tag: 'UniformCodes'
  readonly codebook: tf.Tensor
  readonly numCodes: number
  readonly toEvent: (n: number) => Independent<UniformCodes>
  readonly expand: (batchShape: readonly number[]) => UniformCodes
}

/**
 * x counts as the code e when ‖x − e‖² ≤ 1e-5·(1 + ‖x‖²): the nearest code is found by
 * ‖x‖² − 2x·e + ‖e‖², whose float32 cancellation error grows with ‖x‖², so of two codes closer
 * than that it may pick the other one (the quantised values themselves are exact copies).
 */
const MATCH_TOLERANCE = 1e-5

/**
 * The uniform prior over the K codes of `codebook` [K, D] at each position of `batchShape`:
 * values are code vectors (event [D]); log p(x) = −log K where x is a row of the codebook
 * (‖x − e‖² ≤ 1e-5·(1 + ‖x‖²)), −∞ elsewhere. Draws pick codes uniformly. The log-mass is piecewise
 * constant: no gradient flows through it.
 *
 * @example
 * const prior = uniformCodes(codebook, [B, 7, 7]).toEvent(2)   // log p = −49 log K per image
 */
export const uniformCodes = (codebook: tf.Tensor, batchShape: readonly number[]): UniformCodes => {
  const [k, d] = codebook.shape as [number, number]
  return makeDistribution<UniformCodes>({
    tag: 'UniformCodes', name: 'uniformCodes', fields: { codebook, numCodes: k },
    batchShape, eventShape: [d], reparameterized: false, support: constraints.independent(constraints.real, 1),
    draw: (s, seed) => lookupCodes(tf.randomUniform([...s, ...batchShape], 0, k, 'int32', seed), stopGradient(codebook)),
    logProb: (x) => {
      const book = stopGradient(codebook), flat = tf.reshape(stopGradient(x), [-1, d])
      const gap = tf.sum(tf.square(tf.sub(flat, lookupCodes(nearestCodes(flat, book), book))), 1)
      const allowed = tf.mul(MATCH_TOLERANCE, tf.add(1, tf.sum(tf.square(flat), 1)))
      const member = tf.reshape(tf.lessEqual(gap, allowed), x.shape.slice(0, -1))
      return tf.where(member, tf.fill(member.shape, -Math.log(k)), tf.fill(member.shape, -Infinity))
    },
    expand: (b) => uniformCodes(codebook, b),
  })
}

/** The state of an EMA codebook: smoothed assignment counts N [K], summed outputs m [K, D], codes [K, D]. */
export type EmaCodebook = {
  readonly counts: tf.Tensor
  readonly sums: tf.Tensor
  readonly codebook: tf.Tensor
}

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
  const onehot = indicesToOneHot(indices, k)
  const counts = tf.add(tf.mul(decay, state.counts), tf.mul(1 - decay, tf.sum(onehot, 0)))
  const sums = tf.add(tf.mul(decay, state.sums), tf.mul(1 - decay, tf.matMul(tf.transpose(onehot), flat)))
  const n = tf.sum(counts)
  const smoothed = tf.mul(tf.div(tf.add(counts, epsilon), tf.add(n, k * epsilon)), n)
  return { counts, sums, codebook: tf.div(sums, tf.expandDims(smoothed, 1)) }
})

/**
 * Each code vector of `codebook` [K, D] as an s × s heat map (s = ⌈√D⌉, row-major, zero-padded),
 * normalised over the whole codebook to [0, 1]: (e − min) / (max − min). Shape [K, s, s, 1].
 *
 * @example codebookHeatmaps(codebook)   // [64, 4, 4, 1] for D = 16
 */
export const codebookHeatmaps = scoped('codebookHeatmaps', (codebook: tf.Tensor): tf.Tensor4D => {
  const [k, d] = codebook.shape as [number, number]
  const s = Math.ceil(Math.sqrt(d))
  const lo = tf.min(codebook), range = tf.maximum(tf.sub(tf.max(codebook), lo), 1e-12)
  const unit = tf.div(tf.sub(codebook, lo), range)
  return tf.reshape(tf.pad(unit, [[0, 0], [0, s * s - d]]), [k, s, s, 1]) as tf.Tensor4D
})

/**
 * The perplexity of code usage, exp(H(p)) with p = counts / Σ counts (1 when nothing is counted):
 * 1 when one code takes everything, K when all K codes are used equally.
 *
 * @example perplexity([5, 5, 0, 0])   // 2
 */
export const perplexity = (counts: readonly number[]): number => {
  const total = counts.reduce((a, b) => a + b, 0)
  if (!(total > 0)) return 1
  return Math.exp(-counts.reduce((h, c) => (c > 0 ? h + (c / total) * Math.log(c / total) : h), 0))
}

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
  /** Counts the batch's assignments; with `ema`, applies {@link emaCodebookUpdate}; restarts dead codes at window ends. */
  readonly afterStep: (args: readonly tf.Tensor[]) => void
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

/**
 * The codebook and its bookkeeping for a VQ-VAE whose encoder is `encoder` (x → z_e [B, …, D]).
 * `afterStep` re-encodes the step's batch with the updated encoder, counts its assignments and
 * (with `ema`) moves the codebook. After the first step every code is set to a random encoder
 * output (data-dependent initialisation); after every `restartEvery` steps, codes used less than
 * `restartBelow` of a uniform share in that window are set to random encoder outputs of the current
 * batch (restarted codes split crowded clusters). All of this state lives in `buffers`, which a
 * checkpoint saves and restores: a resumed run continues the step count, the windows and the EMA
 * statistics where they were. Restored from a checkpoint written before the buffers were saved (the
 * step count reads 0 at an epoch after the first), a loss-mode codebook (a restored param) is not
 * re-initialised; an EMA one (not in such checkpoints) is, from the first batch, as in a new run.
 *
 * @example
 * const state = codebookState({ numCodes: 64, codeDim: 16, ema: true, decay: 0.99, seed: 1 }, encoder)
 * state.afterStep([x]); state.beforeEpoch(2); state.usage()
 */
export const codebookState = (o: CodebookStateOptions, encoder: { readonly apply: (x: tf.Tensor) => tf.Tensor }): CodebookState => {
  const k = o.numCodes, d = o.codeDim, every = o.restartEvery ?? 50
  const codebook = fresh(tf.randomUniform([k, d], -1 / k, 1 / k, 'float32', o.seed), !o.ema)
  const stats: Stats = { codebook, counts: fresh(tf.ones([k])), sums: fresh(tf.clone(codebook)) }
  const windowUsage = fresh(tf.zeros([k])), epochUsage = fresh(tf.zeros([k])), lastUsage = fresh(tf.zeros([k]))
  const steps = fresh(tf.scalar(0, 'int32')), epochSteps = fresh(tf.scalar(0, 'int32'))
  const buffers = { ...(o.ema && { codebook, emaCounts: stats.counts, emaSums: stats.sums }), windowUsage, epochUsage, lastUsage, steps, epochSteps }
  // Set by a resume from a checkpoint without buffers in loss mode: the restored codebook is kept.
  let keepCodebook = false
  const count = (v: tf.Variable): number => v.dataSync()[0]!   // read at each call: a checkpoint may have restored it since
  const seedAt = (step: number) => (o.seed === undefined ? undefined : (o.seed ^ Math.imul(step, 0x9e3779b1)) >>> 0)
  const afterStep = (args: readonly tf.Tensor[]): void => {
    const x = args[0]
    if (x === undefined) return
    const done = count(steps)
    tf.tidy(() => {
      const flat = tf.reshape(encoder.apply(x), [-1, d])
      if (done === 0 && !keepCodebook) restartDead(stats, flat, Array.from({ length: k }, () => true), seedAt(0))
      const indices = nearestCodes(flat, codebook)
      const counted = tf.sum(indicesToOneHot(indices, k), 0)
      epochUsage.assign(tf.add(epochUsage, counted))
      windowUsage.assign(tf.add(windowUsage, counted))
      if (o.ema) {
        const next = emaCodebookUpdate(stats, flat, indices, o.decay)
        stats.counts.assign(next.counts); stats.sums.assign(next.sums); codebook.assign(next.codebook)
      }
      if ((done + 1) % every === 0) {
        const dead = rarelyUsed(Array.from(windowUsage.dataSync()), o.restartBelow ?? 0.3)
        if (dead.includes(true)) restartDead(stats, flat, dead, seedAt(done + 1))
        windowUsage.assign(tf.zerosLike(windowUsage))
      }
      steps.assign(tf.scalar(done + 1, 'int32'))
      epochSteps.assign(tf.add(epochSteps, tf.scalar(1, 'int32')))
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
    dispose: () => { for (const v of new Set([codebook, stats.counts, stats.sums, ...Object.values(buffers)])) v.dispose() },
  }
}
