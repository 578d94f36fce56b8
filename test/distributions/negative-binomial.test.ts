import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LogitsOrProbs } from '../../src/distributions/bernoulli.js'
import { negativeBinomial } from '../../src/distributions/negative-binomial.js'
import type { NegativeBinomial } from '../../src/distributions/negative-binomial.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, lgamma, read, sizeOf, smallShape, softplus64, t } from '../helpers.js'
import { noLeakLaw, shapeLaws } from './laws.js'

/** log k! in doubles, a sum of logs. */
const logFactorial = (k: number): number => { let s = 0; for (let i = 2; i <= k; i++) s += Math.log(i); return s }
/** log NB(k; r, σ(l)) in doubles: log Γ(k + r) − log Γ(r) − log k! + k log p + r log(1 − p). */
const ref = (k: number, r: number, l: number): number => lgamma(k + r) - lgamma(r) - logFactorial(k) - k * softplus64(-l) - r * softplus64(l)
const logit64 = (p: number): number => { const q = Math.min(Math.max(p, 2 ** -23), 1 - 2 ** -23); return Math.log(q) - Math.log1p(-q) }
/** ψ(x) in doubles: the recurrence up to x ≥ 10, then the asymptotic series. */
const digamma64 = (x: number): number => {
  let s = 0
  for (; x < 10; x++) s -= 1 / x
  const i2 = 1 / (x * x)
  return s + Math.log(x) - 0.5 / x - i2 * (1 / 12 - i2 * (1 / 120 - i2 * (1 / 252 - i2 * (1 / 240 - i2 / 132))))
}
/** Σ_k f(k, log p(k)) over the support until the terms vanish, in doubles. */
const sum64 = (r: number, l: number, f: (k: number, lp: number) => number): number => {
  let s = 0
  for (let k = 0; k < 1e6; k++) { const lp = ref(k, r, l); s += f(k, lp); if (lp < -50 && k > r * Math.exp(l) + 10) break }
  return s
}

