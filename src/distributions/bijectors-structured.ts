/**
 * Transforms acting on vectors and matrices: stick-breaking (ℝ^{K−1} → the K-simplex), softmax
 * (ℝ^K onto the simplex, not one-to-one), lower-Cholesky (ℝ^{n(n+1)/2} → lower-triangular
 * matrices with a positive diagonal) and the Cholesky outer product (L → L Lᵀ, onto the
 * positive-definite matrices). Every op here has a gradient on every backend (slices, pads,
 * cumulative sums, matrix products, the backend's Cholesky; no gathers), so they can sit on a
 * training path.
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { cholesky } from '../backend/linalg.js'
import { clampProbs, softplus } from '../backend/numerics.js'
import { makeTransform } from './bijector-core.js'
import type { Bijector, Transform } from './bijector-core.js'
import * as constraints from './constraints.js'

/** The smallest positive normal float32: logs of clamped stick remainders stay finite. */
const TINY = 1.1754943508222875e-38
const realVector = constraints.independent(constraints.real, 1)

const lastDim = (who: string, shape: readonly number[], min: number): number => {
  const k = shape[shape.length - 1]
  if (k === undefined || k < min) throw new ShapeError(`${who}: expected a last dim of at least ${min}; got shape ${showShape(shape)}`)
  return k
}

const squareSize = (who: string, shape: readonly number[]): number => {
  const n = shape[shape.length - 1] ?? 0
  if (shape.length < 2 || n !== shape[shape.length - 2] || n < 1) throw new ShapeError(`${who}: expected square matrices in the last two dims; got shape ${showShape(shape)}`)
  return n
}

/** A constant vector over the last dim, from a function of the index. */
const vectorOf = (n: number, f: (i: number) => number): tf.Tensor => tf.tensor1d(Float32Array.from({ length: n }, (_, i) => f(i)))

/** Pads the last dim of `x` with `before` and `after` zeros. */
const padLast = (x: tf.Tensor, before: number, after: number): tf.Tensor =>
  tf.pad(x, [...Array.from({ length: x.rank - 1 }, (): [number, number] => [0, 0]), [before, after]])

/** The stick-breaking map. */
export interface StickBreakingBijector extends Bijector { readonly _tag: 'StickBreaking' }

/**
 * Stick-breaking (Pyro's StickBreakingTransform), ℝ^{K−1} → K-simplex: with x̃ᵢ = xᵢ − log(K−1−i)
 * and zᵢ = σ(x̃ᵢ), yᵢ = zᵢ ∏_{j<i}(1 − zⱼ) for i < K−1 and y_{K−1} = ∏_j (1 − zⱼ) (x = 0 ↦ the
 * uniform vector). Inverse: x̃ᵢ = log yᵢ − log Σ_{j>i} yⱼ. Computed in log space,
 * log |det ∂y_{<K−1}/∂x| = Σᵢ [log σ(x̃ᵢ) + (K−1−i) log σ(−x̃ᵢ)], one value per vector.
 *
 * @example
 * stickBreaking().forward(tf.zeros([2]))   // [1/3, 1/3, 1/3]
 */
