/**
 * The vector-quantisation layer of the VQ-VAE (van den Oord et al. 2017):
 * nearest-code search and lookup with the straight-through gradient and the two
 * auxiliary losses, the uniform prior over a codebook as a distribution, and
 * codebook pictures. The codebook's state and hooks are `codebook-state.ts`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { stopGradient, straightThroughGrad } from '../backend/gradient.js'
import { nearestCodes } from '../backend/nearest-codes.js'
import { scoped } from '../backend/scope.js'
import * as constraints from '../distributions/constraints.js'
import type { Distribution, Independent } from '../distributions/distribution.js'
import { makeDistribution } from '../distributions/make.js'

/**
 * The deterministic sites through which a VQ-VAE's guide hands on its quantisation: the encoder
 * outputs z_e [B, 7, 7, D] and the codes it assigned them (int32 [B, 7, 7]). The model, replayed on
 * the guide's trace, reads them there; a step that keeps them (`svi({ keep })`) gives them to the
 * codebook's after-step update. Neither is computed twice in a step.
 */
export const VQ_SITES = { encoded: 'z_e', codes: 'code_indices' } as const

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
 * The codes at `indices` (int32, any shape S) as rows of `codebook` [K, D], shape S ++ [D]: a gather,
 * whose gradient to the codebook adds each position's gradient into its code's row (`UnsortedSegmentSum`;
 * tfppl adds that kernel on wasm, which lacks it). Indices must lie in [0, K).
 *
 * @example lookupCodes(tf.tensor1d([1, 0], 'int32'), codebook)   // [[e₁], [e₀]]
 */
export const lookupCodes = (indices: tf.Tensor, codebook: tf.Tensor): tf.Tensor => {
  const codes = tf.gather(codebook, indices)
  codeRows.set(codes.dataId, codebook.dataId)
  return codes
}

/**
 * Buffers that hold rows of a codebook: each {@link lookupCodes} output's buffer → its codebook's buffer.
 * tfjs buffers are immutable (a variable's `assign` swaps in a new one) and their ids are never reused, so
 * a tensor on such a buffer — the lookup, a clone or same-shape reshape of it (a straight-through value,
 * a Delta's draw) — is a code vector of that codebook for certain (a gather copies each row exactly),
 * and the uniform prior's log-mass need not search for its nearest code.
 */
const codeRows = new WeakMap<object, object>()

/** Whether every event of `x` is known to be a row of `codebook` (see {@link codeRows}). */
const knownCodes = (x: tf.Tensor, codebook: tf.Tensor): boolean => codeRows.get(x.dataId) === codebook.dataId

/** Sums all but the leading (batch) dim. */
const perImage = (x: tf.Tensor): tf.Tensor => tf.sum(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1))

/**
 * The nearest code of each encoder output of `ze` [B, …, D] in `codebook` [K, D]: k(i) = argmin_k ‖ze_i − e_k‖²,
 * int32, the shape of `ze` without its last dim. Not differentiable (the inputs are detached).
 *
 * @example const indices = codeIndices(ze, codebook)   // ze [B, 7, 7, 16] → [B, 7, 7]
 */
export const codeIndices = scoped('codeIndices', (ze: tf.Tensor, codebook: tf.Tensor): tf.Tensor => {
  const flat = stopGradient(tf.reshape(ze, [-1, ze.shape[ze.rank - 1]!]))
  return tf.reshape(nearestCodes(flat, stopGradient(codebook)), ze.shape.slice(0, -1))
})

/** The two VQ losses per image of encoder outputs `ze` quantised to `hard` (the chosen codes, with the codebook's gradient). */
const lossesOf = (ze: tf.Tensor, hard: tf.Tensor): Pick<Quantized, 'codebookLoss' | 'commitmentLoss'> => ({
  codebookLoss: perImage(tf.square(tf.sub(stopGradient(ze), hard))),
  commitmentLoss: perImage(tf.square(tf.sub(ze, stopGradient(hard)))),
})

/**
 * The quantised latents of {@link vectorQuantize} for codes already chosen (`indices` into `codebook`):
 * the value of those codes, the gradient of `ze` (straight-through).
 *
 * @example const zq = quantizeAt(ze, codeIndices(ze, codebook), codebook)
 */
export const quantizeAt = scoped('quantizeAt', (ze: tf.Tensor, indices: tf.Tensor, codebook: tf.Tensor): tf.Tensor => straightThroughGrad(lookupCodes(indices, codebook), ze))

/**
 * The VQ losses of {@link vectorQuantize} for codes already chosen: `indices` (int32, the shape of `ze`
 * [B, …, D] without its last dim, e.g. {@link codeIndices}' or a guide's) into `codebook` [K, D].
 *
 * @example const { codebookLoss, commitmentLoss } = vqLosses(ze, indices, codebook)   // each [B]
 */
export const vqLosses = scoped('vqLosses', (ze: tf.Tensor, indices: tf.Tensor, codebook: tf.Tensor) => lossesOf(ze, lookupCodes(indices, codebook)))

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
  const indices = codeIndices(ze, codebook)
  const hard = lookupCodes(indices, codebook)
  return { indices, zq: straightThroughGrad(hard, ze), ...lossesOf(ze, hard) }
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
 * constant: no gradient flows through it. Values known to be codes (a lookup's, a guide's straight-through
 * z_q, the prior's own draws) skip the nearest-code search.
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
      if (knownCodes(x, codebook)) return tf.fill(x.shape.slice(0, -1), -Math.log(k))   // what the search below finds
      const book = stopGradient(codebook), flat = tf.reshape(stopGradient(x), [-1, d])
      const gap = tf.sum(tf.square(tf.sub(flat, lookupCodes(nearestCodes(flat, book), book))), 1)
      const allowed = tf.mul(MATCH_TOLERANCE, tf.add(1, tf.sum(tf.square(flat), 1)))
      const member = tf.reshape(tf.lessEqual(gap, allowed), x.shape.slice(0, -1))
      return tf.where(member, tf.fill(member.shape, -Math.log(k)), tf.fill(member.shape, -Infinity))
    },
    expand: (b) => uniformCodes(codebook, b),
  })
}

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
