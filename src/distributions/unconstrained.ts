/**
 * Unconstrained parameterisations: a map from ℝⁿ onto each constraint's set,
 * so learnable params live unconstrained and are used constrained.
 * real: identity · positive: softplus · unitInterval: sigmoid · simplex: softmax.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { clampProbs, softplus } from '../backend/numerics.js'
import type { Constraint } from './constraints.js'

/** A map from unconstrained space onto a constraint's set, with its (right) inverse. */
export interface Unconstrained {
  /** Unconstrained → constrained. */
  readonly toConstrained: (u: tf.Tensor) => tf.Tensor
  /** Constrained → unconstrained. */
  readonly toUnconstrained: (x: tf.Tensor) => tf.Tensor
}

const identity: Unconstrained = { toConstrained: (u) => u, toUnconstrained: (x) => x }

/** softplus, and its inverse log(expm1 x) = x + log(−expm1(−x)). */
const positive: Unconstrained = {
  toConstrained: (u) => softplus(u),
  toUnconstrained: (x) => tf.add(x, tf.log(tf.neg(tf.expm1(tf.neg(x))))),
}

const unit: Unconstrained = {
  toConstrained: (u) => tf.sigmoid(u),
  toUnconstrained: (x) => { const p = clampProbs(x); return tf.sub(tf.log(p), tf.log1p(tf.neg(p))) },
}

/** softmax over the last dim; log is a right inverse (softmax(log x) = x on the simplex). */
const simplex: Unconstrained = {
  toConstrained: (u) => tf.softmax(u),
  toUnconstrained: (x) => tf.log(clampProbs(x)),
}

/**
 * The unconstrained parameterisation of a constraint (`real`, `positive`, `unitInterval`, `simplex`).
 *
 * @example
 * const t = unconstrainedFor(constraints.positive)
 * t.toConstrained(tf.scalar(-3))   // softplus(−3) > 0
 */
export const unconstrainedFor = (c: Constraint): Unconstrained => {
  switch (c._tag) {
    case 'real': return identity
    case 'positive': return positive
    case 'unitInterval': return unit
    case 'simplex': return simplex
    default: throw new InvalidArgumentError(`param: no unconstrained parameterisation for the constraint '${c._tag}' (${c.describe}); use real, positive, unitInterval or simplex`)
  }
}
