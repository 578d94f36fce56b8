/**
 * The Multinomial distribution: counts of `totalCount` independent Categorical(p) draws over
 * K categories (event dim 1), parameterised by logits or probs.
 *
 * log p(x) = log n! − Σᵢ log xᵢ! + Σᵢ xᵢ log pᵢ,  Σᵢ xᵢ = n
 */
import * as tf from '@tensorflow/tfjs-core'
import { scoped } from '../backend/scope.js'
import { pickParam } from './bernoulli.js'
import type { LogitsOrProbs } from './bernoulli.js'
import { broadcastIfNeeded, sampleBinomial } from './binomial.js'
import { categoricalParams } from './categorical.js'
import type { CategoricalParams } from './categorical.js'
import * as constraints from './constraints.js'
import type { Constraint } from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { bd0, emptyDraw, seedStream, stirlerr } from './poisson.js'
import { asTensor, broadcastShapes } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam, isValidating } from './validation.js'

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)

/** Multinomial(totalCount, probs) over count vectors summing to totalCount: not reparameterised; float32 draws. */
export interface Multinomial extends Distribution<tf.Tensor, false> {
  readonly _tag: 'Multinomial'
  /** n·p, shape `[...batchShape, K]`. */
  readonly mean: tf.Tensor
  /** n·p(1 − p) (the diagonal of the covariance), shape `[...batchShape, K]`. */
  readonly variance: tf.Tensor
  /** n, the number of draws (a non-negative integer per batch element). */
  readonly totalCount: tf.Tensor
  /** Normalised log-probabilities, shape `[...batchShape, K]`. */
  readonly logits: tf.Tensor
  /** Probabilities, shape `[...batchShape, K]` (as given, or softmax of the logits). */
  readonly probs: tf.Tensor
  /** K, the size of the last parameter dim. */
  readonly numCategories: number
  readonly toEvent: (n: number) => Independent<Multinomial>
  readonly expand: (batchShape: readonly number[]) => Multinomial
}

/**
 * Count vectors over the last dim: non-negative integers summing to `n` (broadcast against the batch dims).
 *
 * @example multinomialSupport(tf.scalar(10)).check(tf.tensor1d([3, 7]))   // true
 */
export const multinomialSupport = (n: tf.Tensor): Constraint => ({
  _tag: 'integerRange', describe: 'integer x ≥ 0 with Σ x = totalCount over the last dim', eventDims: 1,
  check: (x) => tf.logicalAnd(tf.all(constraints.nonNegativeInteger.check(x), -1), tf.equal(tf.sum(x, -1), n)),
})

/**
 * log p(x) in Loader's saddle-point form (Σx = n; no cancellation of large log-factorials):
 * stirlerr(n) + ½ log 2πn − Σ_{xᵢ>0} [stirlerr(xᵢ) + ½ log 2πxᵢ] − Σᵢ bd0(xᵢ, n pᵢ); 0 when n = 0.
 */
const multinomialLogPmf = (x: tf.Tensor, n: tf.Tensor, logits: tf.Tensor, integer: boolean): tf.Tensor => {
  const pos = tf.greater(n, 0)
  const ns = tf.where(pos, n, tf.onesLike(n))
  const head = tf.add(stirlerr(ns, integer), tf.add(tf.mul(0.5, tf.log(ns)), HALF_LOG_2PI))
  const some = tf.greater(x, 0)
  const xs = tf.where(some, x, tf.onesLike(x))
  const perCount = tf.where(some, tf.add(stirlerr(xs, integer), tf.add(tf.mul(0.5, tf.log(xs)), HALF_LOG_2PI)), tf.zerosLike(x))
  const logM = tf.add(tf.expandDims(tf.log(ns), -1), logits)
  const deviance = tf.sum(tf.add(perCount, bd0(x, tf.exp(logM), logM)), -1)
  return tf.where(pos, tf.sub(head, deviance), tf.zerosLike(deviance))
}

/**
 * Multinomial draws by conditional binomials: xᵢ ~ Binomial(n − Σ_{j<i} xⱼ, pᵢ / Σ_{j≥i} pⱼ) for
 * i < K − 1, and the rest to the last category; one batched binomial draw per category.
 */
