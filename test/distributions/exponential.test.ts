import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { exponential, klExponentialExponential, klExponentialGamma } from '../../src/distributions/exponential.js'
import { gamma } from '../../src/distributions/gamma.js'
import type { Exponential } from '../../src/distributions/exponential.js'
import { InvalidArgumentError, NonFiniteArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, lgamma, read, sampleMoments, simpson, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, expectFiniteLogProbAndGrads, expectRsampleGradsMatchFd, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, rate: number): number => Math.log(rate) - rate * x
const kl64 = (a: number, b: number): number => Math.log(a / b) + b / a - 1

/** A batch shape with rates log-uniform in [1e-3, 1e3]. */
const withRates = smallShape.chain((batch) => doubles(sizeOf(batch), -3, 3).map((u) => ({ batch, rate: u.map((v) => 10 ** v) })))

/** Per-element mean and standard error of `x` (shape [n, ...]), doubles. */
const meanAndSe = (x: tf.Tensor): Array<[number, number]> => {
  const m = sampleMoments(x), n = x.shape[0]!
  return m.mean.map((mu, j) => [mu, Math.sqrt(m.variance[j]! / n)])
}

describe('exponential', () => {
  const cases = withRates.map((p) => ({ ...p, make: () => exponential(t(p.rate, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'Exponential', dtype: 'float32', repeatable: 'rsample', expandedLogProb: true,
    expandTiles: { param: (d) => d.rate, rel: 0, abs: 0 } })
  referenceLogProbLaw(cases, { params: (d) => [d.rate], ref, rel: 1e-4, abs: 1e-5 })

  it('the density integrates to 1 (Simpson in u = e^(−rate·x), x ∈ (0, 40/rate])', () => tf.tidy(() => {
    for (const rate of [1e-3, 1, 250]) {
      // ∫ p(x) dx over (0, ∞) = ∫₀¹ p(x(u)) / (rate·u) du with x(u) = −log(u)/rate
      const f = (u: number): number => Math.exp(read(exponential(rate).logProb(tf.scalar(-Math.log(u) / rate)))[0]!) / (rate * u)
      expect(simpson(f, Math.exp(-40), 1 - 1e-7, 200)).toBeCloseTo(1, 4)
    }
  }))

  it('mean, variance, entropy equal the float64 closed forms; sample moments match (CLT bound)', () => tf.tidy(() => {
    const rates = [1e-3, 0.5, 1, 7, 1e3]
    const d = exponential(t(rates, [5]))
    expectClose(read(d.mean), rates.map((r) => 1 / r), 1e-6, 0)
    expectClose(read(d.variance), rates.map((r) => 1 / r ** 2), 1e-6, 0)
    expectClose(read(d.entropy()), rates.map((r) => 1 - Math.log(r)), 1e-6, 1e-6)
    expectMomentsMatch(d.sample([20000], 11), read(d.mean), read(d.variance))
  }))

  it('klExponentialExponential equals the float64 form, is ≥ 0 and 0 at p = q', () => {
    fc.assert(fc.property(doubles(3, -3, 3), doubles(3, -3, 3), (u, v) => tf.tidy(() => {
      const a = u.map((w) => 10 ** w), b = v.map((w) => 10 ** w)
      const p = exponential(t(a, [3])), q = exponential(t(b, [3]))
      const got = read(klExponentialExponential(p, q))
      expectClose(got, a.map((ai, i) => kl64(read(p.rate)[i]!, read(q.rate)[i]!)), 1e-4, 1e-7)
      got.forEach((k) => expect(k).toBeGreaterThanOrEqual(0))
      read(klExponentialExponential(p, p)).forEach((k) => expect(k).toBe(0))
      expect(klExponentialExponential(p, exponential(t([1], [1, 1]))).shape).toEqual([1, 3])
    })), FC)
    // near p = q the closed form cancels; the series keeps 1e-4 relative
    tf.tidy(() => expectClose(read(klExponentialExponential(exponential(1), exponential(1.001))), [kl64(1, Math.fround(1.001))], 1e-4, 0))
  })

  it('klExponentialExponential agrees with a Monte Carlo estimate of E_p[log p − log q]', () => tf.tidy(() => {
    const p = exponential(t([0.5, 2, 1], [3])), q = exponential(t([1, 0.3, 5], [3]))
    const x = p.sample([40000], 3)
    const analytic = read(klExponentialExponential(p, q))
    meanAndSe(tf.sub(p.logProb(x), q.logProb(x))).forEach(([mu, se], i) => expect(Math.abs(mu - analytic[i]!)).toBeLessThan(5 * se))
  }))

  it('klExponentialGamma equals a float64 quadrature and a Monte Carlo estimate, is ≥ 0 and 0 at Gamma(1, λ)', () => tf.tidy(() => {
    const lam = [0.5, 2, 1, 3], alpha = [0.3, 1, 4, 1], beta = [1, 0.7, 2, 3]
    const p = exponential(t(lam, [4])), q = gamma(t(alpha, [4]), t(beta, [4]))
    const got = read(klExponentialGamma(p, q))
    const logQ = (x: number, a: number, b: number): number => a * Math.log(b) - lgamma(a) + (a - 1) * Math.log(x) - b * x
    // ∫ p (log p − log q) dx in t = log x (smooth at both ends, also where log q has a log x singularity)
    const want = lam.map((l, i) => simpson((v) => {
      const x = Math.exp(v)
      return Math.exp(ref(x, l)) * x * (ref(x, l) - logQ(x, alpha[i]!, beta[i]!))
    }, -40, Math.log(60 / l), 20000))
    expectClose(got, want, 1e-4, 1e-5)
    got.forEach((k) => expect(k).toBeGreaterThanOrEqual(0))
    expect(Math.abs(got[3]!)).toBeLessThan(1e-6)
    const x = p.sample([40000], 8)
    meanAndSe(tf.sub(p.logProb(x), q.logProb(x))).forEach(([mu, se], i) => expect(Math.abs(mu - got[i]!)).toBeLessThan(5 * se + 1e-6))
    expect(klExponentialGamma(p, gamma(1, t([1, 2], [2, 1]))).shape).toEqual([2, 4])
  }))

  it('pathwise gradient of E[x] w.r.t. rate matches −1/rate² (CLT bound), and finite differences', () => tf.tidy(() => {
    for (const rate of [0.5, 3]) {
      const n = 20000
      const g = tf.grad((r: tf.Tensor) => tf.sum(exponential(r).rsample([], 5)))(tf.fill([n], rate))
      const [[mu, se]] = meanAndSe(g) as [[number, number]]
      expect(Math.abs(mu + 1 / rate ** 2)).toBeLessThan(5 * se)
    }
    expectRsampleGradsMatchFd((r) => exponential(r), [1.7])
  }))

  it('rates 1e-6 and 1e6 give finite logProb and gradients; draws lie in (0, ∞)', () => tf.tidy(() => {
    for (const rate of [1e-6, 1e6]) expectFiniteLogProbAndGrads((r) => exponential(r), [tf.scalar(rate)], t([1e-3, 5], [2]))
    const d = exponential(t([1e-6, 1, 1e6], [3]))
    read(d.support.check(d.sample([5000], 2))).forEach((v) => expect(v).toBe(1))
  }))

  noLeakLaw(() => {
    const rate = t([1, 2], [2]), x = t([0.5, 0.5], [2])
    const d = exponential(rate)
    return { d, x, expandedOwns: (e: Exponential) => [e.rate], also: [() => klExponentialExponential(d, d), () => exponential(3).rate], dispose: [rate, x] }
  })

  it('rejects bad arguments and values with named errors', () => {
    expect(() => exponential(0)).toThrow(InvalidArgumentError)
    expect(() => exponential([1, -2])).toThrow(/exponential: argument 'rate' must satisfy x > 0; got -2 at index \[1\]/)
    expect(() => exponential(NaN)).toThrow(NonFiniteArgumentError)
    const d = exponential([1, 2])
    expect(() => d.logProb(t([1, -1], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, -1], [2]))).toThrow(/exponential.logProb: value outside the support \(x ≥ 0\); got -1/)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(ShapeError)
    expect(() => klExponentialExponential(d, exponential([1, 2, 3]))).toThrow(/klExponentialExponential: .*p \[2\], q \[3\]/)
  })
})
