/**
 * The multivariate normal distribution (event dim 1), held as a lower Cholesky factor L of its
 * covariance Σ = L Lᵀ, given directly (`scaleTril`) or factorised from `covariance` or `precision`.
 *
 * log p(x) = −½‖L⁻¹(x − μ)‖² − Σᵢ log Lᵢᵢ − (n/2) log 2π
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, ShapeError, indexIn, showShape } from '../errors.js'
import { broadcastTo } from '../backend/numerics.js'
import { cholesky, diagPart, matVec, triangularSolve, triangularSolveVec, tril as lowerTriangle } from '../backend/linalg.js'
import { standardNormal } from '../backend/random.js'
import { scoped, untaped } from '../backend/scope.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import type { Normal } from './normal.js'
import { asTensor, broadcastShapes } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam, isValidating } from './validation.js'

const NAME = 'multivariateNormal'
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)

/** MultivariateNormal(loc, L): reparameterised, support ℝⁿ, event shape [n]. */
export interface MultivariateNormal extends Distribution<tf.Tensor, true> {
  readonly _tag: 'MultivariateNormal'
  readonly mean: tf.Tensor
  /** The diagonal of Σ, shape batch ++ [n]. */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** μ, broadcastable to batch ++ [n]. */
  readonly loc: tf.Tensor
  /** L, lower-triangular with a positive diagonal, broadcastable to batch ++ [n, n]. */
  readonly scaleTril: tf.Tensor
  /** Σ = L Lᵀ, batch ++ [n, n]: a new tensor on each access. */
  readonly covariance: tf.Tensor
  /** Σ⁻¹ = L⁻ᵀ L⁻¹, batch ++ [n, n]: a new tensor on each access. */
  readonly precision: tf.Tensor
  readonly toEvent: (n: number) => Independent<MultivariateNormal>
  readonly expand: (batchShape: readonly number[]) => MultivariateNormal
}

/** Exactly one of the three ways to give the covariance. */
export type MvnScale =
  | { readonly scaleTril: TensorLike; readonly covariance?: never; readonly precision?: never }
  | { readonly covariance: TensorLike; readonly scaleTril?: never; readonly precision?: never }
  | { readonly precision: TensorLike; readonly scaleTril?: never; readonly covariance?: never }

type Kind = 'scaleTril' | 'covariance' | 'precision'
const KINDS: readonly Kind[] = ['scaleTril', 'covariance', 'precision']

/** Any Gaussian holding a mean and a lower Cholesky factor of its covariance (what the Gaussian KLs read). */
export interface MvnLike extends Distribution {
  readonly loc: tf.Tensor
  readonly scaleTril: tf.Tensor
}

const transposeLast = (x: tf.Tensor): tf.Tensor =>
  tf.transpose(x, [...Array.from({ length: x.rank - 2 }, (_, i) => i), x.rank - 1, x.rank - 2])

/** Σᵢ log Lᵢᵢ = ½ log det Σ, shape of L's batch dims (shared with the low-rank family; not re-exported). */
export const halfLogDet = (l: tf.Tensor): tf.Tensor => tf.sum(tf.log(diagPart(l)), -1)

/** log N(x; μ, L Lᵀ) = −½‖L⁻¹(x − μ)‖² − Σ log Lᵢᵢ − (n/2) log 2π; x's leading dims broadcast against the batch. */
const mvnLogDensity = (x: tf.Tensor, loc: tf.Tensor, l: tf.Tensor): tf.Tensor => {
  const z = triangularSolveVec(l, tf.sub(x, loc))
  const n = l.shape[l.rank - 1]!
  return tf.sub(tf.mul(-0.5, tf.sum(tf.square(z), -1)), tf.add(halfLogDet(l), n * HALF_LOG_2PI))
}

/** The factor L of Σ = P⁻¹ (as Pyro): P = U Uᵀ with U upper (Cholesky of P reversed), L = U⁻ᵀ. */
const precisionToScaleTril = (p: tf.Tensor): tf.Tensor => {
  const lf = cholesky(tf.reverse(p, [-2, -1]))
  return triangularSolve(transposeLast(tf.reverse(lf, [-2, -1])), tf.eye(p.shape[p.rank - 1]!))
}

/** The flat batch index of the first factor (lower by construction) with a non-finite entry or a diagonal entry ≤ 0, or −1. */
const firstFailedFactor = scoped(`${NAME}.checkFactor`, (l: tf.Tensor): number => untaped(() => {
  const ok = tf.logicalAnd(tf.all(tf.isFinite(l), [-2, -1]), tf.all(tf.greater(diagPart(l), 0), -1))
  return ok.dataSync().findIndex((v) => v !== 1)
}))

