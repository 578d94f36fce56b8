import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { halfCauchy } from '../../src/distributions/half-cauchy.js'
import type { HalfCauchy } from '../../src/distributions/half-cauchy.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, read, sampleMoments, simpson, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, expectFiniteLogProbAndGrads, expectRsampleGradsMatchFd, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, scale: number): number => Math.log(2 / Math.PI) - Math.log(scale) - Math.log1p((x / scale) ** 2)

/** A batch shape with scales log-uniform in [1e-3, 1e3]. */
const withScales = smallShape.chain((batch) => doubles(sizeOf(batch), -3, 3).map((u) => ({ batch, scale: u.map((v) => 10 ** v) })))

describe('halfCauchy', () => {
  const cases = withScales.map((p) => ({ ...p, make: () => halfCauchy(t(p.scale, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'HalfCauchy', dtype: 'float32', repeatable: 'rsample', expandedLogProb: true,
    expandTiles: { param: (d) => d.scale, rel: 0, abs: 0 } })
  referenceLogProbLaw(cases, { params: (d) => [d.scale], ref, rel: 1e-4, abs: 1e-5 })

  it('the density integrates to 1 (Simpson in θ, x = scale·tan θ, θ ∈ (0, π/2))', () => tf.tidy(() => {
    for (const scale of [1e-3, 1, 300]) {
      const f = (th: number): number => Math.exp(read(halfCauchy(scale).logProb(tf.scalar(scale * Math.tan(th))))[0]!) * scale / Math.cos(th) ** 2
      expect(simpson(f, 1e-9, Math.PI / 2 - 1e-6, 400)).toBeCloseTo(1, 5)
    }
  }))

  it('mean and variance are +∞; entropy equals log(2π scale) and a float64 quadrature', () => tf.tidy(() => {
    const scales = [1e-3, 1, 50]
    const d = halfCauchy(t(scales, [3]))
    read(d.mean).forEach((v) => expect(v).toBe(Infinity))
    read(d.variance).forEach((v) => expect(v).toBe(Infinity))
    expectClose(read(d.entropy()), scales.map((s) => Math.log(2 * Math.PI * s)), 1e-5, 1e-6)
    // H = −∫ p log p dx; with x = s·cot φ, φ = (π/2)e^(−v), p dx = e^(−v) dv: H = −∫₀^∞ log p(x(v)) e^(−v) dv
    const h = (s: number): number => -simpson((v) => ref(s / Math.tan((Math.PI / 2) * Math.exp(-v)), s) * Math.exp(-v), 0, 60, 4000)
    expectClose(read(d.entropy()), scales.map(h), 1e-4, 1e-5)
  }))

  it('draws have the median and quartiles of HalfCauchy (scale, scale·tan(3π/8); binomial bounds)', () => tf.tidy(() => {
    const n = 20000, scale = 2
    const xs = read(halfCauchy(scale).sample([n], 17))
    for (const [q, at] of [[0.5, scale], [0.75, scale * Math.tan((3 * Math.PI) / 8)], [0.25, scale * Math.tan(Math.PI / 8)]] as const) {
      const frac = xs.filter((v) => v <= at).length / n
      expect(Math.abs(frac - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / n))
    }
  }))

  it('pathwise gradient of E[1/(1 + x²)] = 1/(1 + scale) matches −1/(1 + scale)² (CLT bound), and finite differences', () => tf.tidy(() => {
    const n = 20000, scale = 1.5
    const g = tf.grad((s: tf.Tensor) => tf.sum(tf.reciprocal(tf.add(1, tf.square(halfCauchy(s).rsample([], 4))))))(tf.fill([n], scale))
    const m = sampleMoments(tf.reshape(g, [n, 1]))
    expect(Math.abs(m.mean[0]! + 1 / (1 + scale) ** 2)).toBeLessThan(5 * Math.sqrt(m.variance[0]! / n))
    expectRsampleGradsMatchFd((s) => halfCauchy(s), [0.8], (x) => tf.sum(tf.atan(x)))
  }))

  it('scales 1e-6 and 1e6 give finite logProb and gradients; draws are finite and positive', () => tf.tidy(() => {
    for (const scale of [1e-6, 1e6]) expectFiniteLogProbAndGrads((s) => halfCauchy(s), [tf.scalar(scale)], t([1e-3, 5], [2]))
    const d = halfCauchy(t([1e-6, 1, 1e6], [3]))
    read(d.support.check(d.sample([5000], 2))).forEach((v) => expect(v).toBe(1))
  }))

  noLeakLaw(() => {
    const scale = t([1, 2], [2]), x = t([0.5, 0.5], [2])
    return { d: halfCauchy(scale), x, expandedOwns: (e: HalfCauchy) => [e.scale], also: [() => halfCauchy(3).scale], dispose: [scale, x] }
  })

  it('rejects bad arguments and values with named errors', () => {
    expect(() => halfCauchy(0)).toThrow(InvalidArgumentError)
    expect(() => halfCauchy([1, -3])).toThrow(/halfCauchy: argument 'scale' must satisfy x > 0; got -3 at index \[1\]/)
    const d = halfCauchy([1, 2])
    expect(() => d.logProb(t([1, -0.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, -0.5], [2]))).toThrow(/halfCauchy.logProb: value outside the support \(x ≥ 0\); got -0.5/)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(ShapeError)
  })
})
