import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { beta, klBetaBeta } from '../../src/distributions/beta.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'
import { lgamma64, logGammaDerivative64 } from '../backend/special-reference.js'
import { expectKlMatchesMonteCarlo, expectPathwiseGradient } from './gamma-laws.js'
import { doubles, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const digamma64 = (x: number): number => logGammaDerivative64(1, x)
const lbeta64 = (a: number, b: number): number => lgamma64(a) + lgamma64(b) - lgamma64(a + b)
const ref = (x: number, a: number, b: number): number => (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - lbeta64(a, b)
const entropy64 = (a: number, b: number): number =>
  lbeta64(a, b) - (a - 1) * digamma64(a) - (b - 1) * digamma64(b) + (a + b - 2) * digamma64(a + b)
const kl64 = (ap: number, bp: number, aq: number, bq: number): number =>
  lbeta64(aq, bq) - lbeta64(ap, bp) + (ap - aq) * digamma64(ap) + (bp - bq) * digamma64(bp) + (aq - ap + bq - bp) * digamma64(ap + bp)

/** A batch with both concentrations log-uniform in [0.1, 100]. */
const withParams = smallShape.chain((batch) => fc.record({
  batch: fc.constant(batch), a: doubles(sizeOf(batch), -1, 2), b: doubles(sizeOf(batch), -1, 2),
})).map(({ batch, a, b }) => ({ batch, a: a.map((u) => 10 ** u), b: b.map((u) => 10 ** u) }))

describe('beta', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => beta(t(p.a, p.batch), t(p.b, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'Beta', repeatable: 'sample' })
  referenceLogProbLaw(cases, { params: (d) => [d.concentration1, d.concentration0], ref, rel: 1e-4, abs: 2e-4 })

  it('the density integrates to 1 (over u = logit x ≤ 0, the upper half by p_(a,b)(1 − x) = p_(b,a)(x))', () => {
    for (const [a, b] of [[0.3, 0.6], [2, 5], [40, 8]] as const) {
      tf.tidy(() => {
        const { nodes, weights } = simpsonGrid(-85, 0, 6000)
        const x = nodes.map((u) => 1 / (1 + Math.exp(-u)))
        const half = (d: ReturnType<typeof beta>) => read(tf.exp(d.logProb(t(x, [x.length])))).reduce((s, v, i) => s + v * x[i]! * (1 - x[i]!) * weights[i]!, 0)
        expect(half(beta(a, b)) + half(beta(b, a))).toBeCloseTo(1, 4)
      })
    }
  })

  it('mean, variance and entropy equal their float64 closed forms (1e-4); sample moments match (CLT)', () => tf.tidy(() => {
    const a = [0.2, 1, 4.5, 60], b = [1, 0.5, 3, 10]
    const d = beta(t(a, [4]), t(b, [4]))
    expectClose(read(d.mean), a.map((v, i) => v / (v + b[i]!)), 1e-5)
    expectClose(read(d.variance), a.map((v, i) => (v * b[i]!) / ((v + b[i]!) ** 2 * (v + b[i]! + 1))), 1e-5)
    expectClose(read(d.entropy()), a.map((v, i) => entropy64(v, b[i]!)), 1e-4, 1e-6)
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('KL: float64 closed form (1e-4), ≥ 0, exactly 0 for p = q, and equal to its Monte Carlo estimate', () => {
    fc.assert(fc.property(doubles(4, -1, 1.3), ([u, v, w, x]) => tf.tidy(() => {
      const [ap, bp, aq, bq] = [10 ** u!, 10 ** v!, 10 ** w!, 10 ** x!]
      const got = read(klBetaBeta(beta(ap, bp), beta(aq, bq)))[0]!
      expect(got).toBeGreaterThanOrEqual(0)
      expectClose([got], [kl64(ap, bp, aq, bq)], 1e-4, 2e-5)
      expect(read(klBetaBeta(beta(ap, bp), beta(ap, bp)))).toEqual([0])
    })), FC)
    tf.tidy(() => {
      const p = beta(t([0.5, 3, 20], [3]), t([1, 2, 4], [3])), q = beta(t([1, 2, 25], [3]), t([2, 1, 5], [3]))
      expectKlMatchesMonteCarlo(p, q, read(klBetaBeta(p, q)))
    })
  })

  it('reparameterised: ∂E[x]/∂a = b/(a + b)² and ∂E[x]/∂b = −a/(a + b)² (pathwise, 5 standard errors)', () => {
    const av = [0.3, 2, 40], bv = [2, 0.5, 4]
    const a = t(av, [3]), b = t(bv, [3])
    expectPathwiseGradient((seed, x, y) => tf.sum(tf.mean(beta(x!, y!).rsample([2000], seed), 0)), [a, b],
      [av.map((v, i) => bv[i]! / (v + bv[i]!) ** 2), av.map((v, i) => -v / (v + bv[i]!) ** 2)])
    tf.dispose([a, b])
  })

  it('draws stay inside (0, 1) for tiny concentrations (log-Gamma draws), and have finite logProb', () => tf.tidy(() => {
    const d = beta(t([1e-3, 0.01, 1e3], [3]), t([1e-3, 5, 1e-2], [3]))
    const x = read(d.sample([3000], 1))
    x.forEach((v) => expect(v > 0 && v < 1).toBe(true))
    read(d.logProb(d.sample([100], 2))).forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  noLeakLaw(() => {
    const a = t([0.5, 2], [2]), b = t([1, 3], [2]), x = t([0.25, 0.75], [2])
    return {
      d: beta(a, b), x, expandedOwns: (e) => [e.concentration1, e.concentration0],
      also: [() => { const g = beta(1, 2); return [g.concentration1, g.concentration0] }, () => klBetaBeta(beta(a, b), beta(b, a)),
        () => tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(beta(u, v).rsample([4])))([a, b])],
      dispose: [a, b, x],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => beta(0, 1)).toThrow(InvalidArgumentError)
    expect(() => beta(0, 1)).toThrow(/beta: argument 'concentration1' must satisfy x > 0; got 0/)
    expect(() => beta(1, -2)).toThrow(/beta: argument 'concentration0' must satisfy x > 0; got -2/)
    expect(() => beta([1, 1, 1], [1, 1])).toThrow(ShapeError)
    const d = beta([1, 2], 1)
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0.5, -2], [2]))).toThrow(/beta.logProb: value outside the support \(0 ≤ x ≤ 1\); got -2 at index \[1\]/)
    expect(() => d.toEvent(2)).toThrow(ShapeError)
  })
})
