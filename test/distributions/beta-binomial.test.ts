import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { betaBinomial } from '../../src/distributions/beta-binomial.js'
import type { BetaBinomial } from '../../src/distributions/beta-binomial.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, lgamma, read, sizeOf, smallShape, t } from '../helpers.js'
import { noLeakLaw, shapeLaws } from './laws.js'

/** log k! in doubles, a sum of logs. */
const logFactorial = (k: number): number => { let s = 0; for (let i = 2; i <= k; i++) s += Math.log(i); return s }
const lbeta64 = (a: number, b: number): number => lgamma(a) + lgamma(b) - lgamma(a + b)
/** log BetaBinomial(k; α, β, n) in doubles. */
const ref = (k: number, a: number, b: number, n: number): number =>
  logFactorial(n) - logFactorial(k) - logFactorial(n - k) + lbeta64(k + a, n - k + b) - lbeta64(a, b)
/** ψ(x) in doubles: the recurrence up to x ≥ 10, then the asymptotic series. */
const digamma64 = (x: number): number => {
  let s = 0
  for (; x < 10; x++) s -= 1 / x
  const i2 = 1 / (x * x)
  return s + Math.log(x) - 0.5 / x - i2 * (1 / 12 - i2 * (1 / 120 - i2 * (1 / 252 - i2 * (1 / 240 - i2 / 132))))
}

/** A batch with α, β log-uniform in [0.2, 20] and n ∈ {0, …, 100}. */
const withParams = smallShape.chain((batch) => fc.record({
  batch: fc.constant(batch),
  a: fc.array(fc.double({ min: -0.7, max: 1.3, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  b: fc.array(fc.double({ min: -0.7, max: 1.3, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  n: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
})).map(({ batch, a, b, n }) => ({ batch, n, a: a.map((v) => 10 ** v), b: b.map((v) => 10 ** v) }))

describe('betaBinomial', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => betaBinomial(t(p.a, p.batch), t(p.b, p.batch), t(p.n, p.batch)) }))
  shapeLaws(cases, { reparameterized: false, tag: 'BetaBinomial', dtype: 'float32', repeatable: 'sample', expandedLogProb: true,
    expandTiles: { param: (d) => d.totalCount, rel: 0, abs: 0 } })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(cases, fc.nat(), (c, seed) => tf.tidy(() => {
      const d = c.make(), x = d.sample([3], seed), k = sizeOf(c.batch)
      const [a, b] = [read(d.concentration1), read(d.concentration0)]
      expectClose(read(d.logProb(x)), read(x).map((v, i) => ref(v, a[i % k]!, b[i % k]!, c.n[i % k]!)), 1e-4, 1e-5)
    })), FC)
  })

  it('the pmf sums to 1 over {0, …, n} (to 1e-5; to 1e-4 at n = 1000, α = 40, where log C(n, k) ≈ −log B(k + α, n − k + β) ≈ 500 cancel in float32)', () => tf.tidy(() => {
    for (const [a, b, n, digits] of [[0.3, 0.4, 0, 5], [0.3, 0.4, 25, 5], [2, 5, 100, 5], [40, 10, 1000, 4]] as const) {
      const total = read(tf.exp(betaBinomial(a, b, n).logProb(tf.range(0, n + 1, 1, 'float32')))).reduce((s, v) => s + v, 0)
      expect(total).toBeCloseTo(1, digits)
    }
  }))

  it('mean and variance equal float64 sums over the support; draws match them (CLT) and the pmf (χ²)', () => tf.tidy(() => {
    const as = [0.5, 2, 30, 0.05], bs = [0.5, 7, 10, 3], ns = [10, 40, 200, 60]
    const d = betaBinomial(t(as, [4]), t(bs, [4]), t(ns, [4]))
    const pmf = (j: number): number[] => Array.from({ length: ns[j]! + 1 }, (_, k) => Math.exp(ref(k, Math.fround(as[j]!), Math.fround(bs[j]!), ns[j]!)))
    const mean = ns.map((_, j) => pmf(j).reduce((s, p, k) => s + k * p, 0))
    expectClose(read(d.mean), mean, 1e-5, 1e-6)
    expectClose(read(d.variance), ns.map((_, j) => pmf(j).reduce((s, p, k) => s + (k - mean[j]!) ** 2 * p, 0)), 1e-4, 1e-6)
    const x = d.sample([20000], 14)
    expectMomentsMatch(x, read(d.mean), read(d.variance))
    const xs = read(x)
    ns.forEach((n, j) => {
      const col = xs.filter((_, i) => i % 4 === j), counts = new Array<number>(n + 1).fill(0)
      col.forEach((v) => counts[v]!++)
      let chi = 0, bins = 0, binP = 0, binC = 0
      pmf(j).forEach((p, k) => {
        binP += p; binC += counts[k]!
        if (binP * col.length >= 5 || k === n) { chi += (binC - col.length * binP) ** 2 / Math.max(col.length * binP, 1e-9); bins++; binP = 0; binC = 0 }
      })
      expect(chi).toBeLessThan(bins - 1 + 5 * Math.sqrt(2 * (bins - 1)))
    })
  }))

  it('the gradient of logProb w.r.t. α is ψ(k + α) − ψ(n + α + β) − ψ(α) + ψ(α + β)', () => tf.tidy(() => {
    const ks = [0, 3, 40], as = [0.5, 2, 30], bs = [1, 0.7, 12], ns = [5, 3, 60]
    const g = read(tf.grad((a: tf.Tensor) => tf.sum(betaBinomial(a, t(bs, [3]), t(ns, [3])).logProb(t(ks, [3]))))(t(as, [3])))
    expectClose(g, ks.map((k, i) => digamma64(k + as[i]!) - digamma64(ns[i]! + as[i]! + bs[i]!) - digamma64(as[i]!) + digamma64(as[i]! + bs[i]!)), 1e-3, 1e-4)
  }))

  noLeakLaw(() => {
    const a = t([1.5, 4], [2]), b = t([2, 0.5], [2]), n = t([5, 30], [2]), x = t([0, 29], [2])
    return { d: betaBinomial(a, b, n), x, expandedOwns: (e: BetaBinomial) => [e.concentration1, e.concentration0, e.totalCount],
      also: [() => { const e = betaBinomial(1, 2, 3); return [e.concentration1, e.concentration0, e.totalCount] }], dispose: [a, b, n, x] }
  })

  it('rejects bad arguments and values outside the support with named errors', () => {
    expect(() => betaBinomial(0, 1, 3)).toThrow(InvalidArgumentError)
    expect(() => betaBinomial(1, [1, -1], 3)).toThrow(/betaBinomial: argument 'concentration0' must satisfy x > 0; got -1 at index \[1\]/)
    expect(() => betaBinomial(1, 1, [3, 1.5])).toThrow(/betaBinomial: argument 'totalCount' must satisfy integer x ≥ 0; got 1.5 at index \[1\]/)
    expect(() => betaBinomial([1, 1], [1, 1, 1], 3)).toThrow(/betaBinomial: .*concentration1 \[2\], concentration0 \[3\]/)
    const d = betaBinomial(1, 1, [5, 10])
    expect(() => d.logProb(t([1, 2.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([6, 2], [2]))).toThrow(/betaBinomial.logProb: value outside the support \(integer low ≤ x ≤ high\); got 6 at index \[0\]/)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(ShapeError)
  })
})