/** A failed factorisation (a non-finite or non-positive pivot) is an {@link InvalidArgumentError} naming the batch index. */
const checkFactor = (arg: Kind, m: tf.Tensor, l: tf.Tensor): void => {
  if (!isValidating()) return
  const i = firstFailedFactor(l)
  if (i < 0) return
  const at = indexIn(i, l.shape.slice(0, -2)).join(', ')
  throw new InvalidArgumentError(`${NAME}: argument '${arg}' must be symmetric positive-definite; its Cholesky factorisation failed (a non-finite or non-positive pivot) at batch index [${at}] of shape ${showShape(m.shape)}`)
}

const kindOf = (scale: MvnScale): Kind => {
  if (typeof scale !== 'object' || scale === null) throw new InvalidArgumentError(`${NAME}: the second argument must be { scaleTril }, { covariance } or { precision }; got ${String(scale)}`)
  const given = KINDS.filter((k) => (scale as Partial<Record<Kind, unknown>>)[k] !== undefined)
  if (given.length !== 1) {
    throw new InvalidArgumentError(`${NAME}: give exactly one of scaleTril, covariance or precision; got ${given.length === 0 ? 'none' : given.join(' and ')}`)
  }
  return given[0]!
}

const batchOf = (loc: tf.Tensor, m: tf.Tensor, arg: Kind): number[] => {
  const n = loc.shape[loc.rank - 1]
  if (loc.rank < 1 || n === 0) throw new ShapeError(`${NAME}: argument 'loc' must have shape [..., n] with n ≥ 1; got ${showShape(loc.shape)}`)
  if (m.rank < 2 || m.shape[m.rank - 1] !== n || m.shape[m.rank - 2] !== n) {
    throw new ShapeError(`${NAME}: argument '${arg}' must have shape [..., ${n}, ${n}] to match loc ${showShape(loc.shape)}; got ${showShape(m.shape)}`)
  }
  return broadcastShapes(NAME, [['loc (batch dims)', loc.shape.slice(0, -1)], [`${arg} (batch dims)`, m.shape.slice(0, -2)]])
}

/**
 * MultivariateNormal(loc, { scaleTril } | { covariance } | { precision }), event dim 1:
 * log p(x) = −½‖L⁻¹(x − μ)‖² − Σᵢ log Lᵢᵢ − (n/2) log 2π with Σ = L Lᵀ. A covariance or precision is
 * factorised with {@link cholesky} (and not kept: `covariance` and `precision` are computed from L);
 * one that is not positive definite is an InvalidArgumentError.
 * `rsample` is μ + L ε with ε ~ N(0, I).
 *
 * @example
 * const d = multivariateNormal(tf.zeros([3]), { covariance: tf.tensor2d([[2, 1, 0], [1, 2, 0], [0, 0, 1]]) })
 * d.logProb(d.sample([10], 0))   // shape [10]
 */
export const multivariateNormal = (loc: TensorLike, scale: MvnScale): MultivariateNormal => {
  const kind = kindOf(scale)
  const { $loc, l, batch } = factorise(loc, kind, scale[kind as keyof MvnScale] as TensorLike)
  return build($loc, l, batch)
}

/**
 * Converts and checks the parameters in one memory scope and keeps only μ and L: a covariance or
 * precision given as numbers is freed once factorised (the caller's own tensors are never touched).
 */
const factorise = scoped(`${NAME}.params`, (loc: TensorLike, kind: Kind, given: TensorLike) => {
  const $loc = asTensor(loc, 'loc', NAME), m = asTensor(given, kind, NAME)
  const batch = batchOf($loc, m, kind)
  checkParam(NAME, 'loc', $loc, constraints.real)
  if (kind === 'scaleTril') {
    checkParam(NAME, kind, m, constraints.lowerCholesky)
    return { $loc, l: m, batch }
  }
  checkParam(NAME, kind, m, constraints.positiveDefinite)
  const l = kind === 'covariance' ? cholesky(m) : precisionToScaleTril(m)
  checkFactor(kind, m, l)
  return { $loc, l, batch }
})

