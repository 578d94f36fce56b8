/**
 * Straight-through estimators: hard (discrete) draws forward, the gradient of a
 * soft surrogate backward (Bengio et al. 2013; Jang et al. 2017's straight-through
 * Gumbel-softmax; PyTorch's `OneHotCategoricalStraightThrough`).
 *
 * log p(x) = the log-mass of Bernoulli(logits) / OneHotCategorical(logits) at the hard value x
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { stopGradient, straightThroughGrad } from '../backend/gradient.js'
import { broadcastTo, logSumExp, softplus } from '../backend/numerics.js'
import type { Bernoulli } from './bernoulli.js'
import { indicesToOneHot } from './categorical.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import type { OneHotCategorical } from './one-hot-categorical.js'
import type { RelaxedBernoulli } from './relaxed-bernoulli.js'
import type { RelaxedOneHotCategorical } from './relaxed-one-hot-categorical.js'

/**
 * The families `straightThrough` accepts.
 *
 * @example const b: StraightThroughBase = bernoulli({ logits: 0 })
 */
export type StraightThroughBase = Bernoulli | OneHotCategorical | RelaxedBernoulli | RelaxedOneHotCategorical

const TAGS: ReadonlyArray<StraightThroughBase['_tag']> = ['Bernoulli', 'OneHotCategorical', 'RelaxedBernoulli', 'RelaxedOneHotCategorical']

/**
 * StraightThrough(base): reparameterised in the straight-through sense; support {0, 1}
 * (binary bases) or one-hot vectors (categorical bases).
 */
export interface StraightThrough<D extends StraightThroughBase = StraightThroughBase> extends Distribution<tf.Tensor, true> {
  readonly _tag: 'StraightThrough'
  readonly base: D
  readonly toEvent: (n: number) => Independent<StraightThrough<D>>
  readonly expand: (batchShape: readonly number[]) => StraightThrough<D>
}

/** The hard value of each family: a base draw, [y > ½], or one-hot(argmax y). */
const hardOf = (d: StraightThroughBase, y: tf.Tensor): tf.Tensor =>
  d._tag === 'RelaxedBernoulli' ? tf.cast(tf.greater(y, 0.5), 'float32')
    : d._tag === 'RelaxedOneHotCategorical' ? indicesToOneHot(tf.argMax(y, -1), y.shape[y.rank - 1]!) : y

/** Forward `hard`, backward ∂(soft): the straight-through draw for each family. */
const drawFor = (d: StraightThroughBase, shape: readonly number[]) =>
  (s: readonly number[], seed: number | undefined): tf.Tensor => {
    if (d._tag === 'Bernoulli' || d._tag === 'OneHotCategorical') {
      return straightThroughGrad(stopGradient(d.sample(s, seed)), broadcastTo(d.probs, [...s, ...shape]))
    }
    const y = d.rsample(s, seed)
    return straightThroughGrad(stopGradient(hardOf(d, y)), y)
  }

/** The log-mass of the discrete law of the hard draws, from the base's logits. */
const logMassFor = (d: StraightThroughBase) => (x: tf.Tensor): tf.Tensor => {
  switch (d._tag) {
    case 'Bernoulli':
    case 'OneHotCategorical':
      return d.logProb(x)
    case 'RelaxedBernoulli':
      return tf.sub(tf.mul(x, d.logits), softplus(d.logits))
    case 'RelaxedOneHotCategorical':
      return tf.sum(tf.mul(x, tf.sub(d.logits, logSumExp(d.logits, -1, true))), -1)
  }
}

const checkBase = (d: StraightThroughBase): void => {
  const tag = (d as { _tag?: unknown } | null | undefined)?._tag
  if (!TAGS.includes(tag as StraightThroughBase['_tag'])) {
    const got = typeof tag === 'string' ? `a ${tag} distribution` : String(d)
    throw new InvalidArgumentError(`straightThrough: argument 'base' must be a ${TAGS.join(', ')} distribution; got ${got}`)
  }
}

/**
 * StraightThrough(d) for d a Bernoulli, OneHotCategorical, RelaxedBernoulli or
 * RelaxedOneHotCategorical. `rsample` returns HARD values — float32 {0, 1}, or
 * one-hot vectors — whose gradient is that of a soft value:
 * - Bernoulli / OneHotCategorical: soft = probs broadcast to the draw, i.e.
 *   hard + probs − stopGradient(probs) (Bengio et al. 2013; PyTorch's OneHotCategoricalStraightThrough);
 * - RelaxedBernoulli / RelaxedOneHotCategorical: soft = the relaxed draw y, hard = [y > ½] or
 *   one-hot(argmax y) (straight-through Gumbel-softmax).
 * log p(x) = x · l − softplus(l) (binary) or Σ_k x_k log softmax(l)_k (one-hot), the log-mass of
 * Bernoulli(l) / OneHotCategorical(l) with the base's logits l. This is exact for the relaxed bases
 * too: y > ½ ⇔ l + Logistic > 0, which has probability σ(l), and argmax_k softmax((l + g)/T)_k =
 * argmax_k (l_k + g_k) is the Gumbel-max trick, so the hard draws are exactly Bernoulli(l) /
 * Categorical(l) draws whatever the temperature.
 *
 * @example
 * const d = straightThrough(relaxedBernoulli(0.5, { logits: tf.tensor1d([-1, 2]) }))
 * const x = d.rsample([10], 0)   // {0, 1} values, differentiable w.r.t. the logits
 * d.logProb(x)                   // shape [10, 2]
 */
export const straightThrough = <D extends StraightThroughBase>(base: D): StraightThrough<D> => {
  checkBase(base)
  const d: StraightThroughBase = base
  const binary = d._tag === 'Bernoulli' || d._tag === 'RelaxedBernoulli'
  return makeDistribution<StraightThrough<D>>({
    tag: 'StraightThrough', name: `straightThrough(${base.name})`, fields: { base },
    batchShape: base.batchShape, eventShape: base.eventShape, reparameterized: true,
    support: binary ? constraints.boolean : constraints.oneHot,
    draw: drawFor(d, [...base.batchShape, ...base.eventShape]),
    logProb: logMassFor(d),
    expand: (b) => straightThrough(base.expand(b) as D),
  })
}
