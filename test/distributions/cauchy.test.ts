import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cauchy, klCauchyCauchy } from '../../src/distributions/cauchy.js'
import type { Cauchy } from '../../src/distributions/cauchy.js'
import { InvalidArgumentError, NonFiniteArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, read, sampleMoments, simpson, t } from '../helpers.js'
import { doubles, expectFiniteLogProbAndGrads, expectRsampleGradsMatchFd, locScaleParams, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, loc: number, scale: number): number => -Math.log(Math.PI * scale) - Math.log1p(((x - loc) / scale) ** 2)

/** KL by float64 quadrature: x = μp + σp·tan θ makes p dx = dθ/π. */
const klQuad = (mp: number, sp: number, mq: number, sq: number): number =>
  simpson((th) => { const x = mp + sp * Math.tan(th); return (ref(x, mp, sp) - ref(x, mq, sq)) / Math.PI }, -Math.PI / 2 + 1e-9, Math.PI / 2 - 1e-9, 20000)

/** Parameters for a batch: loc ∈ [-10, 10], scale log-uniform in [1e-3, 1e3]. */
const withParams = locScaleParams([-10, 10], [-3, 3])

describe('cauchy', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => cauchy(t(p.loc, p.batch), t(p.scale, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'Cauchy', dtype: 'float32', repeatable: 'rsample', expandedLogProb: true })
  referenceLogProbLaw(cases, { params: (d) => [d.loc, d.scale], ref, rel: 1e-4, abs: 1e-5 })

  it('the density integrates to 1 (Simpson in θ, x = loc + scale·tan θ)', () => tf.tidy(() => {
    for (const [loc, scale] of [[0, 1], [3, 1e-3], [-50, 200]] as const) {
      const th = Array.from({ length: 401 }, (_, i) => -Math.PI / 2 + 1e-6 + (i * (Math.PI - 2e-6)) / 400)
      const p = read(tf.exp(cauchy(loc, scale).logProb(t(th.map((v) => loc + scale * Math.tan(v)), [401]))))
      const f = (v: number): number => p[Math.round(((v + Math.PI / 2 - 1e-6) * 400) / (Math.PI - 2e-6))]! * scale / Math.cos(v) ** 2
      expect(simpson(f, th[0]!, th[400]!, 400)).toBeCloseTo(1, 5)
    }
  }))

  it('mean is NaN and variance +∞ (as Pyro); entropy equals log(4π scale)', () => tf.tidy(() => {
    const scales = [1e-3, 1, 50]
    const d = cauchy(t([0, 1, 2], [3]), t(scales, [3]))
    read(d.mean).forEach((v) => expect(v).toBeNaN())
    read(d.variance).forEach((v) => expect(v).toBe(Infinity))
    expectClose(read(d.entropy()), scales.map((s) => Math.log(4 * Math.PI * s)), 1e-5, 1e-6)
  }))

  it('draws have median loc and quartiles loc ± scale (binomial bounds)', () => tf.tidy(() => {
    const n = 20000, loc = -3, scale = 2
    const xs = read(cauchy(loc, scale).sample([n], 17))
    for (const [q, at] of [[0.5, loc], [0.25, loc - scale], [0.75, loc + scale]] as const) {
      const frac = xs.filter((v) => v <= at).length / n
      expect(Math.abs(frac - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / n))
    }
  }))

  it('klCauchyCauchy equals a float64 quadrature, is ≥ 0 and 0 at p = q', () => {
    fc.assert(fc.property(doubles(2, -5, 5), doubles(2, -1, 1), (l, s) => tf.tidy(() => {
      const p = cauchy(l[0]!, Math.exp(s[0]!)), q = cauchy(l[1]!, Math.exp(s[1]!))
      const got = read(klCauchyCauchy(p, q))[0]!
      expectClose([got], [klQuad(read(p.loc)[0]!, read(p.scale)[0]!, read(q.loc)[0]!, read(q.scale)[0]!)], 1e-4, 1e-6)
      expect(got).toBeGreaterThanOrEqual(0)
      expect(read(klCauchyCauchy(p, p))[0]).toBe(0)
    })), { ...FC, numRuns: 10 })
  })

  it('pathwise gradient of E[1/(1 + x²)] = (1 + σ)/((1 + σ)² + μ²) matches its closed-form derivatives (CLT bound)', () => tf.tidy(() => {
    const n = 20000, mu = 0.7, sigma = 1.5
    const f = (l: tf.Tensor, s: tf.Tensor) => tf.sum(tf.reciprocal(tf.add(1, tf.square(cauchy(l, s).rsample([], 4)))))
    const [gl, gs] = tf.grads(f)([tf.fill([n], mu), tf.fill([n], sigma)]) as [tf.Tensor, tf.Tensor]
    const a = 1 + sigma, den = a * a + mu * mu
    const want = [(-2 * a * mu) / den ** 2, (mu * mu - a * a) / den ** 2]
    ;[gl, gs].forEach((g, i) => {
      const m = sampleMoments(tf.reshape(g, [n, 1]))
      expect(Math.abs(m.mean[0]! - want[i]!)).toBeLessThan(5 * Math.sqrt(m.variance[0]! / n))
    })
    expectRsampleGradsMatchFd((l, s) => cauchy(l, s), [0.3, 0.8], (x) => tf.sum(tf.atan(x)))
  }))

  it('scales 1e-6 and 1e6 give finite logProb and gradients; draws are finite', () => tf.tidy(() => {
    for (const scale of [1e-6, 1e6]) expectFiniteLogProbAndGrads((l, s) => cauchy(l, s), [tf.scalar(0.1), tf.scalar(scale)], t([0.5, -3], [2]))
    const d = cauchy(0, t([1e-6, 1, 1e6], [3]))
    read(d.support.check(d.sample([5000], 2))).forEach((v) => expect(v).toBe(1))
  }))

  noLeakLaw(() => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), x = t([0.5, 0.5], [2])
    const d = cauchy(loc, scale)
    return { d, x, expandedOwns: (e: Cauchy) => [e.loc, e.scale], also: [() => klCauchyCauchy(d, d), () => { const c = cauchy(0, 1); return [c.loc, c.scale] }], dispose: [loc, scale, x] }
  })

  it('rejects bad arguments and values with named errors', () => {
    expect(() => cauchy(0, 0)).toThrow(InvalidArgumentError)
    expect(() => cauchy(0, [1, -1])).toThrow(/cauchy: argument 'scale' must satisfy x > 0; got -1 at index \[1\]/)
    expect(() => cauchy(Infinity, 1)).toThrow(NonFiniteArgumentError)
    expect(() => cauchy([0, 0, 0], [1, 1])).toThrow(/cauchy: .*loc \[3\], scale \[2\]/)
    const d = cauchy([0, 0], 1)
    expect(() => d.logProb(t([0, NaN], [2]))).toThrow(SupportError)
    expect(() => klCauchyCauchy(d, cauchy([0, 0, 0], 1))).toThrow(ShapeError)
  })
})
