/**
 * Bijectors: invertible, differentiable maps y = f(x) with their log |det ∂y/∂x|, used to build
 * transformed distributions (`transformed`) and to map unconstrained values onto supports
 * (`bijectTo`, `transformTo`). The elementwise ones (identity, exp, softplus, affine, sigmoid) and
 * the combinators (chain, independentTransform) live here; those acting on vectors and matrices
 * (stickBreaking, lowerCholesky, choleskyOuter, and the softmax transform) in `bijectors-structured.ts`,
 * re-exported here. Every method frees its intermediates.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { clampProbs, softplus as softplusOp } from '../backend/numerics.js'
import { makeTransform } from './bijector-core.js'
import type { Bijector, Transform } from './bijector-core.js'
import * as constraints from './constraints.js'
import { convertParams, sumRightmost } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

export { isBijector, makeTransform } from './bijector-core.js'
export type { Bijector, Transform, TransformSpec } from './bijector-core.js'
export { choleskyOuter, lowerCholesky, softmax, stickBreaking } from './bijectors-structured.js'
export type { CholeskyOuterBijector, LowerCholeskyBijector, SoftmaxTransform, StickBreakingBijector } from './bijectors-structured.js'

/** The identity map. */
export interface IdentityBijector extends Bijector { readonly _tag: 'Identity' }

/**
 * y = x, log |dy/dx| = 0: the map onto `real` (Pyro's `identity_transform`). Both directions
 * return a new tensor sharing x's data (tf.clone), so the caller may dispose it.
 *
 * @example
 * identity().forward(tf.scalar(3))   // 3
 */
export const identity = (): IdentityBijector => makeTransform<IdentityBijector>({
  tag: 'Identity', name: 'identity', domain: constraints.real, codomain: constraints.real,
  forward: (x) => tf.clone(x),
  inverse: (y) => tf.clone(y),
  logDet: (x) => tf.zerosLike(x),
})

/** The exponential map. */
export interface ExpBijector extends Bijector { readonly _tag: 'Exp' }

/**
 * y = exp(x), x = log y, log |dy/dx| = x. Maps ℝ onto (0, ∞).
 *
 * @example
 * transformed(normal(0, 1), exp())   // a log-normal
 */
