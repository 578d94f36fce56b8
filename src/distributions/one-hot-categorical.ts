/**
 * The OneHotCategorical distribution: a Categorical whose values are one-hot
 * vectors of length K (event shape [K]).
 *
 * log p(x) = Σ_k x_k (logits_k − log Σ_j exp(logits_j))
 */
import * as tf from '@tensorflow/tfjs-core'
import { scoped } from '../backend/scope.js'
import { pickParam } from './bernoulli.js'
import type { LogitsOrProbs } from './bernoulli.js'
import { categoricalEntropy, categoricalParams, expandArgs, gumbelMax, indicesToOneHot, klCategories } from './categorical.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import type { TensorLike } from './shape.js'

/** OneHotCategorical(probs): float32 one-hot vectors of length K; not reparameterisable. */
export interface OneHotCategorical extends Distribution<tf.Tensor, false> {
  readonly _tag: 'OneHotCategorical'
  /** E[X] = probs, shape `[...batchShape, K]`. */
  readonly mean: tf.Tensor
  /** Var[X_k] = p_k (1 − p_k), elementwise. */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** Normalised log-probabilities, shape `[...batchShape, K]`. */
  readonly logits: tf.Tensor
  /** Probabilities, shape `[...batchShape, K]`. */
  readonly probs: tf.Tensor
  /** K, the event size. */
  readonly numCategories: number
  readonly toEvent: (n: number) => Independent<OneHotCategorical>
  readonly expand: (batchShape: readonly number[]) => OneHotCategorical
}

const build = (kind: 'logits' | 'probs', value: TensorLike, to?: number[]): OneHotCategorical => {
  const c = categoricalParams('oneHotCategorical', kind, value, to)
  const { logits, probs, numCategories: k, batchShape } = c
  return makeDistribution<OneHotCategorical>({
    tag: 'OneHotCategorical', name: 'oneHotCategorical', fields: { logits, probs, numCategories: k },
    batchShape, eventShape: [k], reparameterized: false, support: constraints.oneHot,
    draw: (s, seed) => indicesToOneHot(gumbelMax(logits, [...s, ...batchShape, k], seed), k),
    logProb: (x) => tf.sum(tf.mul(tf.cast(x, 'float32'), logits), -1),
    mean: () => tf.clone(probs),
    variance: () => tf.mul(probs, tf.sub(1, probs)),
    entropy: () => categoricalEntropy(c),
    enumerateSupport: () => indicesToOneHot(tf.range(0, k, 1, 'int32'), k),
    expand: (b) => build(kind, ...expandArgs(c, b)),
  })
}

/**
 * OneHotCategorical over the K unit vectors, given `{ logits }` or `{ probs }` (exactly one)
 * whose last dim is K: log p(x) = Σ_k x_k · log p_k. Samples are float32 one-hot vectors;
 * `mean` = probs, `variance` = probs(1 − probs), `entropy` = −Σ p log p.
 *
 * @example
 * const d = oneHotCategorical({ logits: tf.zeros([2, 3]) })   // batchShape [2], eventShape [3]
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const oneHotCategorical = (params: LogitsOrProbs): OneHotCategorical => {
  const { kind, value } = pickParam('oneHotCategorical', params)
  return build(kind, value)
}

/**
 * KL(p ‖ q) = Σ_k p_k (log p_k − log q_k); shape = broadcast of the batch shapes.
 *
 * @example klOneHotOneHot(oneHotCategorical({ probs: [0.5, 0.5] }), oneHotCategorical({ logits: [0, 1] }))
 */
export const klOneHotOneHot = scoped('klOneHotOneHot', (p: OneHotCategorical, q: OneHotCategorical): tf.Tensor =>
  klCategories('klOneHotOneHot', p, q))
