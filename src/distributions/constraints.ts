/**
 * Constraints: the sets a distribution's values (its `support`) and its
 * parameters live in. Each can test a tensor elementwise (over its event dims).
 */
import * as tf from '@tensorflow/tfjs-core'

/** A set of values, testable on tensors. */
export interface Constraint {
  readonly _tag: 'real' | 'nonZero' | 'positive' | 'unitInterval' | 'boolean' | 'interval' | 'integerInterval' | 'simplex' | 'oneHot' | 'independent'
    | 'nonNegativeInteger' | 'integerRange' | 'lowerCholesky' | 'positiveDefinite' | 'nonNegative'
  /** Human-readable description used in error messages, e.g. `x > 0`. */
  readonly describe: string
  /** How many rightmost dims one element of the set spans (simplex: 1). */
  readonly eventDims: number
  /** A bool tensor of shape `x.shape` minus the `eventDims` rightmost dims. */
  readonly check: (x: tf.Tensor) => tf.Tensor
  /**
   * A cheap sufficient test, by reductions only: a bool scalar that is true only if every element
   * passes `check` (false may be a false alarm; `check` then decides). Validation runs it first.
   */
  readonly quick?: (x: tf.Tensor) => tf.Tensor
  /** For elementwise sets: `check` on one value, in JavaScript (validation tests small tensors on their read-back values, launching no kernels). */
  readonly holds?: (v: number) => boolean
  /** For `independent`: the elementwise constraint it applies (every element of x must pass it). */
  readonly base?: Constraint
  /** For `interval`: its bounds (the map onto it, `bijectTo`, needs them). */
  readonly low?: tf.Tensor | number
  readonly high?: tf.Tensor | number
}

const isFinite = (x: tf.Tensor): tf.Tensor => tf.logicalNot(tf.logicalOr(tf.isNaN(x), tf.isInf(x)))

/** Σx is finite only if no element is NaN or ±∞ (an overflowing sum is a false alarm, settled by `check`). */
const sumFinite = (x: tf.Tensor): tf.Tensor => tf.isFinite(tf.sum(x))

/** min x ≥ 0 and max x ≤ 1 (false for NaN). */
const inUnitInterval = (x: tf.Tensor): tf.Tensor => tf.logicalAnd(tf.greaterEqual(tf.min(x), 0), tf.lessEqual(tf.max(x), 1))

/** All finite reals. @example constraints.real.check(tf.scalar(NaN)) // false */
export const real: Constraint = { _tag: 'real', describe: 'finite real', eventDims: 0, check: isFinite, quick: sumFinite, holds: Number.isFinite }

/** x ≠ 0 (finite): an affine bijector's scale. Its own tag, so no check meant for 'real' (finiteness only) stands in for it. */
export const nonZero: Constraint = {
  _tag: 'nonZero', describe: 'x ≠ 0 (finite)', eventDims: 0,
  check: (x) => tf.logicalAnd(isFinite(x), tf.notEqual(x, 0)),
  holds: (v) => v !== 0 && Number.isFinite(v),
}

/** x > 0 (finite). */
export const positive: Constraint = {
  _tag: 'positive', describe: 'x > 0', eventDims: 0,
  check: (x) => tf.logicalAnd(tf.greater(x, 0), isFinite(x)),
  quick: (x) => tf.logicalAnd(tf.greater(tf.min(x), 0), sumFinite(x)),
  holds: (v) => v > 0 && Number.isFinite(v),
}

/** x ≥ 0 (finite): the support of the exponential and the half-normal and half-Cauchy, as Pyro's `nonnegative`. */
export const nonNegative: Constraint = {
  _tag: 'nonNegative', describe: 'x ≥ 0', eventDims: 0,
  check: (x) => tf.logicalAnd(tf.greaterEqual(x, 0), isFinite(x)),
  quick: (x) => tf.logicalAnd(tf.greaterEqual(tf.min(x), 0), sumFinite(x)),
  holds: (v) => v >= 0 && Number.isFinite(v),
}

/** 0 ≤ x ≤ 1. */
export const unitInterval: Constraint = {
  _tag: 'unitInterval', describe: '0 ≤ x ≤ 1', eventDims: 0,
  check: (x) => tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, 1)),
  quick: inUnitInterval,
  holds: (v) => v >= 0 && v <= 1,
}

/** x ∈ {0, 1}. */
export const boolean: Constraint = {
  _tag: 'boolean', describe: 'x ∈ {0, 1}', eventDims: 0,
  check: (x) => tf.logicalOr(tf.equal(x, 0), tf.equal(x, 1)),
  // In [0, 1] with Σ x(1 − x) = 0: every term is ≥ 0, so each is 0, so x ∈ {0, 1}.
  quick: (x) => tf.logicalAnd(inUnitInterval(x), tf.equal(tf.sum(tf.mul(x, tf.sub(1, x))), 0)),
  holds: (v) => v === 0 || v === 1,
}

/** Non-negative vectors summing to 1 (within 1e-5) over the last dim. */
export const simplex: Constraint = {
  _tag: 'simplex', describe: 'x ≥ 0 and Σ x = 1 over the last dim', eventDims: 1,
  check: (x) => tf.logicalAnd(
    tf.all(tf.greaterEqual(x, 0), -1),
    tf.lessEqual(tf.abs(tf.sub(tf.sum(x, -1), 1)), 1e-5)),
}

