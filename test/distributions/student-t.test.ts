import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { studentT } from '../../src/distributions/student-t.js'
import { InvalidArgumentError, NonFiniteArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, expectMomentsMatch, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'
import { lgamma64, logGammaDerivative64 } from '../backend/special-reference.js'
import { expectPathwiseGradient } from './gamma-laws.js'
import { doubles, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const digamma64 = (x: number): number => logGammaDerivative64(1, x)
const ref = (x: number, df: number, loc: number, scale: number): number =>
  lgamma64((df + 1) / 2) - lgamma64(df / 2) - 0.5 * Math.log(df * Math.PI) - Math.log(scale) - ((df + 1) / 2) * Math.log1p(((x - loc) / scale) ** 2 / df)
const entropy64 = (df: number, scale: number): number =>
  ((df + 1) / 2) * (digamma64((df + 1) / 2) - digamma64(df / 2)) + 0.5 * Math.log(df) + lgamma64(df / 2) + lgamma64(0.5) - lgamma64((df + 1) / 2) + Math.log(scale)

/** A batch with df log-uniform in [0.5, 100], loc in [-10, 10], scale log-uniform in [1e-2, 1e2]. */
const withParams = smallShape.chain((batch) => fc.record({
  batch: fc.constant(batch), df: doubles(sizeOf(batch), Math.log10(0.5), 2), loc: doubles(sizeOf(batch), -10, 10), scale: doubles(sizeOf(batch), -2, 2),
})).map(({ batch, df, loc, scale }) => ({ batch, loc, df: df.map((u) => 10 ** u), scale: scale.map((u) => 10 ** u) }))

describe('studentT', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => studentT(t(p.df, p.batch), t(p.loc, p.batch), t(p.scale, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'StudentT', repeatable: 'sample' })
  referenceLogProbLaw(cases, { params: (d) => [d.df, d.loc, d.scale], ref, rel: 1e-4, abs: 2e-4 })

  it('the density integrates to 1 (over θ, x = μ + σ tan θ)', () => {
    for (const [df, loc, scale] of [[1, 0, 1], [3, 2, 0.5], [30, -1, 4]] as const) {
      tf.tidy(() => {
        const { nodes, weights } = simpsonGrid(-Math.PI / 2 + 1e-6, Math.PI / 2 - 1e-6, 4000)
        const x = nodes.map((th) => loc + scale * Math.tan(th))
        const p = read(tf.exp(studentT(df, loc, scale).logProb(t(x, [x.length]))))
        expect(p.reduce((s, v, i) => s + (v * scale * weights[i]!) / Math.cos(nodes[i]!) ** 2, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('mean and variance (NaN / +∞ where undefined, as Pyro), entropy to 1e-4 of float64; sample moments match (CLT)', () => tf.tidy(() => {
    const d = studentT(t([0.7, 1.5, 5, 30], [4]), t([1, 2, 3, 4], [4]), t([2, 2, 0.5, 3], [4]))
    const m = read(d.mean), v = read(d.variance)
    expect(Number.isNaN(m[0]!)).toBe(true)
    expect(m.slice(1)).toEqual([2, 3, 4])
    expect(Number.isNaN(v[0]!)).toBe(true)
    expect(v[1]).toBe(Infinity)
    expectClose(v.slice(2), [0.25 * 5 / 3, (9 * 30) / 28], 1e-6)
    const df = [0.7, 1, 3, 30, 100], sc = [1, 0.1, 2, 5, 1]
    expectClose(read(studentT(t(df, [5]), 0, t(sc, [5])).entropy()), df.map((n, i) => entropy64(n, sc[i]!)), 1e-4, 1e-6)
    const e = studentT(t([6, 12, 40], [3]), t([1, -2, 0], [3]), t([0.5, 2, 1], [3]))
    expectMomentsMatch(e.sample([40000], 7), read(e.mean), read(e.variance), 6)
  }))

  it('reparameterised: ∂E[x]/∂μ = 1, ∂E[x]/∂σ = 0, ∂E[(x − μ)²]/∂σ = 2σν/(ν − 2), ∂E[(x − μ)²]/∂ν = −2σ²/(ν − 2)²', () => {
    const df = t([10], [1]), loc = t([1], [1]), scale = t([2], [1])
    expectPathwiseGradient((seed, n, l, s) => tf.mean(studentT(n!, l!, s!).rsample([4000], seed)), [df, loc, scale], [[0], [1], [0]])
    expectPathwiseGradient((seed, n, s) => tf.mean(tf.square(tf.sub(studentT(n!, loc, s!).rsample([4000], seed), loc))), [df, scale],
      [[(-2 * 4) / 64], [(2 * 2 * 10) / 8]])
    tf.dispose([df, loc, scale])
  })

  noLeakLaw(() => {
    const df = t([2, 5], [2]), loc = t([0, 1], [2]), scale = t([1, 2], [2]), x = t([0.5, -1.5], [2])
    return {
      d: studentT(df, loc, scale), x, expandedOwns: (e) => [e.df, e.loc, e.scale],
      also: [() => { const s = studentT(3, 0, 1); return [s.df, s.loc, s.scale] },
        () => tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(studentT(u, 0, v).rsample([4])))([df, scale])],
      dispose: [df, loc, scale, x],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => studentT(0, 0, 1)).toThrow(InvalidArgumentError)
    expect(() => studentT(0, 0, 1)).toThrow(/studentT: argument 'df' must satisfy x > 0; got 0/)
    expect(() => studentT(3, 0, -1)).toThrow(/studentT: argument 'scale' must satisfy x > 0; got -1/)
    expect(() => studentT(3, NaN, 1)).toThrow(NonFiniteArgumentError)
    expect(() => studentT([1, 2, 3], 0, [1, 1])).toThrow(/studentT: .*df \[3\], loc \[\] \(scalar\), scale \[2\]/)
    expect(() => studentT([1, 2, 3], 0, [1, 1])).toThrow(ShapeError)
    const d = studentT([3, 4], 0, 1)
    expect(() => d.logProb(t([0, Infinity], [2]))).toThrow(SupportError)
    expect(() => d.toEvent(2)).toThrow(ShapeError)
  })
})
