/**
 * The multivariate normal with a low-rank-plus-diagonal covariance Σ = W Wᵀ + D (event dim 1), in
 * O(n r²) per batch element through the capacitance matrix C = I + Wᵀ D⁻¹ W (r × r):
 *
 * log det Σ = log det C + Σᵢ log Dᵢ,   (x − μ)ᵀ Σ⁻¹ (x − μ) = ‖D^{-½}(x − μ)‖² − ‖L_C⁻¹ Wᵀ D⁻¹ (x − μ)‖²
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { broadcastTo } from '../backend/numerics.js'
import { cholesky, matVec, triangularSolve, triangularSolveVec } from '../backend/linalg.js'
import { standardNormal } from '../backend/random.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { halfLogDet } from './multivariate-normal.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

const NAME = 'lowRankMultivariateNormal'
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)

/** LowRankMultivariateNormal(loc, W, D): reparameterised, support ℝⁿ, event shape [n]. */
export interface LowRankMultivariateNormal extends Distribution<tf.Tensor, true> {
  readonly _tag: 'LowRankMultivariateNormal'
  readonly mean: tf.Tensor
  /** The diagonal of Σ: Σₖ W²ᵢₖ + Dᵢ, shape batch ++ [n]. */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly loc: tf.Tensor
  /** W, broadcastable to batch ++ [n, r]. */
  readonly covFactor: tf.Tensor
  /** D (positive), broadcastable to batch ++ [n]. */
  readonly covDiag: tf.Tensor
  /** Σ = W Wᵀ + diag(D), batch ++ [n, n]: a new tensor on each access. */
  readonly covariance: tf.Tensor
  /** Σ⁻¹ by Woodbury, batch ++ [n, n]: a new tensor on each access. */
  readonly precision: tf.Tensor
  /** The lower Cholesky factor of Σ (an n × n factorisation), batch ++ [n, n]: a new tensor on each access. */
  readonly scaleTril: tf.Tensor
  readonly toEvent: (n: number) => Independent<LowRankMultivariateNormal>
  readonly expand: (batchShape: readonly number[]) => LowRankMultivariateNormal
}

const shapesOf = (loc: tf.Tensor, w: tf.Tensor, d: tf.Tensor): number[] => {
  const n = loc.shape[loc.rank - 1]
  if (loc.rank < 1 || n === 0) throw new ShapeError(`${NAME}: argument 'loc' must have shape [..., n] with n ≥ 1; got ${showShape(loc.shape)}`)
  if (w.rank < 2 || w.shape[w.rank - 2] !== n || w.shape[w.rank - 1] === 0) {
    throw new ShapeError(`${NAME}: argument 'covFactor' must have shape [..., ${n}, r] with r ≥ 1 to match loc ${showShape(loc.shape)}; got ${showShape(w.shape)}`)
  }
  if (d.rank < 1 || d.shape[d.rank - 1] !== n) {
    throw new ShapeError(`${NAME}: argument 'covDiag' must have shape [..., ${n}] to match loc ${showShape(loc.shape)}; got ${showShape(d.shape)}`)
  }
  return broadcastShapes(NAME, [['loc (batch dims)', loc.shape.slice(0, -1)], ['covFactor (batch dims)', w.shape.slice(0, -2)],
    ['covDiag (batch dims)', d.shape.slice(0, -1)]])
}

/**
 * LowRankMultivariateNormal(loc, covFactor W [..., n, r], covDiag D [..., n]) with Σ = W Wᵀ + diag(D):
 * log p(x) = −½ (x − μ)ᵀ Σ⁻¹ (x − μ) − ½ log det Σ − (n/2) log 2π, evaluated through the capacitance
 * matrix I + Wᵀ D⁻¹ W (Woodbury), never factorising Σ. `rsample` is μ + W ε₁ + √D ε₂.
 *
 * @example
 * const d = lowRankMultivariateNormal(tf.zeros([5]), tf.ones([5, 2]), tf.ones([5]))
 * d.logProb(d.sample([10], 0))   // shape [10]
 */
export const lowRankMultivariateNormal = (loc: TensorLike, covFactor: TensorLike, covDiag: TensorLike): LowRankMultivariateNormal => {
  const [p, batch] = convertParams(NAME, { loc, covFactor, covDiag }, (q) => {
    const shape = shapesOf(q.loc, q.covFactor, q.covDiag)
    checkParam(NAME, 'loc', q.loc, constraints.real)
    checkParam(NAME, 'covFactor', q.covFactor, constraints.real)
    checkParam(NAME, 'covDiag', q.covDiag, constraints.positive)
    return shape
  })
  return build(p.loc, p.covFactor, p.covDiag, batch)
}

