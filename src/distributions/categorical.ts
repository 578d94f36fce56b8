/**
 * The Categorical distribution over indices {0, …, K − 1}, and the parameter
 * handling, Gumbel-max sampling, entropy and KL it shares with OneHotCategorical.
 *
 * log p(k) = logits_k − log Σ_j exp(logits_j)
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { broadcastTo, clampProbs, logSumExp } from '../backend/numerics.js'
import { scoped } from '../backend/scope.js'
import { pickParam } from './bernoulli.js'
import type { LogitsOrProbs } from './bernoulli.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { asTensor, broadcastShapes } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** Categorical(probs) over {0, …, K − 1}: not reparameterisable; samples are int32 indices. */
export interface Categorical extends Distribution<tf.Tensor, false> {
  readonly _tag: 'Categorical'
  /** E[X] = Σ_k k · p_k: the mean of the index. */
  readonly mean: tf.Tensor
  /** Var[X] = Σ_k (k − E[X])² · p_k: the variance of the index. */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** Normalised log-probabilities, shape `[...batchShape, K]`. */
  readonly logits: tf.Tensor
  /** Probabilities, shape `[...batchShape, K]` (as given, or softmax of the logits). */
  readonly probs: tf.Tensor
  /** K, the size of the last parameter dim. */
  readonly numCategories: number
  readonly toEvent: (n: number) => Independent<Categorical>
  readonly expand: (batchShape: readonly number[]) => Categorical
}

/** The parameters shared by Categorical and OneHotCategorical, normalised and validated. */
export interface CategoricalParams {
  readonly kind: 'logits' | 'probs'
  /** Normalised log-probabilities `[...batch, K]`. */
  readonly logits: tf.Tensor
  /** Probabilities `[...batch, K]`. */
  readonly probs: tf.Tensor
  readonly numCategories: number
  readonly batchShape: number[]
}

/** Converts, broadcasts, validates and normalises one parameterisation (intermediates freed). */
const normalise = scoped('categorical', (dist: string, kind: 'logits' | 'probs', value: TensorLike, to: number[] | undefined) => {
  const given = asTensor(value, kind, dist)
  if (given.rank < 1 || given.shape[given.rank - 1] === 0) {
    throw new ShapeError(`${dist}: argument '${kind}' must have rank ≥ 1 with a non-empty last dim (the K categories); got shape ${showShape(given.shape)}`)
  }
  const raw = to === undefined ? given : broadcastTo(given, to)
  if (kind === 'logits') {
    checkParam(dist, 'logits', raw, constraints.real)
    const logits = tf.sub(raw, logSumExp(raw, -1, true))
    return { logits, probs: tf.exp(logits) }
  }
  checkParam(dist, 'probs', raw, constraints.simplex)
  const log = tf.log(clampProbs(raw))
  return { logits: tf.sub(log, logSumExp(log, -1, true)), probs: raw }
})

/**
 * Reads `{ logits }` or `{ probs }` (last dim = K categories), validates and
 * normalises it; `to` broadcasts the parameter to `[...batchShape, K]` first.
 *
 * @example
 * categoricalParams('categorical', 'probs', [0.2, 0.8])   // K = 2, batchShape []
 */
export const categoricalParams = (dist: string, kind: 'logits' | 'probs', value: TensorLike, to?: number[]): CategoricalParams => {
  const { logits, probs } = normalise(dist, kind, value, to)
  const shape = logits.shape
  return { kind, logits, probs, numCategories: shape[shape.length - 1] ?? 0, batchShape: shape.slice(0, -1) }
}

/** The parameter to rebuild `c` at a larger batch shape: the given parameterisation, kept. */
export const expandArgs = (c: CategoricalParams, batchShape: readonly number[]): [TensorLike, number[]] =>
  [c.kind === 'logits' ? c.logits : c.probs, [...batchShape, c.numCategories]]

/**
 * Gumbel-max: argmax(logits + G) with G = −log(−log U), shape `shape` minus its last dim (int32).
 *
 * @example gumbelMax(tf.zeros([3, 4]), [10, 3, 4], 0)   // int32 [10, 3]
 */
export const gumbelMax = (logits: tf.Tensor, shape: readonly number[], seed: number | undefined): tf.Tensor => {
  const u = clampProbs(tf.randomUniform([...shape], 0, 1, 'float32', seed))
  return tf.argMax(tf.add(logits, tf.neg(tf.log(tf.neg(tf.log(u))))), -1)
}

