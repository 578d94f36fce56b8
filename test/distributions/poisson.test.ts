import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { klPoissonPoisson, poisson } from '../../src/distributions/poisson.js'
import type { Poisson } from '../../src/distributions/poisson.js'
import { setValidation } from '../../src/distributions/validation.js'
import { InvalidArgumentError, NonFiniteArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, lgamma, read, sampleMoments, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, noLeakLaw, shapeLaws } from './laws.js'

/** log k! in doubles: a sum of logs up to 1000, Stirling's series (to 1/k⁵) beyond. */
const logFactorial = (k: number): number => {
  if (k <= 1000) { let s = 0; for (let i = 2; i <= k; i++) s += Math.log(i); return s }
  return (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3) + 1 / (1260 * k ** 5)
}
const ref = (k: number, rate: number): number => k * Math.log(rate) - rate - logFactorial(k)
const kl64 = (a: number, b: number): number => a * Math.log(a / b) - a + b

/**
 * Pearson's χ² of integer draws against a pmf: consecutive values from `lo` are pooled into bins of expected
 * count ≥ 5 until the remaining mass is below 5/n, which forms the last bin. Asserts χ² < df + 5√(2 df) (a 5σ
 * bound): the draws have the pmf, not just its first two moments.
 */
const expectChiSquare = (draws: readonly number[], logPmf: (k: number) => number, lo = 0): void => {
  const n = draws.length
  const counts = new Map<number, number>()
  draws.forEach((v) => counts.set(v, (counts.get(v) ?? 0) + 1))
  let chi = 0, bins = 0, cum = 0, seen = 0, binP = 0, binC = 0
  for (let k = lo; 1 - cum >= 5 / n; k++) {
    const p = Math.exp(logPmf(k)), c = counts.get(k) ?? 0
    binP += p; binC += c; cum += p; seen += c
    if (binP * n >= 5 && (1 - cum) * n >= 5) { chi += (binC - n * binP) ** 2 / (n * binP); bins++; binP = 0; binC = 0 }
  }
  const restP = binP + Math.max(1 - cum, 0), restC = binC + (n - seen)
  chi += (restC - n * restP) ** 2 / Math.max(n * restP, 1e-9)
  const df = bins
  expect(chi).toBeLessThan(df + 5 * Math.sqrt(2 * df))
}

/** A batch shape with rates log-uniform in [1e-2, 1e3] (both sampling regimes). */
const withRates = smallShape.chain((batch) => doubles(sizeOf(batch), -2, 3).map((u) => ({ batch, rate: u.map((v) => 10 ** v) })))