/** The distribution from checked parameters (expand reuses it without validating again). */
const build = (loc: tf.Tensor, l: tf.Tensor, batch: readonly number[]): MultivariateNormal => {
  const n = l.shape[l.rank - 1]!
  const full = (x: tf.Tensor, event: readonly number[]): tf.Tensor => broadcastTo(x, [...batch, ...event])
  // Only L's lower triangle is read (as by the solves), so no gradient reaches the zeros above it.
  const tril = (): tf.Tensor => lowerTriangle(l)
  const precision = (): tf.Tensor => {
    const inv = triangularSolve(l, tf.eye(n))
    return tf.matMul(inv, inv, true, false)
  }
  return makeDistribution<MultivariateNormal, 'covariance' | 'precision'>({
    tag: 'MultivariateNormal', name: NAME, fields: { loc, scaleTril: l },
    lazy: { covariance: () => { const lo = tril(); return full(tf.matMul(lo, lo, false, true), [n, n]) }, precision: () => full(precision(), [n, n]) },
    batchShape: batch, eventShape: [n], reparameterized: true, support: constraints.independent(constraints.real, 1),
    draw: (s, seed) => tf.add(loc, matVec(tril(), standardNormal([...s, ...batch, n], seed))),
    logProb: (x) => mvnLogDensity(x, loc, l),
    mean: () => full(loc, [n]),
    variance: () => full(tf.sum(tf.square(tril()), -1), [n]),
    entropy: () => broadcastTo(tf.add(halfLogDet(l), n * (0.5 + HALF_LOG_2PI)), batch),
    expand: (b) => build(broadcastTo(loc, [...b, n]), broadcastTo(l, [...b, n, n]), b),
  })
}

/**
 * KL between Gaussians from their means and lower Cholesky factors:
 * ½ (‖Lq⁻¹ Lp‖²_F + ‖Lq⁻¹(μq − μp)‖² − n) + Σ log (Lq)ᵢᵢ − Σ log (Lp)ᵢᵢ, shape `batch`.
 */
const klGaussian = (locP: tf.Tensor, lp: tf.Tensor, locQ: tf.Tensor, lq: tf.Tensor, batch: readonly number[]): tf.Tensor => {
  const n = lp.shape[lp.rank - 1]!
  const trace = tf.sum(tf.square(triangularSolve(lq, lp)), [-2, -1])
  const maha = tf.sum(tf.square(triangularSolveVec(lq, tf.sub(locQ, locP))), -1)
  const half = tf.mul(0.5, tf.sub(tf.add(trace, maha), n))
  return broadcastTo(tf.add(half, tf.sub(halfLogDet(lq), halfLogDet(lp))), batch)
}

const pairBatch = (p: { readonly batchShape: readonly number[] }, q: { readonly batchShape: readonly number[] }, name: string): number[] =>
  broadcastShapes(name, [['p (batch)', p.batchShape], ['q (batch)', q.batchShape]])

/**
 * KL(p ‖ q) for two multivariate normals (or any {@link MvnLike}, e.g. a low-rank one):
 * ½ (tr(Σq⁻¹Σp) + (μq − μp)ᵀΣq⁻¹(μq − μp) − n + log det Σq − log det Σp), shape = the broadcast batch.
 *
 * @example klMvnMvn(multivariateNormal(mu, { scaleTril: l }), multivariateNormal(tf.zeros([3]), { covariance: tf.eye(3) }))
 */
export const klMvnMvn = scoped('klMvnMvn', (p: MvnLike, q: MvnLike): tf.Tensor =>
  klGaussian(p.loc, p.scaleTril, q.loc, q.scaleTril, pairBatch(p, q, 'klMvnMvn')))

/**
 * KL(p ‖ q) for p = normal(μ, σ).toEvent(1) (a diagonal Gaussian: an Independent of a Normal over one
 * dim) and a multivariate normal q: the Gaussian KL with Lp = diag(σ).
 *
 * @example klNormalMvn(normal(tf.zeros([3]), 1).toEvent(1), multivariateNormal(tf.zeros([3]), { covariance: sigma }))
 */
export const klNormalMvn = scoped('klNormalMvn', (p: Independent<Normal>, q: MvnLike): tf.Tensor => {
  if (p.reinterpreted !== 1 || p.base._tag !== 'Normal') {
    throw new ShapeError(`klNormalMvn: p must be normal(…).toEvent(1); got ${p.base.name}(…).toEvent(${p.reinterpreted})`)
  }
  const base = p.base, shape = base.batchShape, n = shape[shape.length - 1]!
  const sigma = broadcastTo(base.scale, shape)
  const lp = tf.mul(tf.eye(n), tf.expandDims(sigma, -2))
  return klGaussian(broadcastTo(base.loc, shape), lp, q.loc, q.scaleTril, pairBatch(p, q, 'klNormalMvn'))
})