export const stickBreaking = (): StickBreakingBijector => makeTransform<StickBreakingBijector>({
  tag: 'StickBreaking', name: 'stickBreaking', domain: realVector, codomain: constraints.simplex,
  forward: (x) => {
    const k1 = lastDim('stickBreaking.forward', x.shape, 1)
    const shifted = tf.sub(x, vectorOf(k1, (i) => Math.log(k1 - i)))
    const logZ = tf.neg(softplus(tf.neg(shifted))), logRest = tf.neg(softplus(shifted))
    return tf.exp(tf.add(padLast(logZ, 0, 1), tf.cumsum(padLast(logRest, 1, 0), x.rank - 1)))
  },
  inverse: (y) => {
    const k1 = lastDim('stickBreaking.inverse', y.shape, 2) - 1
    const after = tf.cumsum(y, y.rank - 1, true, true)   // Σ_{j>i} y_j, with no cancellation
    const head = (t: tf.Tensor) => tf.slice(t, Array<number>(y.rank).fill(0), [...y.shape.slice(0, -1), k1])
    const logit = tf.sub(tf.log(tf.maximum(head(y), TINY)), tf.log(tf.maximum(head(after), TINY)))
    return tf.add(logit, vectorOf(k1, (i) => Math.log(k1 - i)))
  },
  logDet: (x) => {
    const k1 = lastDim('stickBreaking.forwardLogDetJacobian', x.shape, 1)
    const shifted = tf.sub(x, vectorOf(k1, (i) => Math.log(k1 - i)))
    const terms = tf.sub(tf.neg(softplus(tf.neg(shifted))), tf.mul(vectorOf(k1, (i) => k1 - i), softplus(shifted)))
    return tf.sum(terms, -1)
  },
  forwardShape: (s) => [...s.slice(0, -1), lastDim('stickBreaking.forwardShape', s, 1) + 1],
  inverseShape: (s) => [...s.slice(0, -1), lastDim('stickBreaking.inverseShape', s, 2) - 1],
})

/** The softmax map (not one-to-one). */
export interface SoftmaxTransform extends Transform { readonly _tag: 'Softmax' }

/**
 * y = softmax(x) over the last dim, x = log y (a right inverse: softmax(log y) = y on the
 * simplex; softmax(x + c) = softmax(x), so K inputs carry K − 1 degrees of freedom and there is no
 * Jacobian). Pyro's `transform_to(simplex)`, and the default map of a simplex param.
 *
 * @example
 * softmax().forward(tf.tensor1d([0, 0]))   // [0.5, 0.5]
 */
export const softmax = (): SoftmaxTransform => makeTransform<SoftmaxTransform>({
  tag: 'Softmax', name: 'softmax', domain: realVector, codomain: constraints.simplex,
  forward: (x) => tf.softmax(x),
  inverse: (y) => tf.log(clampProbs(y)),
})

/** n with n(n+1)/2 = m, or a ShapeError. */
const triangularSide = (who: string, shape: readonly number[]): number => {
  const m = lastDim(who, shape, 1)
  const n = Math.round((Math.sqrt(8 * m + 1) - 1) / 2)
  if (n * (n + 1) / 2 !== m) throw new ShapeError(`${who}: the last dim must be a triangular number n(n+1)/2 (1, 3, 6, 10, …); got shape ${showShape(shape)}`)
  return n
}

/** 1 at the diagonal positions of a row-major lower triangle of side n (0, 2, 5, 9, …), 0 elsewhere. */
const diagonalOfTriangle = (n: number): tf.Tensor => {
  const at = new Set(Array.from({ length: n }, (_, r) => r * (r + 1) / 2 + r))
  return vectorOf(n * (n + 1) / 2, (k) => at.has(k) ? 1 : 0)
}

/** Row-major lower triangle [..., n(n+1)/2] → [..., n, n] (zeros above the diagonal), by slices and pads. */
const fillLower = (v: tf.Tensor, n: number): tf.Tensor => tf.stack(Array.from({ length: n }, (_, r) =>
  padLast(tf.slice(v, [...Array<number>(v.rank - 1).fill(0), r * (r + 1) / 2], [...v.shape.slice(0, -1), r + 1]), 0, n - 1 - r)), v.rank - 1)

/** [..., n, n] → its row-major lower triangle [..., n(n+1)/2]. */
const readLower = (l: tf.Tensor, n: number): tf.Tensor => tf.concat(Array.from({ length: n }, (_, r) =>
  tf.reshape(tf.slice(l, [...Array<number>(l.rank - 2).fill(0), r, 0], [...l.shape.slice(0, -2), 1, r + 1]), [...l.shape.slice(0, -2), r + 1])), l.rank - 2)

