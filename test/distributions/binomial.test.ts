import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LogitsOrProbs } from '../../src/distributions/bernoulli.js'
import { binomial, klBinomialBinomial } from '../../src/distributions/binomial.js'
import type { Binomial } from '../../src/distributions/binomial.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, sampleMoments, sizeOf, smallShape, softplus64, t } from '../helpers.js'
import { noLeakLaw, shapeLaws } from './laws.js'

/** log k! in doubles: a sum of logs up to 1000, Stirling's series (to 1/k⁵) beyond. */
const logFactorial = (k: number): number => {
  if (k <= 1000) { let s = 0; for (let i = 2; i <= k; i++) s += Math.log(i); return s }
  return (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3) + 1 / (1260 * k ** 5)
}
/** log Binomial(k; n, σ(l)) in doubles. */
const ref = (k: number, n: number, l: number): number =>
  logFactorial(n) - logFactorial(k) - logFactorial(n - k) - k * softplus64(-l) - (n - k) * softplus64(l)
/** Float32 probabilities as the library clamps them, converted to a logit in doubles. */
const logit64 = (p: number): number => { const q = Math.min(Math.max(p, 2 ** -23), 1 - 2 ** -23); return Math.log(q) - Math.log1p(-q) }

/** Pearson's χ² of draws against the pmf on {0, …, n}, bins pooled to expected counts ≥ 5; asserts χ² < df + 5√(2df). */
const expectChiSquare = (draws: readonly number[], n: number, logPmf: (k: number) => number): void => {
  const counts = new Array<number>(n + 1).fill(0)
  draws.forEach((v) => counts[v]!++)
  let chi = 0, bins = 0, binP = 0, binC = 0
  for (let k = 0; k <= n; k++) {
    binP += Math.exp(logPmf(k)); binC += counts[k]!
    if (binP * draws.length >= 5 || k === n) { chi += (binC - draws.length * binP) ** 2 / Math.max(draws.length * binP, 1e-9); bins++; binP = 0; binC = 0 }
  }
  expect(chi).toBeLessThan(bins - 1 + 5 * Math.sqrt(2 * (bins - 1)))
}

/** A batch with counts n ∈ {0, …, 300} and logits ∈ [-6, 6] or probs ∈ [0, 1]. */
const withParams = smallShape.chain((batch) => fc.record({
  batch: fc.constant(batch), useLogits: fc.boolean(),
  counts: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  raw: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
})).map(({ batch, useLogits, counts, raw }) => ({ batch, useLogits, counts, values: raw.map((v) => (useLogits ? 12 * v - 6 : v)) }))
const make = (useLogits: boolean, counts: number[], values: number[], batch: number[]) =>
  binomial(t(counts, batch), useLogits ? { logits: t(values, batch) } : { probs: t(values, batch) })

