import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { kumaraswamy } from '../../src/distributions/kumaraswamy.js'
import type { Kumaraswamy } from '../../src/distributions/kumaraswamy.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, expectMomentsMatch, lgamma, read, sampleMoments, simpson, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, expectFiniteLogProbAndGrads, expectRsampleGradsMatchFd, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, a: number, b: number): number => Math.log(a * b) + (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-(x ** a))
/** ψ(x) in doubles: the recurrence up to x ≥ 10, then the asymptotic series to x⁻¹⁰. */
const digamma64 = (x: number): number => {
  let s = 0
  for (; x < 10; x++) s -= 1 / x
  const i2 = 1 / (x * x)
  return s + Math.log(x) - 0.5 / x - i2 * (1 / 12 - i2 * (1 / 120 - i2 * (1 / 252 - i2 * (1 / 240 - i2 / 132))))
}
/** E[Xⁿ] = b·B(1 + n/a, b) in doubles. */
const moment64 = (a: number, b: number, n: number): number => Math.exp(Math.log(b) + lgamma(1 + n / a) + lgamma(b) - lgamma(1 + n / a + b))
const entropy64 = (a: number, b: number): number => 1 - 1 / b + (1 - 1 / a) * (digamma64(b + 1) + 0.5772156649015329) - Math.log(a * b)

/** A batch shape with a, b log-uniform in [0.2, 20]. */
const withParams = smallShape.chain((batch) => fc.record({ batch: fc.constant(batch), a: doubles(sizeOf(batch), -0.7, 1.3), b: doubles(sizeOf(batch), -0.7, 1.3) })
  .map(({ batch: bs, a, b }) => ({ batch: bs, a: a.map((v) => 10 ** v), b: b.map((v) => 10 ** v) })))

describe('kumaraswamy', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => kumaraswamy(t(p.a, p.batch), t(p.b, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'Kumaraswamy', dtype: 'float32', repeatable: 'rsample', expandedLogProb: true })
  referenceLogProbLaw(cases, { params: (d) => [d.a, d.b], ref, rel: 1e-4, abs: 1e-4 })

  it('the density integrates to 1 (Simpson in t, x = t^m with m ≥ 1/a so the integrand is smooth at 0)', () => tf.tidy(() => {
    for (const [a, b] of [[1, 1], [2, 5], [0.5, 3], [7, 1.5]] as const) {
      const m = Math.max(1, 1 / a)
      const ts = Array.from({ length: 2001 }, (_, i) => Math.min(Math.max(i / 2000, 1e-9), 1 - 1e-9))
      const p = read(tf.exp(kumaraswamy(a, b).logProb(t(ts.map((v) => v ** m), [2001]))))
      const f = (v: number): number => p[Math.round(v * 2000)]! * m * ts[Math.round(v * 2000)]! ** (m - 1)
      expect(simpson(f, 0, 1, 2000)).toBeCloseTo(1, 4)
    }
  }))

  it('mean, variance and entropy equal the float64 closed forms (and quadratures); sample moments match', () => tf.tidy(() => {
    const as = [0.5, 1, 2, 5, 10, 0.3], bs = [3, 1, 2, 1.5, 10, 0.4]
    const d = kumaraswamy(t(as, [6]), t(bs, [6]))
    const [af, bf] = [as.map(Math.fround), bs.map(Math.fround)]
    const mean = af.map((a, i) => moment64(a, bf[i]!, 1))
    expectClose(read(d.mean), mean, 1e-4, 0)
    expectClose(read(d.variance), af.map((a, i) => moment64(a, bf[i]!, 2) - mean[i]! ** 2), 1e-4, 0)
    expectClose(read(d.entropy()), af.map((a, i) => entropy64(a, bf[i]!)), 1e-4, 1e-6)
    // cross-check the float64 forms by quadrature where the density is smooth (a, b ≥ 2)
    for (const [a, b] of [[2, 2], [5, 3]] as const) {
      expect(simpson((x) => x * Math.exp(ref(x, a, b)), 1e-12, 1 - 1e-12, 4000)).toBeCloseTo(moment64(a, b, 1), 5)
      expect(-simpson((x) => Math.exp(ref(x, a, b)) * ref(x, a, b), 1e-12, 1 - 1e-12, 4000)).toBeCloseTo(entropy64(a, b), 5)
    }
    expectMomentsMatch(d.sample([20000], 21), read(d.mean), read(d.variance))
  }))

  it('pathwise gradients of E[x] w.r.t. a and b match the closed forms from ψ (CLT bound), and finite differences', () => tf.tidy(() => {
    const n = 20000, a = 2.5, b = 1.7
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(kumaraswamy(x, y).rsample([], 6)))([tf.fill([n], a), tf.fill([n], b)]) as [tf.Tensor, tf.Tensor]
    const m = moment64(a, b, 1), psiAll = digamma64(1 + 1 / a + b)
    const want = [(-m / (a * a)) * (digamma64(1 + 1 / a) - psiAll), m * (1 / b + digamma64(b) - psiAll)]
    ;[ga, gb].forEach((g, i) => {
      const s = sampleMoments(tf.reshape(g, [n, 1]))
      expect(Math.abs(s.mean[0]! - want[i]!)).toBeLessThan(5 * Math.sqrt(s.variance[0]! / n))
    })
    expectRsampleGradsMatchFd((x, y) => kumaraswamy(x, y), [1.5, 2.5])
  }))

  it('extreme parameters give finite logProb and gradients inside (0, 1); draws lie in [0, 1]', () => tf.tidy(() => {
    for (const [a, b] of [[1e-2, 1e-2], [50, 50], [0.1, 30]]) expectFiniteLogProbAndGrads((x, y) => kumaraswamy(x, y), [tf.scalar(a!), tf.scalar(b!)], t([1e-3, 0.5, 0.999], [3]))
    const d = kumaraswamy(t([0.1, 1, 30], [3]), t([0.1, 1, 30], [3]))
    read(d.support.check(d.sample([5000], 2))).forEach((v) => expect(v).toBe(1))
  }))

  noLeakLaw(() => {
    const a = t([1, 2], [2]), b = t([3, 0.5], [2]), x = t([0.5, 0.25], [2])
    return { d: kumaraswamy(a, b), x, expandedOwns: (e: Kumaraswamy) => [e.a, e.b], also: [() => { const k = kumaraswamy(2, 3); return [k.a, k.b] }], dispose: [a, b, x] }
  })

  it('rejects bad arguments and values with named errors', () => {
    expect(() => kumaraswamy(0, 1)).toThrow(InvalidArgumentError)
    expect(() => kumaraswamy(1, [1, -2])).toThrow(/kumaraswamy: argument 'b' must satisfy x > 0; got -2 at index \[1\]/)
    expect(() => kumaraswamy([1, 1, 1], [1, 1])).toThrow(/kumaraswamy: .*a \[3\], b \[2\]/)
    const d = kumaraswamy([1, 2], 3)
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0.5, -0.1], [2]))).toThrow(/kumaraswamy.logProb: value outside the support \(0 ≤ x ≤ 1\); got -0.1/)
    expect(() => d.logProb(t([0.5, 0.5, 0.5], [3]))).toThrow(ShapeError)
  })
})
