/**
 * Monte Carlo laws of the Gamma-based families (Gamma, Beta, Dirichlet, StudentT): an analytic KL
 * against the mean of log p − log q over draws of p, and a pathwise gradient of an expectation
 * against its closed form, each within z standard errors measured on the same draws.
 */
import * as tf from '@tensorflow/tfjs-core'
import { expect } from 'vitest'
import type { Distribution } from '../../src/distributions/distribution.js'
import { read } from '../helpers.js'

/** Mean and standard error of the mean of each column of `xs` (shape [n, ...rest]), in doubles. */
export const columnMeanAndSe = (xs: tf.Tensor): { mean: number[]; se: number[] } => {
  const n = xs.shape[0]!, data = xs.dataSync(), k = data.length / n
  const mean = Array.from({ length: k }, (_, j) => { let s = 0; for (let i = 0; i < n; i++) s += data[i * k + j]!; return s / n })
  const se = mean.map((m, j) => { let s = 0; for (let i = 0; i < n; i++) s += (data[i * k + j]! - m) ** 2; return Math.sqrt(s / (n - 1) / n) })
  return { mean, se }
}

/** Asserts that `analytic` (one value per batch element) is within z standard errors of the mean of log p(x) − log q(x), x ~ p. */
export const expectKlMatchesMonteCarlo = (p: Distribution, q: Distribution, analytic: readonly number[], n = 20000, z = 5): void => tf.tidy(() => {
  const x = p.sample([n], 123)
  const { mean, se } = columnMeanAndSe(tf.sub(p.logProb(x), q.logProb(x)))
  analytic.forEach((k, j) => {
    if (!(Math.abs(mean[j]! - k) <= z * se[j]! + 1e-6)) expect.fail(`KL[${j}]: analytic ${k}, Monte Carlo ${mean[j]} ± ${se[j]}`)
  })
})

/**
 * Asserts that the pathwise gradient of E[f(X)] w.r.t. each of `params` equals `expected` (flat,
 * one array per parameter) within z standard errors. `estimate(seed, ...params)` is a Monte Carlo
 * estimate of E[f(X)] from one batch of seeded `rsample` draws; its gradient is averaged over
 * `batches` seeds, and the spread of the batch gradients gives the standard error (plus a float32
 * floor of 1e-4 relative, for gradients that do not vary from draw to draw).
 */
export const expectPathwiseGradient = (estimate: (seed: number, ...params: tf.Tensor[]) => tf.Tensor, params: readonly tf.Tensor[],
  expected: ReadonlyArray<readonly number[]>, batches = 20, z = 5): void => tf.tidy(() => {
  const perBatch = Array.from({ length: batches }, (_, b) => tf.grads((...p: tf.Tensor[]) => estimate(1000 + b, ...p))([...params]).map(read))
  expected.forEach((want, i) => want.forEach((e, j) => {
    const gs = perBatch.map((g) => g[i]![j]!)
    const mean = gs.reduce((s, v) => s + v, 0) / batches
    const se = Math.sqrt(gs.reduce((s, v) => s + (v - mean) ** 2, 0) / (batches - 1) / batches)
    if (!(Math.abs(mean - e) <= z * se + 1e-4 * Math.max(1, Math.abs(e)))) expect.fail(`∂E/∂param${i}[${j}]: pathwise ${mean} ± ${se}, closed form ${e}`)
  }))
})