/** One-hot vectors over the last dim. */
export const oneHot: Constraint = {
  _tag: 'oneHot', describe: 'one-hot vectors over the last dim', eventDims: 1,
  check: (x) => tf.logicalAnd(tf.all(boolean.check(x), -1), tf.equal(tf.sum(x, -1), 1)),
}

/**
 * low ≤ x ≤ high, with tensor or number bounds (broadcast against x).
 *
 * @example interval(0, 1)
 */
export const interval = (low: tf.Tensor | number, high: tf.Tensor | number): Constraint => ({
  _tag: 'interval', describe: `low ≤ x ≤ high`, eventDims: 0, low, high,
  check: (x) => tf.logicalAnd(tf.greaterEqual(x, low), tf.lessEqual(x, high)),
})

/**
 * Integers in {low, …, high}.
 *
 * @example integerInterval(0, 9)   // a categorical over 10 classes
 */
export const integerInterval = (low: number, high: number): Constraint => ({
  _tag: 'integerInterval', describe: `integer ${low} ≤ x ≤ ${high}`, eventDims: 0,
  check: (x) => {
    const f = tf.cast(x, 'float32')
    return tf.logicalAnd(tf.equal(f, tf.round(f)), tf.logicalAnd(tf.greaterEqual(f, low), tf.lessEqual(f, high)))
  },
})

/**
 * `base` applied elementwise, with `n` more rightmost dims reinterpreted as one event.
 *
 * @example independent(real, 1)   // real vectors
 */
export const independent = (base: Constraint, n: number): Constraint =>
  n === 0 ? base : {
    _tag: 'independent', describe: base.describe, eventDims: base.eventDims + n, base,
    // every element passing base's quick test means every event passes
    ...(base.quick === undefined ? {} : { quick: base.quick }),
    check: (x) => {
      const ok = base.check(x)
      return tf.all(ok, Array.from({ length: n }, (_, i) => ok.rank - 1 - i))
    },
  }

/** x ∈ {0, 1, 2, …} (float32 values, as Pyro's counts): Poisson, geometric, negative binomial. */
export const nonNegativeInteger: Constraint = {
  _tag: 'nonNegativeInteger', describe: 'integer x ≥ 0', eventDims: 0,
  check: (x) => {
    const f = tf.cast(x, 'float32')
    return tf.logicalAnd(tf.logicalAnd(tf.equal(f, tf.round(f)), tf.greaterEqual(f, 0)), isFinite(f))
  },
  holds: (v) => Number.isInteger(v) && v >= 0,
}

/**
 * Integers in {low, …, high} with tensor or number bounds (broadcast against x): a binomial's
 * {0, …, totalCount}.
 *
 * @example integerRange(0, totalCount)
 */
export const integerRange = (low: tf.Tensor | number, high: tf.Tensor | number): Constraint => ({
  _tag: 'integerRange', describe: 'integer low ≤ x ≤ high', eventDims: 0,
  check: (x) => {
    const f = tf.cast(x, 'float32')
    return tf.logicalAnd(tf.equal(f, tf.round(f)), tf.logicalAnd(tf.greaterEqual(f, low), tf.lessEqual(f, high)))
  },
})

/** The lower triangle of an n × n matrix as 0/1 floats (one mask, broadcast over a batch; tf.linalg.bandPart loops over matrices). */
const lowerMask = (n: number): tf.Tensor => tf.cast(tf.greaterEqual(tf.expandDims(tf.range(0, n), 1), tf.expandDims(tf.range(0, n), 0)), 'float32')

/** The diagonals of a batch of square matrices (last two dims). */
const diagonalOf = (x: tf.Tensor): tf.Tensor => tf.sum(tf.mul(x, tf.eye(x.shape[x.rank - 1]!)), -1)

/** Lower-triangular matrices with a positive diagonal over the last two dims (a Cholesky factor). */
export const lowerCholesky: Constraint = {
  _tag: 'lowerCholesky', describe: 'lower-triangular with a positive diagonal', eventDims: 2,
  check: (x) => {
    const n = x.shape[x.rank - 1]!
    const upperZero = tf.all(tf.equal(tf.mul(x, tf.sub(1, lowerMask(n))), 0), [-2, -1])
    const diagonal = tf.all(tf.greater(diagonalOf(x), 0), -1)
    return tf.logicalAnd(tf.logicalAnd(upperZero, diagonal), tf.all(isFinite(x), [-2, -1]))
  },
}

/**
 * Symmetric matrices with a positive diagonal over the last two dims (finite). A necessary test of
 * positive definiteness; the multivariate normal's Cholesky factorisation settles the rest.
 */
export const positiveDefinite: Constraint = {
  _tag: 'positiveDefinite', describe: 'symmetric positive-definite', eventDims: 2,
  check: (x) => {
    const t = tf.transpose(x, [...Array.from({ length: x.rank - 2 }, (_, i) => i), x.rank - 1, x.rank - 2])
    const symmetric = tf.all(tf.lessEqual(tf.abs(tf.sub(x, t)), tf.add(1e-5, tf.mul(1e-5, tf.abs(x)))), [-2, -1])
    const diagonal = tf.all(tf.greater(diagonalOf(x), 0), -1)
    return tf.logicalAnd(tf.logicalAnd(symmetric, diagonal), tf.all(isFinite(x), [-2, -1]))
  },
}
