/**
 * Bijectors: invertible, differentiable elementwise maps y = f(x) with their
 * log |dy/dx|, used to build transformed distributions (`transformed`).
 * Every bijector here acts elementwise (event rank 0), and every method frees
 * its intermediates.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { scoped } from '../backend/scope.js'
import { clampProbs, softplus } from '../backend/numerics.js'
import * as constraints from './constraints.js'
import type { Constraint } from './constraints.js'
import { convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** An invertible elementwise map y = f(x) with its log-Jacobian. */
export interface Bijector {
  readonly _tag: 'Exp' | 'Affine' | 'Sigmoid' | 'Chain'
  /** Used in messages: 'exp', 'affine', … */
  readonly name: string
  /** y = f(x). */
  readonly forward: (x: tf.Tensor) => tf.Tensor
  /** x = f⁻¹(y). */
  readonly inverse: (y: tf.Tensor) => tf.Tensor
  /** log |dy/dx| at x, elementwise (the shape of `forward(x)`). */
  readonly forwardLogDetJacobian: (x: tf.Tensor) => tf.Tensor
  /** Where x lives. */
  readonly domain: Constraint
  /** Where y = f(x) lives. */
  readonly codomain: Constraint
}

/** The fields of a bijector before its methods are scoped. */
interface BijectorSpec {
  readonly tag: Bijector['_tag']
  readonly name: string
  readonly forward: (x: tf.Tensor) => tf.Tensor
  readonly inverse: (y: tf.Tensor) => tf.Tensor
  readonly logDet: (x: tf.Tensor) => tf.Tensor
  readonly domain: Constraint
  readonly codomain: Constraint
  readonly fields?: Record<string, unknown>
}

/** Builds a frozen bijector whose methods free their intermediates. */
const makeBijector = <B extends Bijector>(s: BijectorSpec): B => Object.freeze({
  ...s.fields,
  _tag: s.tag, name: s.name, domain: s.domain, codomain: s.codomain,
  forward: scoped(`${s.name}.forward`, s.forward),
  inverse: scoped(`${s.name}.inverse`, s.inverse),
  forwardLogDetJacobian: scoped(`${s.name}.forwardLogDetJacobian`, s.logDet),
}) as unknown as B

/** The exponential map. */
export interface ExpBijector extends Bijector { readonly _tag: 'Exp' }

/**
 * y = exp(x), x = log y, log |dy/dx| = x. Maps ℝ onto (0, ∞).
 *
 * @example
 * transformed(normal(0, 1), exp())   // a log-normal
 */
export const exp = (): ExpBijector => makeBijector<ExpBijector>({
  tag: 'Exp', name: 'exp', domain: constraints.real, codomain: constraints.positive,
  forward: (x) => tf.exp(x),
  inverse: (y) => tf.log(y),
  logDet: (x) => tf.clone(x),
})

/** The affine map y = loc + scale · x. */
export interface AffineBijector extends Bijector {
  readonly _tag: 'Affine'
  readonly loc: tf.Tensor
  readonly scale: tf.Tensor
}

/**
 * y = loc + scale · x, x = (y − loc)/scale, log |dy/dx| = log |scale|
 * (broadcast to the shape of y). `scale` must be finite and non-zero.
 *
 * @example
 * affine(1, 2).forward(tf.scalar(3))   // 7
 */
export const affine = (loc: TensorLike, scale: TensorLike): AffineBijector => {
  const [{ loc: $loc, scale: $scale }] = convertParams('affine', { loc, scale }, (p) => {
    checkParam('affine', 'loc', p.loc, constraints.real)
    checkParam('affine', 'scale', p.scale, constraints.nonZero)
  })
  return makeBijector<AffineBijector>({
    tag: 'Affine', name: 'affine', domain: constraints.real, codomain: constraints.real,
    fields: { loc: $loc, scale: $scale },
    forward: (x) => tf.add($loc, tf.mul($scale, x)),
    inverse: (y) => tf.div(tf.sub(y, $loc), $scale),
    logDet: (x) => tf.add(tf.zerosLike(tf.add($loc, tf.mul($scale, x))), tf.log(tf.abs($scale))),
  })
}

/** The logistic sigmoid map. */
export interface SigmoidBijector extends Bijector { readonly _tag: 'Sigmoid' }

/**
 * y = σ(x) = 1/(1 + e⁻ˣ), x = log y − log(1 − y),
 * log |dy/dx| = −softplus(−x) − softplus(x) (stable for large |x|).
 * Maps ℝ onto (0, 1); `inverse` clamps y into [ε, 1 − ε] (ε = float32 epsilon),
 * so y = 0 or 1 (a saturated float32 forward) maps to a finite x ≈ ∓15.9.
 *
 * @example
 * sigmoid().forward(tf.scalar(0))   // 0.5
 */
export const sigmoid = (): SigmoidBijector => makeBijector<SigmoidBijector>({
  tag: 'Sigmoid', name: 'sigmoid', domain: constraints.real, codomain: constraints.unitInterval,
  forward: (x) => tf.sigmoid(x),
  inverse: (y) => {
    const q = clampProbs(y)
    return tf.sub(tf.log(q), tf.log1p(tf.neg(q)))
  },
  logDet: (x) => tf.neg(tf.add(softplus(tf.neg(x)), softplus(x))),
})

/** A composition of bijectors, applied in argument order. */
export interface ChainBijector extends Bijector {
  readonly _tag: 'Chain'
  readonly parts: readonly Bijector[]
}

/**
 * chain(b₁, …, bₙ): y = bₙ(…b₂(b₁(x))) — the bijectors are applied in the order
 * given (pipeline order, unlike TFP's `Chain`), log |dy/dx| = Σᵢ log |dbᵢ/dxᵢ|(xᵢ).
 *
 * @example
 * chain(affine(0, 2), exp()).forward(tf.scalar(1))   // e²
 */
export const chain = (...parts: Bijector[]): ChainBijector => {
  const first = parts[0], last = parts[parts.length - 1]
  if (first === undefined || last === undefined) {
    throw new InvalidArgumentError('chain: expected at least one bijector; got none')
  }
  return makeBijector<ChainBijector>({
    tag: 'Chain', name: `chain(${parts.map((b) => b.name).join(', ')})`,
    domain: first.domain, codomain: last.codomain, fields: { parts },
    forward: (x) => parts.reduce((v, b) => b.forward(v), x),
    inverse: (y) => parts.reduceRight((v, b) => b.inverse(v), y),
    logDet: (x) => {
      let v = x
      let total: tf.Tensor = tf.zerosLike(x)
      for (const b of parts) {
        total = tf.add(total, b.forwardLogDetJacobian(v))
        v = b.forward(v)
      }
      return total
    },
  })
}
