/**
 * Shared test helpers: memory assertions, float64 comparisons, CLT bounds,
 * quadrature and finite differences. Plain JS doubles throughout, so every
 * check against tfjs (float32) is against an independent reference.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { expect } from 'vitest'

/** fast-check settings used by every property: seeded, and modest run counts to keep CI fast. */
export const FC = { numRuns: 25, seed: 20261121 } as const

/** Batch (or sample) shapes of rank 0–2 with dims 1–3. */
export const smallShape = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 })

/** Product of dims. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

/** A float32 tensor from plain numbers. */
export const t = (values: readonly number[], shape: readonly number[]): tf.Tensor =>
  tf.tensor(Float32Array.from(values), [...shape], 'float32')

/** Reads a tensor into a plain array of doubles. */
export const read = (x: tf.Tensor): number[] => Array.from(x.dataSync())

/**
 * Runs `f`, disposes what it returns, and asserts `tf.memory().numTensors` is
 * back where it started: the call leaked nothing.
 */
export const expectNoLeak = (f: () => tf.TensorContainer): void => {
  const before = tf.memory().numTensors
  tf.dispose(f())
  expect(tf.memory().numTensors).toBe(before)
}

/** |a − b| ≤ rel·|b| + abs, elementwise, with a message naming the index. */
export const expectClose = (actual: readonly number[], expected: readonly number[], rel = 1e-4, abs = 1e-5): void => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((a, i) => {
    const b = expected[i]!
    const ok = (a === b) || Math.abs(a - b) <= rel * Math.abs(b) + abs
    if (!ok) expect.fail(`index ${i}: got ${a}, expected ${b} (rel ${rel}, abs ${abs})`)
  })
}

/** Per-element sample mean and variance of `x` (shape [n, ...rest]), as doubles. */
export const sampleMoments = (x: tf.Tensor): { mean: number[]; variance: number[]; m4: number[] } => {
  const n = x.shape[0]!
  const data = x.dataSync()
  const k = data.length / n
  const mean = new Array<number>(k).fill(0)
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) mean[j]! += data[i * k + j]! / n
  const variance = new Array<number>(k).fill(0)
  const m4 = new Array<number>(k).fill(0)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const d = data[i * k + j]! - mean[j]!
      variance[j]! += (d * d) / (n - 1)
      m4[j]! += (d * d * d * d) / n
    }
  }
  return { mean, variance, m4 }
}

/**
 * The CLT check: with n draws, the sample mean is within z·σ/√n of the mean
 * and the sample variance within z·√((μ4 − σ⁴)/n) of the variance.
 */
export const expectMomentsMatch = (draws: tf.Tensor, mean: readonly number[], variance: readonly number[], z = 5): void => {
  const n = draws.shape[0]!
  const m = sampleMoments(draws)
  mean.forEach((mu, j) => {
    const sd = Math.sqrt(variance[j]! / n)
    if (Math.abs(m.mean[j]! - mu) > z * sd + 1e-6 * Math.abs(mu)) {
      expect.fail(`mean[${j}]: sample ${m.mean[j]} vs ${mu}, bound ${z * sd}`)
    }
    const vsd = Math.sqrt(Math.max(m.m4[j]! - m.variance[j]! ** 2, 0) / n)
    if (Math.abs(m.variance[j]! - variance[j]!) > z * vsd + 1e-4 * variance[j]! + 1e-12) {
      expect.fail(`variance[${j}]: sample ${m.variance[j]} vs ${variance[j]}, bound ${z * vsd}`)
    }
  })
}

/** Composite Simpson's rule of f over [a, b] with `n` (even) intervals. */
export const simpson = (f: (x: number) => number, a: number, b: number, n = 2000): number => {
  const h = (b - a) / n
  let s = f(a) + f(b)
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h)
  return (s * h) / 3
}

/** Simpson weights and nodes, for integrating a density evaluated in one tensor call. */
export const simpsonGrid = (a: number, b: number, n = 2000): { nodes: number[]; weights: number[] } => {
  const h = (b - a) / n
  const nodes = Array.from({ length: n + 1 }, (_, i) => a + i * h)
  const weights = nodes.map((_, i) => ((i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2) * h) / 3)
  return { nodes, weights }
}

/** Central finite difference of a scalar function of one number. */
export const centralDiff = (f: (x: number) => number, x: number, h: number): number => (f(x + h) - f(x - h)) / (2 * h)

/** log Γ(x) for x > 0 (Lanczos, g = 7), in doubles. */
export const lgamma = (x: number): number => {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x)
  const y = x - 1
  let a = c[0]!
  const tt = y + 7.5
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i)
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(tt) - tt + Math.log(a)
}

/** log(1 + eˣ) in doubles. */
export const softplus64 = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))

/** log Σ exp in doubles. */
export const logSumExp64 = (xs: readonly number[]): number => {
  const m = Math.max(...xs)
  return m === -Infinity ? -Infinity : m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0))
}
