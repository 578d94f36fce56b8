/**
 * The batched Gamma sampler and its implicit reparameterisation gradients, against float64
 * references computed in the tests (special-reference.ts): the regularised incomplete gamma
 * P(α, x), differentiated in α by central differences.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { FLOAT32_TINY, gammaSample, logGammaSample, standardGammaGrad } from '../../src/backend/gamma-sampler.js'
import { standardUniform } from '../../src/backend/random.js'
import { digamma, trigamma } from '../../src/backend/special.js'
import { expectClose, expectMomentsMatch, expectNoLeak, read, sampleMoments, t } from '../helpers.js'
import { implicitGrad64 } from './special-reference.js'

const ALPHAS = [1e-3, 0.01, 0.1, 0.5, 1, 2, 5, 9.9, 15, 19.9, 20, 50, 1e3, 1e4]

/** Mean and standard error of the mean, in doubles. */
const meanAndSe = (xs: readonly number[]): [number, number] => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)
  return [m, Math.sqrt(v / xs.length)]
}

describe('gamma sampler', () => {
  it('the implicit gradient equals −(∂F/∂α)/p (float64 differences of the incomplete gamma) to 5e-5 at seeded draws', () => tf.tidy(() => {
    for (const a of ALPHAS) {
      const z = read(gammaSample(tf.scalar(a), [300], 3)).filter((v) => v > 1e-30)
      const extremes = a <= 20 ? [1e-6, 0.05, 30, 3 * a + 40] : [a - 6 * Math.sqrt(a), a + 8 * Math.sqrt(a)]
      const xs = [...z, ...extremes]
      const g = read(standardGammaGrad(tf.fill([xs.length], a), t(xs, [xs.length])))
      xs.forEach((v, i) => {
        const want = implicitGrad64(a, v)
        if (!(Math.abs(g[i]! - want) <= 5e-5 * Math.abs(want))) expect.fail(`α = ${a}, z = ${v}: got ${g[i]}, expected ${want}`)
      })
    }
  }))

  it('pathwise Monte Carlo: ∂E[x]/∂α = 1/rate and ∂E[x]/∂rate = −α/rate² (5 standard errors)', () => tf.tidy(() => {
    const rate = 2.5, n = 20000
    for (const a of [0.3, 2, 40]) {
      const [ga, gr] = tf.grads((al: tf.Tensor, r: tf.Tensor) => tf.mean(tf.div(gammaSample(al, [n], 11), r)))([tf.scalar(a), tf.scalar(rate)])
      const z = gammaSample(tf.scalar(a), [n], 11)
      const [, seA] = meanAndSe(read(standardGammaGrad(tf.fill([n], a), z)).map((v) => v / rate))
      const [, seR] = meanAndSe(read(z).map((v) => -v / rate ** 2))
      expect(Math.abs(read(ga!)[0]! - 1 / rate)).toBeLessThan(5 * seA)
      expect(Math.abs(read(gr!)[0]! + a / rate ** 2)).toBeLessThan(5 * seR)
    }
  }))

  it('gradients reach a batched concentration with its own shape (broadcast over the sample shape)', () => tf.tidy(() => {
    const alpha = t([0.5, 3], [2])
    const g = tf.grad((al: tf.Tensor) => tf.sum(gammaSample(al, [4, 2], 1)))(alpha)
    expect(g.shape).toEqual([2])
    const z = gammaSample(alpha, [4, 2], 1)
    expectClose(read(g), read(tf.sum(standardGammaGrad(tf.broadcastTo(alpha, [4, 2]), z), 0)), 1e-5)
  }))

  it('log-draws have E[log X] = ψ(α) and Var[log X] = ψ′(α) (CLT), and are finite, for α from 1e-3 to 500', () => tf.tidy(() => {
    const alphas = [1e-3, 0.1, 1, 7, 500]
    const l = logGammaSample(t(alphas, [5]), [20000, 5], 5)
    read(l).forEach((v) => expect(Number.isFinite(v)).toBe(true))
    const a = t(alphas, [5])
    expectMomentsMatch(l, read(digamma(a)), read(trigamma(a)))
  }))

  it('draws have mean α and variance α (CLT), lie in (0, ∞), and tiny α clamps to the smallest normal float32', () => tf.tidy(() => {
    const alphas = [0.2, 1, 4.5, 300]
    const x = gammaSample(t(alphas, [4]), [20000, 4], 9)
    expectMomentsMatch(x, alphas, alphas)
    expect(sampleMoments(x).mean.length).toBe(4)
    const tiny = read(gammaSample(tf.scalar(1e-3), [1000], 2))
    expect(Math.min(...tiny)).toBe(Math.fround(FLOAT32_TINY))
    tiny.forEach((v) => expect(v > 0 && Number.isFinite(v)).toBe(true))
  }))

  it('seeded draws repeat (all accept/reject rounds included); other seeds differ; unseeded draws are fresh', () => tf.tidy(() => {
    const alpha = t([0.05, 1, 2.5, 80], [4])
    const a = read(logGammaSample(alpha, [5000, 4], 17))
    expect(read(logGammaSample(alpha, [5000, 4], 17))).toEqual(a)
    expect(read(logGammaSample(alpha, [5000, 4], 18))).not.toEqual(a)
    expect(read(gammaSample(alpha, [3, 4]))).not.toEqual(read(gammaSample(alpha, [3, 4])))
    expect(read(standardUniform([4], 3))).toEqual(read(standardUniform([4], 3)))
    read(standardUniform([10000], 1)).forEach((u) => expect(u > 0 && u <= 1).toBe(true))
  }))

  it('leaves numTensors unchanged (draws and gradients)', () => {
    const alpha = t([0.5, 2, 30], [3])
    expectNoLeak(() => [gammaSample(alpha, [100, 3], 1), logGammaSample(alpha, [2, 3])])
    expectNoLeak(() => tf.grad((al: tf.Tensor) => tf.sum(gammaSample(al, [50, 3], 2)))(alpha))
    expectNoLeak(() => standardGammaGrad(alpha, alpha))
    alpha.dispose()
  })
})