/** A batch with r log-uniform in [0.1, 50] and logits ∈ [-4, 3] or probs ∈ [0, 0.95]. */
const withParams = smallShape.chain((batch) => fc.record({
  batch: fc.constant(batch), useLogits: fc.boolean(),
  r: fc.array(fc.double({ min: -1, max: 1.7, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  raw: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
})).map(({ batch, useLogits, r, raw }) => ({ batch, useLogits, r: r.map((v) => 10 ** v), values: raw.map((v) => (useLogits ? 7 * v - 4 : 0.95 * v)) }))
const make = (useLogits: boolean, r: number[], values: number[], batch: number[]) =>
  negativeBinomial(t(r, batch), useLogits ? { logits: t(values, batch) } : { probs: t(values, batch) })

describe('negativeBinomial', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => make(p.useLogits, p.r, p.values, p.batch) })), {
    reparameterized: false, tag: 'NegativeBinomial', dtype: 'float32', repeatable: 'sample', expandedLogProb: true,
    expandTiles: { param: (d) => d.totalCount, rel: 0, abs: 0 },
  })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, useLogits, r, values }, seed) => tf.tidy(() => {
      const d = make(useLogits, r, values, batch)
      const x = d.sample([3], seed), k = sizeOf(batch), rr = read(d.totalCount)
      const logits = useLogits ? read(d.logits) : read(d.probs).map(logit64)
      expectClose(read(d.logProb(x)), read(x).map((v, i) => ref(v, rr[i % k]!, logits[i % k]!)), 1e-4, 1e-5)
    })), FC)
  })

  it('the pmf sums to 1 (summation over the support)', () => tf.tidy(() => {
    for (const [r, l] of [[0.3, -1], [5, 1], [40, -2]] as const) {
      const n = Math.ceil(r * Math.exp(l) * 3 + 40 * Math.sqrt(r * Math.exp(l) * (1 + Math.exp(l))) + 60)
      const total = read(tf.exp(negativeBinomial(r, { logits: l }).logProb(tf.range(0, n, 1, 'float32')))).reduce((a, b) => a + b, 0)
      expect(total).toBeCloseTo(1, 5)
    }
  }))

  it('mean r·p/(1 − p) and variance r·p/(1 − p)² equal float64 sums; draws match them (CLT) and the pmf (χ²)', () => tf.tidy(() => {
    const rs = [0.5, 3, 20, 2], ls = [-1, 0.5, 1, -3]
    const d = negativeBinomial(t(rs, [4]), { logits: t(ls, [4]) })
    const [rf, lf] = [rs.map(Math.fround), ls.map(Math.fround)]
    const mean = rf.map((r, i) => sum64(r, lf[i]!, (k, lp) => k * Math.exp(lp)))
    expectClose(read(d.mean), mean, 1e-4, 1e-6)
    expectClose(read(d.variance), rf.map((r, i) => sum64(r, lf[i]!, (k, lp) => (k - mean[i]!) ** 2 * Math.exp(lp))), 1e-4, 1e-6)
    const x = d.sample([20000], 12)
    expectMomentsMatch(x, read(d.mean), read(d.variance))
    const xs = read(x)
    rf.forEach((r, j) => {
      const col = xs.filter((_, i) => i % 4 === j), n = col.length
      let chi = 0, bins = 0, binP = 0, binC = 0, cum = 0, seen = 0
      for (let k = 0; (1 - cum) * n >= 5; k++) {
        const p = Math.exp(ref(k, r, lf[j]!)), c = col.filter((v) => v === k).length
        binP += p; binC += c; cum += p; seen += c
        if (binP * n >= 5 && (1 - cum) * n >= 5) { chi += (binC - n * binP) ** 2 / (n * binP); bins++; binP = 0; binC = 0 }
      }
      chi += (binC + n - seen - n * (binP + 1 - cum)) ** 2 / (n * (binP + 1 - cum))
      expect(chi).toBeLessThan(bins + 5 * Math.sqrt(2 * bins))
    })
    const q = negativeBinomial(t([4, 4], [2]), { probs: t([0, 0.5], [2]) })
    expectClose(read(q.mean), [0, 4], 1e-6, 0)
    expect(read(q.sample([200], 3)).filter((_, i) => i % 2 === 0).every((v) => v === 0)).toBe(true)
  }))

  it('gradients of logProb: ∂/∂logits = k − (k + r)σ(l), ∂/∂r = ψ(k + r) − ψ(r) − softplus(l)', () => tf.tidy(() => {
    const ks = [0, 3, 40], rs = [0.5, 2, 30], ls = [0.3, -1, 0.8]
    const [gr, gl] = tf.grads((r: tf.Tensor, l: tf.Tensor) => tf.sum(negativeBinomial(r, { logits: l }).logProb(t(ks, [3]))))([t(rs, [3]), t(ls, [3])]) as [tf.Tensor, tf.Tensor]
    const sig = (l: number): number => 1 / (1 + Math.exp(-l))
    expectClose(read(gl), ks.map((k, i) => k - (k + rs[i]!) * sig(Math.fround(ls[i]!))), 1e-4, 1e-5)
    expectClose(read(gr), ks.map((k, i) => digamma64(k + rs[i]!) - digamma64(rs[i]!) - softplus64(Math.fround(ls[i]!))), 1e-3, 1e-4)
  }))

  noLeakLaw(...(['logits', 'probs'] as const).map((given) => () => {
    const r = t([1.5, 4], [2]), param = given === 'logits' ? t([0, 1], [2]) : t([0.2, 0.7], [2]), x = t([0, 9], [2])
    const params: LogitsOrProbs = given === 'logits' ? { logits: param } : { probs: param }
    return {
      d: negativeBinomial(r, params), x, expandedOwns: (e: NegativeBinomial) => [e.totalCount, e.logits, e.probs],
      also: [() => { const b = negativeBinomial(r, params); return given === 'logits' ? b.probs : b.logits }],
      dispose: [r, param, x],
    }
  }))

  it('rejects bad arguments and values outside the support with named errors', () => {
    expect(() => negativeBinomial(0, { probs: 0.5 })).toThrow(InvalidArgumentError)
    expect(() => negativeBinomial([1, -2], { probs: 0.5 })).toThrow(/negativeBinomial: argument 'totalCount' must satisfy x > 0; got -2 at index \[1\]/)
    expect(() => negativeBinomial(3, { probs: [0.5, 1] })).toThrow(/negativeBinomial: argument 'probs' must satisfy 0 ≤ x < 1; got 1 at index \[1\]/)
    expect(() => negativeBinomial(3, { logits: Infinity })).toThrow(/negativeBinomial: argument 'logits' must satisfy finite real; got Infinity/)
    expect(() => negativeBinomial([1, 2, 3], { probs: [0.1, 0.2] })).toThrow(/negativeBinomial: .*totalCount \[3\], probs \[2\]/)
    const d = negativeBinomial([2, 2.5], { probs: 0.5 })
    expect(() => d.logProb(t([1, 2.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([-1, 2], [2]))).toThrow(/negativeBinomial.logProb: value outside the support \(integer x ≥ 0\); got -1/)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(ShapeError)
  })
})