export const exp = (): ExpBijector => makeTransform<ExpBijector>({
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
  return makeTransform<AffineBijector>({
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
export const sigmoid = (): SigmoidBijector => makeTransform<SigmoidBijector>({
  tag: 'Sigmoid', name: 'sigmoid', domain: constraints.real, codomain: constraints.unitInterval,
  forward: (x) => tf.sigmoid(x),
  inverse: (y) => {
    const q = clampProbs(y)
    return tf.sub(tf.log(q), tf.log1p(tf.neg(q)))
  },
  logDet: (x) => tf.neg(tf.add(softplusOp(tf.neg(x)), softplusOp(x))),
})

/** The softplus map. */
export interface SoftplusBijector extends Bijector { readonly _tag: 'Softplus' }

/**
 * y = softplus(x) = log(1 + eˣ), x = y + log(−expm1(−y)), log |dy/dx| = log σ(x) = −softplus(−x).
 * Maps ℝ onto (0, ∞); unlike exp it grows linearly, so large x do not overflow.
 *
 * @example
 * softplus().forward(tf.scalar(0))   // log 2
 */
export const softplus = (): SoftplusBijector => makeTransform<SoftplusBijector>({
  tag: 'Softplus', name: 'softplus', domain: constraints.real, codomain: constraints.positive,
  forward: (x) => softplusOp(x),
  inverse: (y) => tf.add(y, tf.log(tf.neg(tf.expm1(tf.neg(y))))),
  logDet: (x) => tf.neg(softplusOp(tf.neg(x))),
})

/** A composition of bijectors, applied in argument order. */
export interface ChainBijector extends Bijector {
  readonly _tag: 'Chain'
  readonly parts: readonly Bijector[]
}

/** The event dims of a chain's domain and codomain (Pyro's ComposeTransform rule: an event never shrinks below what a part needs). */
const chainEventDims = (parts: readonly Bijector[]): { domain: number; codomain: number } => ({
  domain: parts.reduceRight((ev, b) => Math.max(b.domain.eventDims, ev + b.domain.eventDims - b.codomain.eventDims), parts[parts.length - 1]!.codomain.eventDims),
  codomain: parts.reduce((ev, b) => Math.max(b.codomain.eventDims, ev + b.codomain.eventDims - b.domain.eventDims), parts[0]!.domain.eventDims),
})

/**
 * chain(b₁, …, bₙ): y = bₙ(…b₂(b₁(x))) — the bijectors are applied in the order
 * given (pipeline order, unlike TFP's `Chain`), log |det ∂y/∂x| = Σᵢ log |det ∂bᵢ/∂xᵢ|(xᵢ),
 * each term summed over the chain's event dims. The chain's event is the largest any
 * part needs: chain(lowerCholesky(), choleskyOuter()) maps vectors (1 dim) to matrices (2).
 *
 * @example
 * chain(affine(0, 2), exp()).forward(tf.scalar(1))   // e²
 */
export const chain = (...parts: Bijector[]): ChainBijector => {
  const first = parts[0], last = parts[parts.length - 1]
  if (first === undefined || last === undefined) {
    throw new InvalidArgumentError('chain: expected at least one bijector; got none')
  }
  const dims = chainEventDims(parts)
  return makeTransform<ChainBijector>({
    tag: 'Chain', name: `chain(${parts.map((b) => b.name).join(', ')})`, fields: { parts },
    domain: constraints.independent(first.domain, dims.domain - first.domain.eventDims),
    codomain: constraints.independent(last.codomain, dims.codomain - last.codomain.eventDims),
    forward: (x) => parts.reduce((v, b) => b.forward(v), x),
    inverse: (y) => parts.reduceRight((v, b) => b.inverse(v), y),
    logDet: (x) => {
      const batchRank = x.rank - dims.domain
      let v = x, total: tf.Tensor | undefined
      for (const b of parts) {
        const ld = b.forwardLogDetJacobian(v)
        const term = sumRightmost(ld, ld.rank - batchRank)
        total = total === undefined ? term : tf.add(total, term)
        v = b.forward(v)
      }
      return total!
    },
    forwardShape: (s) => parts.reduce<number[]>((sh, b) => b.forwardShape(sh), [...s]),
    inverseShape: (s) => parts.reduceRight<number[]>((sh, b) => b.inverseShape(sh), [...s]),
  })
}

/** A transform whose rightmost batch dims are reinterpreted as event dims. */
export interface IndependentBijector extends Bijector {
  readonly _tag: 'Independent'
  readonly base: Bijector
}

/** {@link independentTransform} of a transform that is not a bijector. */
export interface IndependentTransform extends Transform {
  readonly _tag: 'Independent'
  readonly base: Transform
}

/**
 * `base` with `n` more rightmost dims in one event (Pyro's IndependentTransform): the same
 * forward and inverse; domain and codomain become `independent(…, n)`, and log |det ∂y/∂x|
 * is base's summed over those n dims. The map `bijectTo(independent(c, n))` is made of.
 *
 * @example
 * independentTransform(exp(), 1).forwardLogDetJacobian(tf.ones([2, 3]))   // [3, 3]
 */
export function independentTransform(base: Bijector, n: number): IndependentBijector
export function independentTransform(base: Transform, n: number): IndependentTransform
export function independentTransform(base: Transform, n: number): IndependentBijector | IndependentTransform {
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`independentTransform: n must be a non-negative integer; got ${n}`)
  const ld = (base as Partial<Bijector>).forwardLogDetJacobian
  return makeTransform<IndependentBijector | IndependentTransform>({
    tag: 'Independent', name: `independent(${base.name}, ${n})`, fields: { base },
    domain: constraints.independent(base.domain, n), codomain: constraints.independent(base.codomain, n),
    forward: (x) => base.forward(x), inverse: (y) => base.inverse(y),
    ...(ld && { logDet: (x: tf.Tensor) => sumRightmost(ld(x), n) }),
    forwardShape: base.forwardShape, inverseShape: base.inverseShape,
  })
}