const sampleMultinomial = (n: tf.Tensor, probs: tf.Tensor, seed: number | undefined): tf.Tensor => {
  const seeds = seedStream(seed)
  const ps = tf.unstack(probs, -1)
  // Σ_{j≥i} pⱼ by additions (tf.cumsum with a negative axis corrupts the wasm backend's memory)
  const tails = ps.reduceRight<tf.Tensor[]>((acc, p) => [acc.length === 0 ? p : tf.add(p, acc[0]!), ...acc], [])
  const counts: tf.Tensor[] = []
  let rest = n
  for (let i = 0; i < ps.length - 1; i++) {
    const c = tf.clipByValue(tf.div(ps[i]!, tf.maximum(tails[i]!, 1e-30)), 0, 1)
    const x = sampleBinomial(rest, tf.minimum(c, tf.sub(1, c)), tf.greater(c, 0.5), seeds)
    counts.push(x)
    rest = tf.sub(rest, x)
  }
  return tf.stack([...counts, rest], -1)
}

/** Converts and validates totalCount; returns it with the broadcast batch shape (intermediates freed). */
const countParam = scoped('multinomial', (count: TensorLike, c: CategoricalParams, to: number[] | undefined) => {
  const n0 = asTensor(count, 'totalCount', 'multinomial')
  const shape = to ?? broadcastShapes('multinomial', [['totalCount', n0.shape], [c.kind, c.batchShape]])
  const n = broadcastIfNeeded(n0, shape)
  checkParam('multinomial', 'totalCount', n, constraints.nonNegativeInteger)
  return { n, batchShape: shape }
})

const build = (count: TensorLike, kind: 'logits' | 'probs', value: TensorLike, to?: { batch: number[]; k: number }): Multinomial => {
  const c = categoricalParams('multinomial', kind, value, to === undefined ? undefined : [...to.batch, to.k])
  const { n, batchShape } = countParam(count, c, to?.batch)
  const { logits, probs, numCategories: k } = c
  const nk = (): tf.Tensor => tf.expandDims(n, -1)
  return makeDistribution<Multinomial>({
    tag: 'Multinomial', name: 'multinomial', fields: { totalCount: n, logits, probs, numCategories: k },
    batchShape, eventShape: [k], reparameterized: false, support: multinomialSupport(n),
    draw: (s, seed) => {
      const full = [...s, ...batchShape]
      return emptyDraw([...full, k]) ?? sampleMultinomial(tf.broadcastTo(n, full), tf.broadcastTo(probs, [...full, k]), seed)
    },
    // Validated values and counts are integers: then stirlerr needs no lgamma.
    logProb: (x) => multinomialLogPmf(x, n, logits, isValidating()),
    mean: () => tf.broadcastTo(tf.mul(nk(), probs), [...batchShape, k]),
    variance: () => tf.broadcastTo(tf.mul(tf.mul(nk(), probs), tf.sub(1, probs)), [...batchShape, k]),
    expand: (b) => build(n, kind, kind === 'logits' ? logits : probs, { batch: [...b], k }),
  })
}

/**
 * Multinomial(n, p) over count vectors x ∈ {0, …, n}ᴷ with Σ x = n (event dim 1), given `totalCount` n
 * (non-negative integers, broadcast against the batch) and `{ logits }` or `{ probs }` (exactly one;
 * last dim K; probs on the simplex): log p(x) = log n! − Σ log xᵢ! + Σ xᵢ log pᵢ, computed in Loader's
 * saddle-point form. Mean n·p, variance n·p(1 − p) per category; no closed-form entropy.
 * Draws: K − 1 conditional binomial draws, each batched on tensors (inversion or BTRS).
 *
 * @example
 * const d = multinomial(10, { probs: tf.tensor1d([0.2, 0.3, 0.5]) })
 * d.logProb(d.sample([4], 0))   // shape [4]
 */
export const multinomial = (totalCount: TensorLike, params: LogitsOrProbs): Multinomial => {
  const { kind, value } = pickParam('multinomial', params)
  return build(totalCount, kind, value)
}
