/**
 * The types of transforms and bijectors, and the one constructor every one of them goes through.
 * A *transform* maps x in its domain onto y in its codomain and has a (right) inverse; a *bijector*
 * is a transform that is one-to-one, with its log-Jacobian. Both may act on events: `domain.eventDims`
 * and `codomain.eventDims` say how many rightmost dims of x and of y one application spans
 * (stick-breaking: 1 → 1 with the last dim growing by one; lower-Cholesky: 1 → 2).
 */
import type * as tf from '@tensorflow/tfjs-core'
import { scoped } from '../backend/scope.js'
import type { Constraint } from './constraints.js'

/** A map y = f(x) from `domain` onto `codomain`, with a right inverse (f(f⁻¹(y)) = y). */
export interface Transform {
  readonly _tag: string
  /** Used in messages: 'exp', 'stickBreaking', … */
  readonly name: string
  /** y = f(x). */
  readonly forward: (x: tf.Tensor) => tf.Tensor
  /** x = f⁻¹(y): the inverse of a bijector, a right inverse otherwise (softmax: log). */
  readonly inverse: (y: tf.Tensor) => tf.Tensor
  /** Where x lives; `domain.eventDims` rightmost dims of x are one event. */
  readonly domain: Constraint
  /** Where y = f(x) lives; `codomain.eventDims` rightmost dims of y are one event. */
  readonly codomain: Constraint
  /** The shape of f(x) for x of shape `shape` (a ShapeError if f cannot take it). */
  readonly forwardShape: (shape: readonly number[]) => number[]
  /** The shape of f⁻¹(y) for y of shape `shape` (a ShapeError if f⁻¹ cannot take it). */
  readonly inverseShape: (shape: readonly number[]) => number[]
}

/** An invertible map y = f(x) with its log-Jacobian. */
export interface Bijector extends Transform {
  readonly _tag: 'Identity' | 'Exp' | 'Softplus' | 'Affine' | 'Sigmoid' | 'Chain' | 'Independent' | 'StickBreaking' | 'LowerCholesky' | 'CholeskyOuter'
  /**
   * log |det ∂y/∂x| at x, one value per event: the shape of x without its `domain.eventDims`
   * rightmost dims (an elementwise bijector: the shape of x).
   */
  readonly forwardLogDetJacobian: (x: tf.Tensor) => tf.Tensor
}

/** The fields of a transform before its methods are scoped; elementwise shapes by default. */
export interface TransformSpec {
  readonly tag: string
  readonly name: string
  readonly forward: (x: tf.Tensor) => tf.Tensor
  readonly inverse: (y: tf.Tensor) => tf.Tensor
  /** log |det ∂y/∂x| (bijectors only). */
  readonly logDet?: (x: tf.Tensor) => tf.Tensor
  readonly domain: Constraint
  readonly codomain: Constraint
  readonly forwardShape?: (shape: readonly number[]) => number[]
  readonly inverseShape?: (shape: readonly number[]) => number[]
  /** Extra read-only fields (parameters, parts). */
  readonly fields?: Record<string, unknown>
}

const sameShape = (shape: readonly number[]): number[] => [...shape]

/**
 * Builds a frozen transform (a bijector when `logDet` is given) whose methods free their intermediates.
 *
 * @example
 * const square = makeTransform<Transform>({ tag: 'Square', name: 'square', domain: constraints.positive,
 *   codomain: constraints.positive, forward: (x) => tf.square(x), inverse: (y) => tf.sqrt(y) })
 */
export const makeTransform = <T extends Transform>(s: TransformSpec): T => Object.freeze({
  ...s.fields,
  _tag: s.tag, name: s.name, domain: s.domain, codomain: s.codomain,
  forward: scoped(`${s.name}.forward`, s.forward),
  inverse: scoped(`${s.name}.inverse`, s.inverse),
  ...(s.logDet && { forwardLogDetJacobian: scoped(`${s.name}.forwardLogDetJacobian`, s.logDet) }),
  forwardShape: s.forwardShape ?? sameShape,
  inverseShape: s.inverseShape ?? sameShape,
}) as unknown as T

/**
 * Whether a transform is a bijector (has a log-Jacobian).
 *
 * @example isBijector(stickBreaking())   // true; isBijector(softmax()) // false
 */
export const isBijector = (t: Transform): t is Bijector =>
  typeof (t as Partial<Bijector>).forwardLogDetJacobian === 'function'