/** W scaled by D^{-½} row-wise, the capacitance factor L_C = chol(I + W̃ᵀ W̃), and ½ log det Σ. */
const factors = (w: tf.Tensor, d: tf.Tensor): { ws: tf.Tensor; lc: tf.Tensor; halfLogDetSigma: tf.Tensor } => {
  const r = w.shape[w.rank - 1]!
  const ws = tf.div(w, tf.expandDims(tf.sqrt(d), -1))
  const lc = cholesky(tf.add(tf.eye(r), tf.matMul(ws, ws, true, false)))
  return { ws, lc, halfLogDetSigma: tf.add(halfLogDet(lc), tf.mul(0.5, tf.sum(tf.log(d), -1))) }
}

/** (x − μ)ᵀ Σ⁻¹ (x − μ) = ‖u‖² − ‖L_C⁻¹ W̃ᵀ u‖² with u = D^{-½}(x − μ); x's leading dims broadcast. */
const mahalanobis = (x: tf.Tensor, loc: tf.Tensor, d: tf.Tensor, ws: tf.Tensor, lc: tf.Tensor): tf.Tensor => {
  const u = tf.div(tf.sub(x, loc), tf.sqrt(d))
  const v = triangularSolveVec(lc, matVec(transposeLast(ws), u))
  return tf.sub(tf.sum(tf.square(u), -1), tf.sum(tf.square(v), -1))
}

const transposeLast = (x: tf.Tensor): tf.Tensor =>
  tf.transpose(x, [...Array.from({ length: x.rank - 2 }, (_, i) => i), x.rank - 1, x.rank - 2])

/** Σ⁻¹ = D^{-½} (I − Aᵀ A) D^{-½} with A = L_C⁻¹ W̃ᵀ. */
const precisionOf = (d: tf.Tensor, ws: tf.Tensor, lc: tf.Tensor): tf.Tensor => {
  const n = ws.shape[ws.rank - 2]!
  const a = triangularSolve(lc, transposeLast(ws))
  const inner = tf.sub(tf.eye(n), tf.matMul(a, a, true, false))
  const s = tf.rsqrt(d)
  return tf.mul(tf.mul(inner, tf.expandDims(s, -1)), tf.expandDims(s, -2))
}

const build = (loc: tf.Tensor, w: tf.Tensor, d: tf.Tensor, batch: readonly number[]): LowRankMultivariateNormal => {
  const n = w.shape[w.rank - 2]!, r = w.shape[w.rank - 1]!
  const full = (x: tf.Tensor, event: readonly number[]): tf.Tensor => broadcastTo(x, [...batch, ...event])
  const covariance = (): tf.Tensor => tf.add(tf.matMul(w, w, false, true), tf.mul(tf.eye(n), tf.expandDims(d, -2)))
  return makeDistribution<LowRankMultivariateNormal, 'covariance' | 'precision' | 'scaleTril'>({
    tag: 'LowRankMultivariateNormal', name: NAME, fields: { loc, covFactor: w, covDiag: d },
    lazy: {
      covariance: () => full(covariance(), [n, n]),
      precision: () => { const { ws, lc } = factors(w, d); return full(precisionOf(d, ws, lc), [n, n]) },
      scaleTril: () => full(cholesky(covariance()), [n, n]),
    },
    batchShape: batch, eventShape: [n], reparameterized: true, support: constraints.independent(constraints.real, 1),
    draw: (s, seed) => {
      const eps = standardNormal([...s, ...batch, r + n], seed)
      const [e1, e2] = tf.split(eps, [r, n], -1) as [tf.Tensor, tf.Tensor]
      return tf.add(tf.add(loc, matVec(w, e1)), tf.mul(tf.sqrt(d), e2))
    },
    logProb: (x) => {
      const { ws, lc, halfLogDetSigma } = factors(w, d)
      return tf.sub(tf.mul(-0.5, mahalanobis(x, loc, d, ws, lc)), tf.add(halfLogDetSigma, n * HALF_LOG_2PI))
    },
    mean: () => full(loc, [n]),
    variance: () => full(tf.add(tf.sum(tf.square(w), -1), d), [n]),
    entropy: () => full(tf.add(factors(w, d).halfLogDetSigma, n * (0.5 + HALF_LOG_2PI)), []),
    expand: (b) => build(broadcastTo(loc, [...b, n]), broadcastTo(w, [...b, n, r]), broadcastTo(d, [...b, n]), b),
  })
}
