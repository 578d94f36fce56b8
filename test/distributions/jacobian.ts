/**
 * Jacobians for bijector tests: by autodiff (one tf.grad per output, small sizes) or by central
 * differences of a float64 map, and log |det| of a square matrix in float64 (LU, partial pivoting).
 */
import * as tf from '@tensorflow/tfjs-core'
import { read, t } from '../helpers.js'

/** J[i][j] = ∂f(x)ᵢ/∂xⱼ by tf.grad of each output of `f` (outputs flattened, then `pick` chooses which rows to keep). */
export const autodiffJacobian = (f: (x: tf.Tensor) => tf.Tensor, x: readonly number[], pick?: readonly number[]): number[][] => tf.tidy(() => {
  const xt = t(x, [x.length])
  const rows = pick ?? Array.from({ length: f(xt).size }, (_, i) => i)
  return rows.map((i) => read(tf.grad((u: tf.Tensor) => tf.sum(tf.slice(tf.reshape(f(u), [-1]), [i], [1])))(xt)))
})

/** J[i][j] = ∂f(x)ᵢ/∂xⱼ by central differences of a float64 map (step h·max(1, |xⱼ|)). */
export const finiteDiffJacobian = (f: (x: readonly number[]) => number[], x: readonly number[], h = 1e-6): number[][] => {
  const cols = x.map((xj, j) => {
    const step = h * Math.max(1, Math.abs(xj))
    const up = f(x.map((v, k) => (k === j ? v + step : v))), down = f(x.map((v, k) => (k === j ? v - step : v)))
    return up.map((u, i) => (u - down[i]!) / (2 * step))
  })
  return cols[0]!.map((_, i) => cols.map((c) => c[i]!))
}

/** log |det A| of a square matrix, in float64 (LU with partial pivoting). */
export const logAbsDet = (a: readonly (readonly number[])[]): number => {
  const m = a.map((r) => [...r])
  const n = m.length
  let total = 0
  for (let k = 0; k < n; k++) {
    let p = k
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i]![k]!) > Math.abs(m[p]![k]!)) p = i
    ;[m[k], m[p]] = [m[p]!, m[k]!]
    const pivot = m[k]![k]!
    total += Math.log(Math.abs(pivot))
    for (let i = k + 1; i < n; i++) {
      const factor = m[i]![k]! / pivot
      for (let j = k; j < n; j++) m[i]![j]! -= factor * m[k]![j]!
    }
  }
  return total
}

/** The row-major lower triangle of an n×n matrix given flat (row-major). */
export const lowerOf = (flat: readonly number[], n: number): number[] =>
  Array.from({ length: n }, (_, r) => flat.slice(r * n, r * n + r + 1)).flat()

/** The flat indices (row-major) of the lower triangle of an n×n matrix. */
export const lowerIndices = (n: number): number[] =>
  Array.from({ length: n }, (_, r) => Array.from({ length: r + 1 }, (_, c) => r * n + c)).flat()