/** The lower-Cholesky map. */
export interface LowerCholeskyBijector extends Bijector { readonly _tag: 'LowerCholesky' }

/**
 * ℝ^{n(n+1)/2} → lower-triangular n×n with a positive diagonal (NumPyro's LowerCholeskyTransform;
 * Pyro's acts on n×n matrices and ignores their upper part): x fills the lower triangle row by row,
 * L₀₀ = e^{x₀}, L₁₀ = x₁, L₁₁ = e^{x₂}, L₂₀ = x₃, …, so the diagonal is exp of its entries.
 * log |det ∂L/∂x| = Σ over the diagonal entries of x, one value per matrix.
 *
 * @example
 * lowerCholesky().forward(tf.tensor1d([0, 2, 0]))   // [[1, 0], [2, 1]]
 */
export const lowerCholesky = (): LowerCholeskyBijector => makeTransform<LowerCholeskyBijector>({
  tag: 'LowerCholesky', name: 'lowerCholesky', domain: realVector, codomain: constraints.lowerCholesky,
  forward: (x) => {
    const n = triangularSide('lowerCholesky.forward', x.shape), d = diagonalOfTriangle(n)
    return fillLower(tf.add(tf.mul(x, tf.sub(1, d)), tf.mul(tf.exp(tf.mul(x, d)), d)), n)
  },
  inverse: (l) => {
    const n = squareSize('lowerCholesky.inverse', l.shape), d = diagonalOfTriangle(n)
    const v = readLower(l, n)
    return tf.add(tf.mul(v, tf.sub(1, d)), tf.mul(tf.log(tf.add(tf.mul(v, d), tf.sub(1, d))), d))
  },
  logDet: (x) => tf.sum(tf.mul(x, diagonalOfTriangle(triangularSide('lowerCholesky.forwardLogDetJacobian', x.shape))), -1),
  forwardShape: (s) => { const n = triangularSide('lowerCholesky.forwardShape', s); return [...s.slice(0, -1), n, n] },
  inverseShape: (s) => { const n = squareSize('lowerCholesky.inverseShape', s); return [...s.slice(0, -2), n * (n + 1) / 2] },
})

/** The Cholesky outer product. */
export interface CholeskyOuterBijector extends Bijector { readonly _tag: 'CholeskyOuter' }

/**
 * L ↦ L Lᵀ, from lower-triangular matrices with a positive diagonal onto the symmetric
 * positive-definite ones (TFP's CholeskyOuterProduct); inverse: the Cholesky factorisation
 * (`cholesky` of the backend's linear algebra, which reads only the lower triangle).
 * As a map of the n(n+1)/2 free entries of L to those of Σ = L Lᵀ,
 * log |det ∂Σ/∂L| = n log 2 + Σᵢ (n − i) log Lᵢᵢ (i = 0 … n−1), one value per matrix.
 *
 * @example
 * chain(lowerCholesky(), choleskyOuter())   // bijectTo(constraints.positiveDefinite)
 */
export const choleskyOuter = (): CholeskyOuterBijector => makeTransform<CholeskyOuterBijector>({
  tag: 'CholeskyOuter', name: 'choleskyOuter', domain: constraints.lowerCholesky, codomain: constraints.positiveDefinite,
  forward: (l) => { squareSize('choleskyOuter.forward', l.shape); return tf.matMul(l, l, false, true) },
  inverse: (s) => cholesky(s),
  logDet: (l) => {
    const n = squareSize('choleskyOuter.forwardLogDetJacobian', l.shape)
    const diag = tf.sum(tf.mul(l, tf.eye(n)), -1)
    return tf.add(n * Math.LN2, tf.sum(tf.mul(vectorOf(n, (i) => n - i), tf.log(diag)), -1))
  },
  forwardShape: (s) => { squareSize('choleskyOuter.forwardShape', s); return [...s] },
  inverseShape: (s) => { squareSize('choleskyOuter.inverseShape', s); return [...s] },
})
