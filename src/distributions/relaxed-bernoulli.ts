/**
 * The RelaxedBernoulli (binary Concrete) distribution of Maddison et al. 2017
 * and Jang et al. 2017: a reparameterisable relaxation of Bernoulli(logits) on (0, 1).
 *
 * log p(y) = log T + l − (T + 1)(log y + log(1 − y)) − 2 logaddexp(l − T log y, −T log(1 − y))
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo, clampProbs, logAddExp, probsToLogits } from '../backend/numerics.js'
import { pickParam } from './bernoulli.js'
import type { LogitsOrProbs } from './bernoulli.js'
import * as constraints from './constraints.js'
import type { Constraint } from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/**
 * Both forms of a binary parameter, as tensors, and which one the caller gave (a type alias, not an
 * interface, so that a `convertParams` check can return it as a `tf.TensorContainer`).
 *
 * @example const { logits, probs, given } = binaryParams('continuousBernoulli', { logits: 0 })
 */
export type BinaryParams = {
  readonly logits: tf.Tensor
  readonly probs: tf.Tensor
  readonly given: 'logits' | 'probs'
}

/**
 * Validates a converted binary parameter (logits finite, probs in [0, 1]) and derives the other
 * form. Called inside a {@link convertParams} check, whose scope frees what it made if a check throws.
 */
const completeBinary = (ctor: string, given: 'logits' | 'probs', x: tf.Tensor): BinaryParams => {
  if (given === 'logits') {
    checkParam(ctor, 'logits', x, constraints.real)
    return { logits: x, probs: tf.sigmoid(x), given }
  }
  checkParam(ctor, 'probs', x, constraints.unitInterval)
  return { logits: probsToLogits(x), probs: x, given }
}

/**
 * Reads `{logits}` or `{probs}` (exactly one), validates it (logits finite,
 * probs in [0, 1]) and derives the other: probs = σ(logits), logits = log p − log(1 − p) on clamped p.
 * When validation throws, the tensors converted or derived so far are freed.
 *
 * @example binaryParams('relaxedBernoulli', { probs: 0.3 }).logits   // ≈ −0.847
 */
export const binaryParams = (ctor: string, params: LogitsOrProbs): BinaryParams => {
  const { kind, value } = pickParam(ctor, params)
  return convertParams(ctor, { [kind]: value } as Record<typeof kind, TensorLike>, (p) => completeBinary(ctor, kind, p[kind]))[1]
}

/** The open unit interval 0 < y < 1, where the binary Concrete density is finite. */
const openUnitInterval: Constraint = {
  _tag: 'unitInterval', describe: '0 < x < 1', eventDims: 0,
  check: (x) => tf.logicalAnd(tf.greater(x, 0), tf.less(x, 1)),
}

/** RelaxedBernoulli(temperature, logits): reparameterised, support (0, 1). No closed-form moments or entropy. */
export interface RelaxedBernoulli extends Distribution<tf.Tensor, true> {
  readonly _tag: 'RelaxedBernoulli'
  readonly temperature: tf.Tensor
  readonly logits: tf.Tensor
  readonly probs: tf.Tensor
  readonly toEvent: (n: number) => Independent<RelaxedBernoulli>
  readonly expand: (batchShape: readonly number[]) => RelaxedBernoulli
}

/** A logistic draw logit(u), u ~ U(0, 1) clamped into [ε, 1 − ε]. */
const logistic = (shape: readonly number[], seed: number | undefined): tf.Tensor => {
  const u = clampProbs(tf.randomUniform([...shape], 0, 1, 'float32', seed))
  return tf.sub(tf.log(u), tf.log1p(tf.neg(u)))
}

/** The binary Concrete log density at y ∈ (0, 1) (log y and log(1 − y) taken from y directly). */
const logDensity = (y: tf.Tensor, logits: tf.Tensor, t: tf.Tensor): tf.Tensor => {
  const logY = tf.log(y)
  const log1mY = tf.log1p(tf.neg(y))
  const tail = logAddExp(tf.sub(logits, tf.mul(t, logY)), tf.neg(tf.mul(t, log1mY)))
  return tf.sub(
    tf.add(tf.log(t), logits),
    tf.add(tf.mul(tf.add(t, 1), tf.add(logY, log1mY)), tf.mul(2, tail)))
}

/**
 * RelaxedBernoulli(T, logits), the binary Concrete:
 * log p(y) = log T + l − (T + 1)(log y + log(1 − y)) − 2 logaddexp(l − T log y, −T log(1 − y)).
 * `rsample` is y = σ((l + log u − log(1 − u)) / T) with u ~ U(0, 1), clamped into
 * [ε, 1 − ε] so that its log density stays finite. As T → 0 draws approach Bernoulli(σ(l)) draws.
 * Temperature must be > 0 (an {@link InvalidArgumentError} otherwise; nothing is left allocated).
 *
 * @example
 * const d = relaxedBernoulli(0.5, { logits: tf.tensor1d([-1, 0, 2]) })
 * d.logProb(d.rsample([10], 0))   // shape [10, 3]
 */
export const relaxedBernoulli = (temperature: TensorLike, params: LogitsOrProbs): RelaxedBernoulli => {
  const name = 'relaxedBernoulli'
  const { kind, value } = pickParam(name, params)
  // One scope converts and validates both parameters: a failing check frees everything made before it.
  const given = { [kind]: value, temperature } as Record<typeof kind | 'temperature', TensorLike>
  const [{ temperature: $t }, { p, batchShape }] = convertParams(name, given, (c) => {
    const p = completeBinary(name, kind, c[kind])
    const batchShape = broadcastShapes(name, [['temperature', c.temperature.shape], [kind, p.logits.shape]])
    checkParam(name, 'temperature', c.temperature, constraints.positive)
    return { p, batchShape }
  })
  return makeDistribution<RelaxedBernoulli>({
    tag: 'RelaxedBernoulli', name, fields: { temperature: $t, logits: p.logits, probs: p.probs },
    batchShape, eventShape: [], reparameterized: true, support: openUnitInterval,
    draw: (s, seed) => clampProbs(tf.sigmoid(tf.div(tf.add(p.logits, logistic([...s, ...batchShape], seed)), $t))),
    logProb: (y) => logDensity(y, p.logits, $t),
    expand: (b) => relaxedBernoulli(broadcastTo($t, [...b]), p.given === 'logits'
      ? { logits: broadcastTo(p.logits, [...b]) }
      : { probs: broadcastTo(p.probs, [...b]) }),
  })
}