describe('poisson', () => {
  afterEach(() => setValidation(true))
  const cases = withRates.map((p) => ({ ...p, make: () => poisson(t(p.rate, p.batch)) }))
  shapeLaws(cases, { reparameterized: false, tag: 'Poisson', dtype: 'float32', repeatable: 'sample', expandedLogProb: true,
    expandTiles: { param: (d) => d.rate, rel: 0, abs: 0 } })

  it('logProb equals the float64 closed form to 1e-4 relative, also at large counts', () => {
    fc.assert(fc.property(cases, fc.nat(), (c, seed) => tf.tidy(() => {
      const d = c.make(), x = d.sample([3], seed), k = sizeOf(c.batch), rate = read(d.rate)
      expectClose(read(d.logProb(x)), read(x).map((v, i) => ref(v, rate[i % k]!)), 1e-4, 1e-6)
    })), FC)
    tf.tidy(() => {
      const rates = [1e6, 1e6, 3e4, 0.01, 0.01, 50]
      const ks = [1e6, 1e6 + 3000, 29000, 0, 3, 0]
      expectClose(read(poisson(t(rates, [6])).logProb(t(ks, [6]))), ks.map((k, i) => ref(k, Math.fround(rates[i]!))), 1e-4, 1e-6)
    })
  })

  it('with validation off, a non-integer value gets the lgamma extension k log λ − λ − log Γ(k + 1)', () => tf.tidy(() => {
    setValidation(false)
    const lp = read(poisson(3).logProb(t([2.5, 0.5, 7.25], [3])))
    expectClose(lp, [2.5, 0.5, 7.25].map((k) => k * Math.log(3) - 3 - lgamma(k + 1)), 1e-4, 1e-6)
  }))

  it('the pmf sums to 1 (summation over the support)', () => tf.tidy(() => {
    for (const rate of [0.01, 3, 50, 2000]) {
      const n = Math.ceil(rate + 20 * Math.sqrt(rate) + 30)
      const total = read(tf.exp(poisson(rate).logProb(tf.range(0, n, 1, 'float32')))).reduce((a, b) => a + b, 0)
      expect(total).toBeCloseTo(1, 5)
    }
  }))

  it('draws match mean = variance = rate (CLT bound) and the pmf (χ²), on both sides of the method switch at 10', () => tf.tidy(() => {
    const rates = [0.05, 3, 9.99, 10, 31, 700]
    const d = poisson(t(rates, [6]))
    expectClose(read(d.mean), rates, 1e-7, 0)
    expectClose(read(d.variance), rates, 1e-7, 0)
    const x = d.sample([20000], 7)
    expectMomentsMatch(x, read(d.mean), read(d.variance))
    const xs = read(x)
    rates.forEach((r, j) => expectChiSquare(xs.filter((_, i) => i % 6 === j), (k) => ref(k, Math.fround(r))))
  }))

  it('klPoissonPoisson equals the float64 form, is ≥ 0 and 0 at p = q', () => {
    fc.assert(fc.property(doubles(3, -2, 3), doubles(3, -2, 3), (u, v) => tf.tidy(() => {
      const p = poisson(t(u.map((w) => 10 ** w), [3])), q = poisson(t(v.map((w) => 10 ** w), [3]))
      const got = read(klPoissonPoisson(p, q)), [a, b] = [read(p.rate), read(q.rate)]
      expectClose(got, a.map((ai, i) => kl64(ai, b[i]!)), 1e-4, 1e-7)
      got.forEach((k) => expect(k).toBeGreaterThanOrEqual(0))
      read(klPoissonPoisson(p, p)).forEach((k) => expect(k).toBe(0))
      expect(klPoissonPoisson(p, poisson(t([1], [1, 1]))).shape).toEqual([1, 3])
    })), FC)
    tf.tidy(() => expectClose(read(klPoissonPoisson(poisson(100), poisson(100.1))), [kl64(100, Math.fround(100.1))], 1e-4, 0))
  })

  it('klPoissonPoisson agrees with a Monte Carlo estimate of E_p[log p − log q] (CLT bound)', () => tf.tidy(() => {
    const p = poisson(t([0.5, 4, 60], [3])), q = poisson(t([2, 3, 45], [3]))
    const x = p.sample([40000], 5)
    const m = sampleMoments(tf.sub(p.logProb(x), q.logProb(x)))
    const kl = read(klPoissonPoisson(p, q))
    m.mean.forEach((mu, i) => expect(Math.abs(mu - kl[i]!)).toBeLessThan(5 * Math.sqrt(m.variance[i]! / 40000)))
  }))

  it('an empty sample shape gives an empty draw', () => tf.tidy(() => {
    expect(poisson(t([0.5, 50], [2])).sample([0], 1).shape).toEqual([0, 2])
  }))

  it('the gradient of logProb w.r.t. rate is k/rate − 1', () => tf.tidy(() => {
    const ks = [0, 1, 5, 40, 1000], rates = [0.3, 2, 5, 30, 990]
    const g = read(tf.grad((r: tf.Tensor) => tf.sum(poisson(r).logProb(t(ks, [5]))))(t(rates, [5])))
    expectClose(g, ks.map((k, i) => k / rates[i]! - 1), 1e-4, 1e-6)
  }))

  noLeakLaw(() => {
    const rate = t([1, 20], [2]), x = t([0, 3], [2])
    const d = poisson(rate)
    return { d, x, expandedOwns: (e: Poisson) => [e.rate], also: [() => klPoissonPoisson(d, d), () => poisson(3).rate], dispose: [rate, x] }
  })

  it('rejects bad arguments and values outside the support with named errors', () => {
    expect(() => poisson(0)).toThrow(InvalidArgumentError)
    expect(() => poisson([1, -2])).toThrow(/poisson: argument 'rate' must satisfy x > 0; got -2 at index \[1\]/)
    expect(() => poisson(Infinity)).toThrow(NonFiniteArgumentError)
    const d = poisson([1, 2])
    expect(() => d.logProb(t([1, 2.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, 2.5], [2]))).toThrow(/poisson.logProb: value outside the support \(integer x ≥ 0\); got 2.5 at index \[1\]/)
    expect(() => d.logProb(t([-1, 0], [2]))).toThrow(/got -1/)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(ShapeError)
    expect(() => klPoissonPoisson(d, poisson([1, 2, 3]))).toThrow(/klPoissonPoisson: .*p \[2\], q \[3\]/)
  })
})
