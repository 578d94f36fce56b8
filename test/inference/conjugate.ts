/**
 * The Normal–Normal conjugate model, with everything in closed form (float64):
 * z ~ N(μ0, σ0), x_i ~ N(z, σ), i = 1..n. Used by the ELBO, IWAE and SVI tests.
 */
import * as tf from '@tensorflow/tfjs-core'
import { normal } from '../../src/distributions/normal.js'
import * as constraints from '../../src/distributions/constraints.js'
import { observe, param, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'

export const MU0 = 0.5
export const SIGMA0 = 2
export const SIGMA = 1
export const XS = [1.2, -0.3, 2.0, 0.7]
const n = XS.length
const sumX = XS.reduce((a, b) => a + b, 0)

/** Exact posterior N(μn, σn). */
export const POST_PREC = 1 / SIGMA0 ** 2 + n / SIGMA ** 2
export const POST_LOC = (MU0 / SIGMA0 ** 2 + sumX / SIGMA ** 2) / POST_PREC
export const POST_SCALE = 1 / Math.sqrt(POST_PREC)

/** log p(x): x ~ N(μ0·1, σ²I + σ0²·11ᵀ), via Sherman–Morrison. */
export const LOG_EVIDENCE = (() => {
  const c = 1 + (n * SIGMA0 ** 2) / SIGMA ** 2
  const d = XS.map((x) => x - MU0)
  const quad = d.reduce((a, v) => a + v * v, 0) / SIGMA ** 2 - (SIGMA0 ** 2 / SIGMA ** 4) * d.reduce((a, v) => a + v, 0) ** 2 / c
  return -0.5 * n * Math.log(2 * Math.PI) - 0.5 * (2 * n * Math.log(SIGMA) + Math.log(c)) - 0.5 * quad
})()

/** The exact ELBO of the guide N(m, s), and its gradient in (m, s). */
export const exactElbo = (m: number, s: number): { value: number; dm: number; ds: number } => {
  const lik = XS.reduce((a, x) => a - 0.5 * Math.log(2 * Math.PI * SIGMA ** 2) - ((x - m) ** 2 + s * s) / (2 * SIGMA ** 2), 0)
  const prior = -0.5 * Math.log(2 * Math.PI * SIGMA0 ** 2) - ((m - MU0) ** 2 + s * s) / (2 * SIGMA0 ** 2)
  const entropy = 0.5 * Math.log(2 * Math.PI * Math.E * s * s)
  return {
    value: lik + prior + entropy,
    dm: (sumX - n * m) / SIGMA ** 2 - (m - MU0) / SIGMA0 ** 2,
    ds: -n * s / SIGMA ** 2 - s / SIGMA0 ** 2 + 1 / s,
  }
}

/** The model; `x` is the data vector. */
export const model = (x: tf.Tensor) => gen(function* () {
  const z = yield* sample('z', normal(MU0, SIGMA0))
  // z's own shape ([] per particle, [K] under K vectorised particles) gets a trailing data axis.
  yield* observe('x', normal(tf.add(tf.expandDims(z, -1), tf.zerosLike(x)), SIGMA).toEvent(1), x)
  return z
})

/** The guide N(loc, scale) with learnable params (initial values given). */
export const guide = (init: { loc: number; scale: number }) => (_x: tf.Tensor) => gen(function* () {
  const loc = yield* param('loc', () => tf.scalar(init.loc))
  const scale = yield* param('scale', () => tf.scalar(init.scale), { constraint: constraints.positive })
  return yield* sample('z', normal(loc, scale))
})

/** The guide with fixed tensors (for differentiating an estimate directly). */
export const fixedGuide = (loc: tf.Tensor, scale: tf.Tensor) => (_x: tf.Tensor) => gen(function* () {
  return yield* sample('z', normal(loc, scale))
})

/** The data as a tensor. */
export const data = (): tf.Tensor => tf.tensor1d(XS)
