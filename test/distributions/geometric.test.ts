import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LogitsOrProbs } from '../../src/distributions/bernoulli.js'
import { geometric, klGeometricGeometric } from '../../src/distributions/geometric.js'
import type { Geometric } from '../../src/distributions/geometric.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, sampleMoments, sizeOf, softplus64, t } from '../helpers.js'
import { doubles, logitsOrProbsParams, noLeakLaw, shapeLaws } from './laws.js'

/** log p(k) from a logit, in doubles: −k·log(1 + eˡ) − log(1 + e⁻ˡ). */
const ref = (k: number, l: number): number => -k * softplus64(l) - softplus64(-l)
/** Float32 probabilities as the library clamps them, converted to a logit in doubles. */
const logit64 = (p: number): number => { const q = Math.min(Math.max(p, 2 ** -23), 1 - 2 ** -23); return Math.log(q) - Math.log1p(-q) }
/** Σ_k over the support until the terms vanish, in doubles. */
const sum64 = (l: number, f: (k: number, lp: number) => number): number => {
  let s = 0
  for (let k = 0; k < 1e7; k++) { const lp = ref(k, l); s += f(k, lp); if (lp < -60 && k > 10) break }
  return s
}

/** A batch with logits ∈ [-4, 6] or probs ∈ [0.02, 1]. */
const withParams = logitsOrProbsParams(fc.double({ min: 0, max: 1, noNaN: true }), (v) => 10 * v - 4, (v) => 0.02 + 0.98 * v)
const make = (useLogits: boolean, values: number[], batch: number[]) =>
  geometric(useLogits ? { logits: t(values, batch) } : { probs: t(values, batch) })