/**
 * One-hot float32 vectors of length k for integer indices (any k ≥ 1: `tf.oneHot` needs k ≥ 2;
 * for k ≥ 2 it is used, as the broadcast comparison is slow on wasm).
 *
 * @example indicesToOneHot(tf.tensor1d([0, 2], 'int32'), 3)   // [[1, 0, 0], [0, 0, 1]]
 */
export const indicesToOneHot = (x: tf.Tensor, k: number): tf.Tensor =>
  k >= 2 ? tf.cast(tf.oneHot(tf.cast(x, 'int32'), k), 'float32')   // wasm's OneHot writes int32 bits whatever the dtype
    : tf.cast(tf.equal(tf.expandDims(tf.cast(x, 'int32'), -1), tf.range(0, k, 1, 'int32')), 'float32')

/** H = −Σ_k p_k log p_k over the last dim. @example categoricalEntropy(c) */
export const categoricalEntropy = (c: { readonly probs: tf.Tensor; readonly logits: tf.Tensor }): tf.Tensor =>
  tf.neg(tf.sum(tf.mul(c.probs, c.logits), -1))

type HasCategories = Distribution & { readonly probs: tf.Tensor; readonly logits: tf.Tensor; readonly numCategories: number }

/**
 * KL(p ‖ q) = Σ_k p_k (log p_k − log q_k) over the last dim, for families with normalised logits.
 *
 * @example klCategories('klCategoricalCategorical', p, q)
 */
export const klCategories = (fn: string, p: HasCategories, q: HasCategories): tf.Tensor => {
  if (p.numCategories !== q.numCategories) {
    throw new ShapeError(`${fn}: p and q must have the same number of categories; got ${p.numCategories} and ${q.numCategories}`)
  }
  broadcastShapes(fn, [['p', p.batchShape], ['q', q.batchShape]])
  return tf.sum(tf.mul(p.probs, tf.sub(p.logits, q.logits)), -1)
}

const build = (kind: 'logits' | 'probs', value: TensorLike, to?: number[]): Categorical => {
  const c = categoricalParams('categorical', kind, value, to)
  const { logits, probs, numCategories: k, batchShape } = c
  const indexMean = (): tf.Tensor => tf.sum(tf.mul(probs, tf.range(0, k, 1, 'float32')), -1)
  return makeDistribution<Categorical>({
    tag: 'Categorical', name: 'categorical', fields: { logits, probs, numCategories: k },
    batchShape, eventShape: [], reparameterized: false, support: constraints.integerInterval(0, k - 1),
    draw: (s, seed) => gumbelMax(logits, [...s, ...batchShape, k], seed),
    logProb: (x) => tf.sum(tf.mul(indicesToOneHot(x, k), logits), -1),
    mean: indexMean,
    variance: () => {
      const dev = tf.sub(tf.range(0, k, 1, 'float32'), tf.expandDims(indexMean(), -1))
      return tf.sum(tf.mul(probs, tf.square(dev)), -1)
    },
    entropy: () => categoricalEntropy(c),
    enumerateSupport: () => tf.range(0, k, 1, 'int32'),
    expand: (b) => build(kind, ...expandArgs(c, b)),
  })
}

/**
 * Categorical over {0, …, K − 1}, given `{ logits }` or `{ probs }` (exactly one) whose last dim is K:
 * log p(k) = logits_k − log Σ_j exp(logits_j). `probs` must lie on the simplex (Σ = 1 within 1e-5);
 * their clamped logs are used as logits. Samples are int32 (Gumbel-max); `mean` and `variance`
 * are the moments of the index k; `entropy` = −Σ p log p.
 *
 * @example
 * const d = categorical({ probs: tf.tensor2d([[0.2, 0.8], [0.5, 0.5]]) })   // batchShape [2], K = 2
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const categorical = (params: LogitsOrProbs): Categorical => {
  const { kind, value } = pickParam('categorical', params)
  return build(kind, value)
}

/**
 * KL(p ‖ q) = Σ_k p_k (log p_k − log q_k); shape = broadcast of the batch shapes.
 * Zero probabilities are clamped to ε, so KL is finite even where q_k = 0 < p_k.
 *
 * @example klCategoricalCategorical(categorical({ probs: [0.5, 0.5] }), categorical({ logits: [0, 1] }))
 */
export const klCategoricalCategorical = scoped('klCategoricalCategorical', (p: Categorical, q: Categorical): tf.Tensor =>
  klCategories('klCategoricalCategorical', p, q))
