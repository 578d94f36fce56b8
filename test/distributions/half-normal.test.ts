import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { halfNormal } from '../../src/distributions/half-normal.js'
import type { HalfNormal } from '../../src/distributions/half-normal.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, expectMomentsMatch, read, sampleMoments, simpson, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, expectFiniteLogProbAndGrads, expectRsampleGradsMatchFd, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, scale: number): number => Math.log(2) - 0.5 * (x / scale) ** 2 - Math.log(scale) - 0.5 * Math.log(2 * Math.PI)

/** A batch shape with scales log-uniform in [1e-3, 1e3]. */
const withScales = smallShape.chain((batch) => doubles(sizeOf(batch), -3, 3).map((u) => ({ batch, scale: u.map((v) => 10 ** v) })))

describe('halfNormal', () => {
  const cases = withScales.map((p) => ({ ...p, make: () => halfNormal(t(p.scale, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'HalfNormal', dtype: 'float32', repeatable: 'rsample', expandedLogProb: true,
    expandTiles: { param: (d) => d.scale, rel: 0, abs: 0 } })
  referenceLogProbLaw(cases, { params: (d) => [d.scale], ref, rel: 1e-4, abs: 1e-5 })

  it('the density integrates to 1 (Simpson over (0, 12 scale])', () => tf.tidy(() => {
    for (const scale of [1e-3, 1, 300]) {
      const f = (x: number): number => Math.exp(read(halfNormal(scale).logProb(tf.scalar(Math.max(x, 1e-30))))[0]!)
      expect(simpson(f, 0, 12 * scale, 400)).toBeCloseTo(1, 5)
    }
  }))

  it('mean, variance, entropy equal the float64 closed forms and quadratures; sample moments match', () => tf.tidy(() => {
    const scales = [1e-3, 0.5, 1, 7, 1e3]
    const d = halfNormal(t(scales, [5]))
    expectClose(read(d.mean), scales.map((s) => s * Math.sqrt(2 / Math.PI)), 1e-6, 0)
    expectClose(read(d.variance), scales.map((s) => s * s * (1 - 2 / Math.PI)), 1e-6, 0)
    // H = −∫ p log p, by quadrature of the float64 density
    const h = scales.map((s) => -simpson((x) => Math.exp(ref(x, s)) * ref(x, s), 0, 14 * s, 2000))
    expectClose(read(d.entropy()), h, 1e-4, 1e-6)
    expectMomentsMatch(d.sample([20000], 13), read(d.mean), read(d.variance))
  }))

  it('pathwise gradient of E[x] w.r.t. scale matches √(2/π) (CLT bound), and finite differences', () => tf.tidy(() => {
    const n = 20000
    const g = tf.grad((s: tf.Tensor) => tf.sum(halfNormal(s).rsample([], 9)))(tf.fill([n], 2.5))
    const m = sampleMoments(tf.reshape(g, [n, 1]))
    expect(Math.abs(m.mean[0]! - Math.sqrt(2 / Math.PI))).toBeLessThan(5 * Math.sqrt(m.variance[0]! / n))
    expectRsampleGradsMatchFd((s) => halfNormal(s), [1.3])
  }))

  it('scales 1e-6 and 1e6 give finite logProb and gradients; draws lie in (0, ∞)', () => tf.tidy(() => {
    for (const scale of [1e-6, 1e6]) expectFiniteLogProbAndGrads((s) => halfNormal(s), [tf.scalar(scale)], t([1e-3, 5], [2]))
    const d = halfNormal(t([1e-6, 1, 1e6], [3]))
    read(d.support.check(d.sample([5000], 2))).forEach((v) => expect(v).toBe(1))
  }))

  noLeakLaw(() => {
    const scale = t([1, 2], [2]), x = t([0.5, 0.5], [2])
    return { d: halfNormal(scale), x, expandedOwns: (e: HalfNormal) => [e.scale], also: [() => halfNormal(3).scale], dispose: [scale, x] }
  })

  it('rejects bad arguments and values with named errors', () => {
    expect(() => halfNormal(-1)).toThrow(InvalidArgumentError)
    expect(() => halfNormal([1, 0])).toThrow(/halfNormal: argument 'scale' must satisfy x > 0; got 0 at index \[1\]/)
    const d = halfNormal([1, 2])
    expect(() => d.logProb(t([1, -0.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, -0.5], [2]))).toThrow(/halfNormal.logProb: value outside the support \(x ≥ 0\); got -0.5/)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(ShapeError)
    expect(() => d.expand([3])).toThrow(ShapeError)
  })
})