describe('geometric', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => make(p.useLogits, p.values, p.batch) })), {
    reparameterized: false, tag: 'Geometric', dtype: 'float32', repeatable: 'sample', expandedLogProb: true,
    expandTiles: { param: (d) => d.probs, rel: 1e-6, abs: 0 },
  })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, useLogits, values }, seed) => tf.tidy(() => {
      const d = make(useLogits, values, batch)
      const x = d.sample([4], seed)
      const given = read(useLogits ? d.logits : d.probs), k = sizeOf(batch)
      const logits = useLogits ? given : given.map(logit64)
      expectClose(read(d.logProb(x)), read(x).map((v, i) => ref(v, logits[i % k]!)), 1e-4, 1e-6)
    })), FC)
  })

  it('the pmf sums to 1 (summation over the support)', () => tf.tidy(() => {
    for (const l of [-5, 0, 3]) {
      const n = Math.ceil(60 * (1 + Math.exp(-l)))
      const ks = Array.from({ length: n }, (_, i) => i)
      const total = read(tf.exp(geometric({ logits: l }).logProb(t(ks, [n])))).reduce((a, b) => a + b, 0)
      expect(total).toBeCloseTo(1, 5)
    }
  }))

  it('mean, variance, entropy equal float64 sums over the support; sample moments match (CLT bound)', () => tf.tidy(() => {
    const logits = [-3, -0.5, 0, 2]
    const d = geometric({ logits: t(logits, [4]) })
    const mean = logits.map((l) => sum64(l, (k, lp) => k * Math.exp(lp)))
    expectClose(read(d.mean), mean, 1e-4, 1e-6)
    expectClose(read(d.variance), logits.map((l, i) => sum64(l, (k, lp) => (k - mean[i]!) ** 2 * Math.exp(lp))), 1e-4, 1e-6)
    expectClose(read(d.entropy()), logits.map((l) => sum64(l, (_, lp) => -lp * Math.exp(lp))), 1e-4, 1e-6)
    expectMomentsMatch(d.sample([20000], 3), read(d.mean), read(d.variance))
    const q = geometric({ probs: t([0.05, 0.5, 1], [3]) })
    expectClose(read(q.mean), [19, 1, 0], 1e-5, 1e-6)
    expectMomentsMatch(q.sample([20000], 4), read(q.mean), read(q.variance))
  }))

  it('probs 1 always gives 0; draws lie in the support', () => tf.tidy(() => {
    const d = geometric({ probs: t([1, 1e-3, 0.5], [3]) })
    const x = d.sample([3000], 8)
    read(d.support.check(x)).forEach((v) => expect(v).toBe(1))
    expect(read(x).filter((_, i) => i % 3 === 0).every((v) => v === 0)).toBe(true)
  }))

  it('klGeometricGeometric equals the float64 sum Σ p(k) log(p(k)/q(k)), is ≥ 0 and 0 at p = q', () => {
    fc.assert(fc.property(doubles(3, -3, 4), doubles(3, -3, 4), (a, b) => tf.tidy(() => {
      const p = geometric({ logits: t(a, [3]) }), q = geometric({ logits: t(b, [3]) })
      const got = read(klGeometricGeometric(p, q))
      const [la, lb] = [read(p.logits), read(q.logits)]
      const want = la.map((l, i) => sum64(l, (k, lp) => Math.exp(lp) * (lp - ref(k, lb[i]!))))
      expectClose(got, want, 1e-4, 1e-5)
      got.forEach((v) => expect(v).toBeGreaterThanOrEqual(-1e-6))
      read(klGeometricGeometric(p, p)).forEach((v) => expect(v).toBe(0))
      expect(klGeometricGeometric(p, geometric({ logits: t([0], [1, 1]) })).shape).toEqual([1, 3])
    })), FC)
  })

  it('klGeometricGeometric agrees with a Monte Carlo estimate (CLT bound)', () => tf.tidy(() => {
    const p = geometric({ probs: t([0.3, 0.7, 0.1], [3]) }), q = geometric({ probs: t([0.5, 0.2, 0.15], [3]) })
    const x = p.sample([40000], 5)
    const m = sampleMoments(tf.sub(p.logProb(x), q.logProb(x)))
    const kl = read(klGeometricGeometric(p, q))
    m.mean.forEach((mu, i) => expect(Math.abs(mu - kl[i]!)).toBeLessThan(5 * Math.sqrt(m.variance[i]! / 40000)))
  }))

  noLeakLaw(...(['logits', 'probs'] as const).map((given) => () => {
    const param = given === 'logits' ? t([0, 1], [2]) : t([0.2, 0.7], [2]), x = t([0, 3], [2])
    const params: LogitsOrProbs = given === 'logits' ? { logits: param } : { probs: param }
    const d = geometric(params)
    return {
      d, x, expandedOwns: (e: Geometric) => [e.logits, e.probs],
      also: [() => klGeometricGeometric(d, d), () => { const n = geometric(params); return given === 'logits' ? n.probs : n.logits }],
      dispose: [param, x],
    }
  }))

  it('rejects bad arguments and values with named errors', () => {
    expect(() => geometric({ probs: 0 })).toThrow(InvalidArgumentError)
    expect(() => geometric({ probs: [0.5, 0] })).toThrow(/geometric: argument 'probs' must satisfy x > 0; got 0 at index \[1\]/)
    expect(() => geometric({ probs: 1.5 })).toThrow(/geometric: argument 'probs' must satisfy 0 ≤ x ≤ 1; got 1.5/)
    expect(() => geometric({ logits: NaN })).toThrow(/geometric: argument 'logits' must satisfy finite real; got NaN/)
    expect(() => geometric({ logits: 0, probs: 0.5 } as unknown as LogitsOrProbs)).toThrow(/geometric: .*got both/)
    const d = geometric({ probs: [0.5, 0.5] })
    expect(() => d.logProb(t([0, 1.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0, 1.5], [2]))).toThrow(/geometric.logProb: value outside the support \(integer x ≥ 0\); got 1.5/)
    expect(() => d.logProb(t([-1, 0], [2]))).toThrow(/got -1/)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(ShapeError)
    expect(() => klGeometricGeometric(d, geometric({ probs: [0.1, 0.2, 0.3] }))).toThrow(/klGeometricGeometric: .*p \[2\], q \[3\]/)
  })
})
