import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { gamma, klGammaGamma } from '../../src/distributions/gamma.js'
import { InvalidArgumentError, NonFiniteArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'
import { lgamma64, logGammaDerivative64 } from '../backend/special-reference.js'
import { expectKlMatchesMonteCarlo, expectPathwiseGradient } from './gamma-laws.js'
import { doubles, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const digamma64 = (x: number): number => logGammaDerivative64(1, x)
const ref = (x: number, a: number, b: number): number => a * Math.log(b) + (a - 1) * Math.log(x) - b * x - lgamma64(a)
const entropy64 = (a: number, b: number): number => a - Math.log(b) + lgamma64(a) + (1 - a) * digamma64(a)
const kl64 = (ap: number, bp: number, aq: number, bq: number): number =>
  (ap - aq) * digamma64(ap) - lgamma64(ap) + lgamma64(aq) + aq * (Math.log(bp) - Math.log(bq)) + (ap * (bq - bp)) / bp

/** A batch with concentration and rate log-uniform in [1e-2, 1e2]. */
const withParams = smallShape.chain((batch) => fc.record({
  batch: fc.constant(batch), a: doubles(sizeOf(batch), -2, 2), b: doubles(sizeOf(batch), -2, 2),
})).map(({ batch, a, b }) => ({ batch, a: a.map((u) => 10 ** u), b: b.map((u) => 10 ** u) }))

describe('gamma', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => gamma(t(p.a, p.batch), t(p.b, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'Gamma', repeatable: 'sample' })
  referenceLogProbLaw(cases, { params: (d) => [d.concentration, d.rate], ref, rel: 1e-4, abs: 2e-4 })

  it('the density integrates to 1 (over u = log x)', () => {
    for (const [a, b] of [[0.3, 1], [2, 0.5], [40, 8]] as const) {
      tf.tidy(() => {
        const { nodes, weights } = simpsonGrid(-60, 8, 4000)
        const x = nodes.map(Math.exp)
        const p = read(tf.exp(gamma(a, b).logProb(t(x, [x.length]))))
        expect(p.reduce((s, v, i) => s + v * x[i]! * weights[i]!, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('mean, variance and entropy equal their float64 closed forms (1e-4); sample moments match (CLT)', () => tf.tidy(() => {
    const a = [0.2, 1, 4.5, 60], b = [1, 0.5, 3, 10]
    const d = gamma(t(a, [4]), t(b, [4]))
    expectClose(read(d.mean), a.map((v, i) => v / b[i]!), 1e-5)
    expectClose(read(d.variance), a.map((v, i) => v / b[i]! ** 2), 1e-5)
    expectClose(read(d.entropy()), a.map((v, i) => entropy64(v, b[i]!)), 1e-4, 1e-6)
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('KL: float64 closed form (1e-4), ≥ 0, exactly 0 for p = q, and equal to its Monte Carlo estimate', () => {
    fc.assert(fc.property(doubles(4, -1, 1.3), ([u, v, w, x]) => tf.tidy(() => {
      const [ap, bp, aq, bq] = [10 ** u!, 10 ** v!, 10 ** w!, 10 ** x!]
      const got = read(klGammaGamma(gamma(ap, bp), gamma(aq, bq)))[0]!
      expect(got).toBeGreaterThanOrEqual(0)
      expectClose([got], [kl64(ap, bp, aq, bq)], 1e-4, 2e-5)
      expect(read(klGammaGamma(gamma(ap, bp), gamma(ap, bp)))).toEqual([0])
    })), FC)
    tf.tidy(() => {
      const p = gamma(t([0.5, 3, 20], [3]), t([1, 2, 4], [3])), q = gamma(t([1, 2, 25], [3]), t([2, 1, 5], [3]))
      expectKlMatchesMonteCarlo(p, q, read(klGammaGamma(p, q)))
    })
  })

  it('reparameterised: ∂E[x]/∂α = 1/β and ∂E[x]/∂β = −α/β² (pathwise, 5 standard errors)', () => {
    const a = t([0.3, 2, 40], [3]), b = t([2, 0.5, 4], [3])
    expectPathwiseGradient((seed, al, be) => tf.sum(tf.mean(gamma(al!, be!).rsample([2000], seed), 0)), [a, b],
      [[1 / 2, 1 / 0.5, 1 / 4], [-0.3 / 4, -2 / 0.25, -40 / 16]])
    tf.dispose([a, b])
  })

  it('draws lie in (0, ∞), also for tiny concentrations (clamped to the smallest normal float32)', () => tf.tidy(() => {
    const d = gamma(t([1e-3, 0.05, 1, 1e3], [4]), t([1, 1e3, 1, 1e-3], [4]))
    const ok = read(d.support.check(d.sample([2000], 1)))
    expect(ok.every((v) => v === 1)).toBe(true)
    read(d.logProb(d.sample([100], 2))).forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  noLeakLaw(() => {
    const a = t([0.5, 2], [2]), b = t([1, 3], [2]), x = t([0.5, 1.5], [2])
    return {
      d: gamma(a, b), x, expandedOwns: (e) => [e.concentration, e.rate],
      also: [() => { const g = gamma(1, 2); return [g.concentration, g.rate] }, () => klGammaGamma(gamma(a, b), gamma(b, a)),
        () => tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(gamma(u, v).rsample([4])))([a, b])],
      dispose: [a, b, x],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => gamma(0, 1)).toThrow(InvalidArgumentError)
    expect(() => gamma(0, 1)).toThrow(/gamma: argument 'concentration' must satisfy x > 0; got 0/)
    expect(() => gamma(1, -2)).toThrow(/gamma: argument 'rate' must satisfy x > 0; got -2/)
    expect(() => gamma(NaN, 1)).toThrow(NonFiniteArgumentError)
    expect(() => gamma([1, 1, 1], [1, 1])).toThrow(ShapeError)
    const d = gamma([1, 2], 1)
    expect(() => d.logProb(t([1, 0], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, -2], [2]))).toThrow(/gamma.logProb: value outside the support \(x > 0\); got -2 at index \[1\]/)
    expect(() => d.toEvent(2)).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