describe('binomial', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => make(p.useLogits, p.counts, p.values, p.batch) })), {
    reparameterized: false, tag: 'Binomial', dtype: 'float32', repeatable: 'sample', expandedLogProb: true,
    expandTiles: { param: (d) => d.totalCount, rel: 0, abs: 0 },
  })

  it('logProb equals the float64 closed form to 1e-4 relative, also for large n', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, useLogits, counts, values }, seed) => tf.tidy(() => {
      const d = make(useLogits, counts, values, batch)
      const x = d.sample([3], seed), k = sizeOf(batch)
      const logits = useLogits ? read(d.logits) : read(d.probs).map(logit64)
      expectClose(read(d.logProb(x)), read(x).map((v, i) => ref(v, counts[i % k]!, logits[i % k]!)), 1e-4, 1e-6)
    })), FC)
    tf.tidy(() => {
      const ns = [1e6, 1e6, 5e5, 3000, 40], ks = [3e5, 299000, 1, 2999, 20], ls = [Math.log(3 / 7), -0.8, -12, 5, 0]
      const lp = read(binomial(t(ns, [5]), { logits: t(ls, [5]) }).logProb(t(ks, [5])))
      expectClose(lp, ks.map((k, i) => ref(k, ns[i]!, Math.fround(ls[i]!))), 1e-4, 1e-6)
    })
  })

  it('the pmf sums to 1 over {0, …, n}', () => tf.tidy(() => {
    for (const [n, p] of [[0, 0.3], [1, 0.9], [17, 0.5], [400, 0.02], [2000, 0.7]] as const) {
      const total = read(tf.exp(binomial(n, { probs: p }).logProb(tf.range(0, n + 1, 1, 'float32')))).reduce((a, b) => a + b, 0)
      expect(total).toBeCloseTo(1, 5)
    }
  }))

  it('draws match mean np and variance np(1 − p) (CLT) and the pmf (χ²), for inversion and BTRS, p above and below ½', () => tf.tidy(() => {
    const ns = [5, 30, 30, 100, 1000, 64], ps = [0.3, 0.2, 0.5, 0.93, 0.4, 0.01]   // n·min(p, 1 − p): 1.5, 6, 15, 7, 400, 0.64
    const d = binomial(t(ns, [6]), { probs: t(ps, [6]) })
    expectClose(read(d.mean), ns.map((n, i) => n * Math.fround(ps[i]!)), 1e-6, 0)
    expectClose(read(d.variance), ns.map((n, i) => n * Math.fround(ps[i]!) * (1 - Math.fround(ps[i]!))), 1e-5, 0)
    const x = d.sample([20000], 9)
    expectMomentsMatch(x, read(d.mean), read(d.variance))
    const xs = read(x)
    ns.forEach((n, j) => expectChiSquare(xs.filter((_, i) => i % 6 === j), n, (k) => ref(k, n, logit64(Math.fround(ps[j]!)))))
    const e = binomial(t([200, 200], [2]), { logits: t([-1.5, 2], [2]) })   // BTRS from logits, flipped and not
    const y = e.sample([20000], 4), ys = read(y)
    expectMomentsMatch(y, read(e.mean), read(e.variance))
    ;[-1.5, 2].forEach((l, j) => expectChiSquare(ys.filter((_, i) => i % 2 === j), 200, (k) => ref(k, 200, l)))
  }))

  it('probs 0 and 1 and totalCount 0 are deterministic; draws lie in the support', () => tf.tidy(() => {
    const d = binomial(t([7, 7, 0, 5000], [4]), { probs: t([0, 1, 0.5, 0.5], [4]) })
    const x = d.sample([500], 3)
    read(d.support.check(x)).forEach((v) => expect(v).toBe(1))
    const xs = read(x)
    expect([0, 1, 2].map((j) => [...new Set(xs.filter((_, i) => i % 4 === j))])).toEqual([[0], [7], [0]])
  }))

  it('totalCount and probs are broadcast to the batch shape (as Pyro); an empty sample shape gives an empty draw', () => tf.tidy(() => {
    const d = binomial(t([10, 20], [2]), { probs: 0.3 })
    expect([d.totalCount.shape, d.probs.shape, d.logits.shape]).toEqual([[2], [2], [2]])
    expect(d.sample([0, 3], 1).shape).toEqual([0, 3, 2])
    expect(binomial(5, { logits: t([0, 1], [2, 1]) }).totalCount.shape).toEqual([2, 1])
  }))

  it('klBinomialBinomial equals the float64 sum Σ p(k) log(p(k)/q(k)), is ≥ 0 and 0 at p = q', () => {
    const arb = fc.tuple(fc.integer({ min: 0, max: 60 }), fc.double({ min: -4, max: 4, noNaN: true }), fc.double({ min: -4, max: 4, noNaN: true }))
    fc.assert(fc.property(arb, ([n, a, b]) => tf.tidy(() => {
      const p = binomial(n, { logits: a }), q = binomial(n, { logits: b })
      const got = read(klBinomialBinomial(p, q))[0]!
      const [la, lb] = [Math.fround(a), Math.fround(b)]
      let want = 0
      for (let k = 0; k <= n; k++) want += Math.exp(ref(k, n, la)) * (ref(k, n, la) - ref(k, n, lb))
      expectClose([got], [want], 1e-4, 1e-6)
      expect(got).toBeGreaterThanOrEqual(-1e-7)
      expect(read(klBinomialBinomial(p, p))[0]).toBe(0)
    })), FC)
  })

  it('klBinomialBinomial agrees with a Monte Carlo estimate (CLT bound) and broadcasts', () => tf.tidy(() => {
    const p = binomial(t([10, 80, 500], [3]), { probs: t([0.3, 0.6, 0.05], [3]) }), q = binomial(t([10, 80, 500], [3]), { probs: t([0.5, 0.5, 0.04], [3]) })
    const x = p.sample([40000], 5)
    const m = sampleMoments(tf.sub(p.logProb(x), q.logProb(x)))
    const kl = read(klBinomialBinomial(p, q))
    m.mean.forEach((mu, i) => expect(Math.abs(mu - kl[i]!)).toBeLessThan(5 * Math.sqrt(m.variance[i]! / 40000)))
    expect(klBinomialBinomial(binomial(t([10, 10], [2, 1]), { probs: 0.3 }), binomial(10, { probs: t([0.1, 0.2, 0.5], [3]) })).shape).toEqual([2, 3])
  }))

  it('the gradient of logProb w.r.t. logits is k − nσ(l) (to float32 rounding of nσ(l))', () => tf.tidy(() => {
    const ns = [10, 10, 300, 1e5], ks = [0, 4, 300, 31000], ls = [0.5, -1, 2, -0.8]
    const g = read(tf.grad((l: tf.Tensor) => tf.sum(binomial(t(ns, [4]), { logits: l }).logProb(t(ks, [4]))))(t(ls, [4])))
    const want = ks.map((k, i) => k - ns[i]! / (1 + Math.exp(-Math.fround(ls[i]!))))
    g.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-4 * Math.abs(want[i]!) + 1e-6 * ns[i]!))
  }))

  noLeakLaw(...(['logits', 'probs'] as const).map((given) => () => {
    const n = t([5, 40], [2]), param = given === 'logits' ? t([0, 1], [2]) : t([0.2, 0.7], [2]), x = t([0, 33], [2])
    const params: LogitsOrProbs = given === 'logits' ? { logits: param } : { probs: param }
    const d = binomial(n, params)
    return {
      d, x, expandedOwns: (e: Binomial) => [e.totalCount, e.logits, e.probs],
      also: [() => klBinomialBinomial(d, d), () => { const b = binomial(n, params); return given === 'logits' ? b.probs : b.logits }],
      dispose: [n, param, x],
    }
  }))

  it('rejects bad arguments and values outside the support with named errors', () => {
    expect(() => binomial(-1, { probs: 0.5 })).toThrow(InvalidArgumentError)
    expect(() => binomial([3, 2.5], { probs: 0.5 })).toThrow(/binomial: argument 'totalCount' must satisfy integer x ≥ 0; got 2.5 at index \[1\]/)
    expect(() => binomial(3, { probs: [0.5, 1.5] })).toThrow(/binomial: argument 'probs' must satisfy 0 ≤ x ≤ 1; got 1.5/)
    expect(() => binomial(3, { logits: NaN })).toThrow(/binomial: argument 'logits' must satisfy finite real; got NaN/)
    expect(() => binomial([1, 2, 3], { probs: [0.1, 0.2] })).toThrow(/binomial: .*totalCount \[3\], probs \[2\]/)
    expect(() => binomial(3, {} as unknown as LogitsOrProbs)).toThrow(/binomial: .*got neither/)
    const d = binomial([5, 10], { probs: 0.5 })
    expect(() => d.logProb(t([1, 2.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([6, 2], [2]))).toThrow(/binomial.logProb: value outside the support \(integer low ≤ x ≤ high\); got 6 at index \[0\]/)
    expect(() => d.logProb(t([-1, 2], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(ShapeError)
    expect(() => klBinomialBinomial(d, binomial([5, 12], { probs: 0.5 }))).toThrow(InvalidArgumentError)
    expect(() => klBinomialBinomial(d, binomial([5, 12], { probs: 0.5 }))).toThrow(/klBinomialBinomial: p and q must have the same totalCount; got 10 \(p\) and 12 \(q\) at flat index 1/)
  })
})
