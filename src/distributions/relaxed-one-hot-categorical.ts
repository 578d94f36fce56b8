/**
 * The RelaxedOneHotCategorical (Concrete / Gumbel-softmax) distribution of
 * Maddison et al. 2017 and Jang et al. 2017: a reparameterisable relaxation of
 * OneHotCategorical(logits) on the open simplex.
 *
 * log p(y) = log Γ(K) + (K − 1) log T + Σ_k (l_k − (T + 1) log y_k) − K logΣexp_k(l_k − T log y_k)
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo, clampProbs, logSumExp } from '../backend/numerics.js'
import { pickParam } from './bernoulli.js'
import type { LogitsOrProbs } from './bernoulli.js'
import { categoricalParams } from './categorical.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

const NAME = 'relaxedOneHotCategorical'

/** The smallest normal float32, 2^−126: draws are floored here so log y stays finite without moving Σ y. */
const FLOAT32_TINY = 1.1754943508222875e-38

/** RelaxedOneHotCategorical(temperature, logits): reparameterised, support the simplex. No closed-form moments or entropy. */
export interface RelaxedOneHotCategorical extends Distribution<tf.Tensor, true> {
  readonly _tag: 'RelaxedOneHotCategorical'
  readonly temperature: tf.Tensor
  /** Normalised logits, logits − logΣexp(logits), shape `batchShape ++ [K]`. */
  readonly logits: tf.Tensor
  readonly probs: tf.Tensor
  readonly toEvent: (n: number) => Independent<RelaxedOneHotCategorical>
  readonly expand: (batchShape: readonly number[]) => RelaxedOneHotCategorical
}

/** lgamma(K) = log (K − 1)! for a positive integer K, in doubles. */
const logFactorial = (n: number): number => {
  let s = 0
  for (let i = 2; i <= n; i++) s += Math.log(i)
  return s
}

/** Standard Gumbel draws −log(−log u), u ~ U(0, 1) clamped into [ε, 1 − ε]. */
const gumbel = (shape: readonly number[], seed: number | undefined): tf.Tensor =>
  tf.neg(tf.log(tf.neg(tf.log(clampProbs(tf.randomUniform([...shape], 0, 1, 'float32', seed))))))

/** The Concrete log density; `t` has shape batch ++ [1]. */
const logDensity = (y: tf.Tensor, logits: tf.Tensor, t: tf.Tensor, k: number): tf.Tensor => {
  const logY = tf.log(y)
  const a = tf.sub(logits, tf.mul(t, logY))                 // l_k − T log y_k
  const sum = tf.sum(tf.sub(a, logY), -1)                   // Σ_k l_k − (T + 1) log y_k
  const constant = tf.add(logFactorial(k - 1), tf.mul(k - 1, tf.log(tf.squeeze(t, [-1]))))
  return tf.add(constant, tf.sub(sum, tf.mul(k, logSumExp(a, -1))))
}

/**
 * RelaxedOneHotCategorical(T, logits) (the Concrete / Gumbel-softmax), with density w.r.t.
 * Lebesgue measure on the first K − 1 coordinates:
 * log p(y) = log Γ(K) + (K − 1) log T + Σ_k (l_k − (T + 1) log y_k) − K logΣexp_k(l_k − T log y_k).
 * `rsample` is y = softmax((l + g) / T) with g standard Gumbel, floored at 2^−126 so log y stays finite.
 * As T → 0 draws approach OneHotCategorical(logits) draws. Temperature must be > 0.
 *
 * @example
 * const d = relaxedOneHotCategorical(0.5, { logits: tf.tensor2d([[0, 1, 2], [1, 1, 1]]) })
 * d.logProb(d.rsample([10], 0))   // shape [10, 2]
 */
export const relaxedOneHotCategorical = (temperature: TensorLike, params: LogitsOrProbs): RelaxedOneHotCategorical => {
  const { kind, value } = pickParam(NAME, params)
  return build(temperature, kind, value)
}

/** The family from a temperature and one parameterisation (`to`: broadcast it to `[...batch, K]`). */
const build = (temperature: TensorLike, kind: 'logits' | 'probs', value: TensorLike, to?: number[]): RelaxedOneHotCategorical => {
  // One scope converts and validates both parameters: a failing check frees everything made before it.
  const [{ temperature: $t }, { logits, probs, k, batchShape }] = convertParams(NAME, { temperature }, (p) => {
    const c = categoricalParams(NAME, kind, value, to)
    const batchShape = broadcastShapes(NAME, [['temperature', p.temperature.shape], [`${kind} (without its last dim)`, c.batchShape]])
    checkParam(NAME, 'temperature', p.temperature, constraints.positive)
    return { logits: c.logits, probs: c.probs, k: c.numCategories, batchShape }
  })
  const tEvent = (): tf.Tensor => tf.expandDims($t, -1)
  return makeDistribution<RelaxedOneHotCategorical>({
    tag: 'RelaxedOneHotCategorical', name: NAME, fields: { temperature: $t, logits, probs },
    batchShape, eventShape: [k], reparameterized: true, support: constraints.simplex,
    draw: (s, seed) => {
      const z = tf.div(tf.add(logits, gumbel([...s, ...batchShape, k], seed)), tEvent())
      return tf.maximum(tf.softmax(z, -1), FLOAT32_TINY)
    },
    logProb: (y) => logDensity(y, logits, tEvent(), k),
    expand: (b) => build(broadcastTo($t, [...b]), kind, kind === 'logits' ? logits : probs, [...b, k]),
  })
}
