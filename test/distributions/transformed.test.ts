import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { affine, exp, sigmoid } from '../../src/distributions/bijectors.js'
import * as constraints from '../../src/distributions/constraints.js'
import type { Distribution } from '../../src/distributions/distribution.js'
import { makeDistribution } from '../../src/distributions/make.js'
import { normal } from '../../src/distributions/normal.js'
import type { Normal } from '../../src/distributions/normal.js'
import { transformed } from '../../src/distributions/transformed.js'
import { ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, read, t } from '../helpers.js'
import { expectFiniteLogProbAndGrads, expectIntegratesToOne, expectRsampleGradsMatchFd, locScaleParams, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const normal64 = (x: number, loc: number, scale: number): number =>
  -0.5 * ((x - loc) / scale) ** 2 - Math.log(scale) - 0.5 * Math.log(2 * Math.PI)
/** The logit-normal density: Normal(logit y) / (y (1 − y)). */
const ref = (y: number, loc: number, scale: number): number =>
  normal64(Math.log(y) - Math.log1p(-y), loc, scale) - Math.log(y) - Math.log1p(-y)

/** loc ∈ [-2, 2], scale log-uniform in [0.1, 2] (so float32 draws stay inside (0, 1)). */
const withParams = locScaleParams([-2, 2], [-1, 0.3])

/** Normal without rsample, to check that reparameterisation follows the base. */
interface Frozen extends Distribution<tf.Tensor, false> { readonly _tag: 'Frozen' }
const frozen = (loc: number, scale: number): Frozen => {
  const n = normal(loc, scale)
  return makeDistribution<Frozen>({
    tag: 'Frozen', name: 'frozen', fields: {}, batchShape: n.batchShape, eventShape: [], reparameterized: false,
    support: constraints.real, draw: (s, seed) => n.sample(s, seed), logProb: (x) => n.logProb(x), expand: () => frozen(loc, scale),
  })
}

describe('transformed', () => {
  it('reparameterized follows the base, at the type level too', () => {
    const d = transformed(normal(0, 1), exp())
    expectTypeOf(d.reparameterized).toEqualTypeOf<true>()
    expectTypeOf(d.base).toEqualTypeOf<Normal>()
    expect(d.reparameterized).toBe(true)
    const f = transformed(frozen(0, 1), exp())
    expectTypeOf(f.reparameterized).toEqualTypeOf<false>()
    expect(f.reparameterized).toBe(false)
    expect(f.rsample).toBeUndefined()
    tf.tidy(() => { expect(read(f.support.check(f.sample([100], 1))).every((v) => v === 1)).toBe(true) })
  })

  const cases = withParams.map((p) => ({ ...p, make: () => transformed(normal(t(p.loc, p.batch), t(p.scale, p.batch)), sigmoid()) }))
  shapeLaws(cases, { reparameterized: true, tag: 'Transformed', repeatable: 'sample', expandedLogProb: true })
  referenceLogProbLaw(cases, {
    title: 'logProb equals the float64 logit-normal density to 1e-4 relative',
    params: (d) => [d.base.loc, d.base.scale], ref, rel: 1e-4, abs: 1e-3,
  })

  it('sums the log-det over the base event dims', () => tf.tidy(() => {
    const loc = [0, 0.5, -1, 1, 0.2, -0.3], scale = [1, 0.5, 2, 0.3, 1, 1]
    const d = transformed(normal(t(loc, [2, 3]), t(scale, [2, 3])).toEvent(1), exp())
    expect(d.batchShape).toEqual([2])
    expect(d.eventShape).toEqual([3])
    const y = d.sample([4], 3)
    const ys = read(y)
    const want = Array.from({ length: 8 }, (_, r) => [0, 1, 2].reduce((acc, j) => {
      const i = r * 3 + j, v = ys[i]!
      return acc + normal64(Math.log(v), loc[i % 6]!, scale[i % 6]!) - Math.log(v)
    }, 0))
    expect(d.logProb(y).shape).toEqual([4, 2])
    expectClose(read(d.logProb(y)), want, 1e-4, 1e-3)
  }))

  it('the density integrates to 1', () => {
    expectIntegratesToOne(() => transformed(normal(0.3, 0.7), sigmoid()), 1e-6, 1 - 1e-6, 4000)
    expectIntegratesToOne(() => transformed(normal(1, 2), affine(-3, -0.5)), -3 - 0.5 - 7, -3 - 0.5 + 7, 4000)
    expectIntegratesToOne(() => transformed(normal(0, 0.5), exp()), 1e-6, 20, 4000)
  })

  it('samples lie in the support (the codomain)', () => tf.tidy(() => {
    const d = transformed(normal(t([-1, 0, 2], [3]), t([0.5, 1, 3], [3])), sigmoid())
    expect([d.support._tag, d.support.describe]).toEqual(['unitInterval', '0 ≤ x ≤ 1'])
    expect(transformed(normal(t([0, 0], [2]), 1).toEvent(1), exp()).support.eventDims).toBe(1)
    expect(read(d.support.check(d.sample([2000], 1))).every((v) => v === 1)).toBe(true)
  }))

  it('rsample gradients w.r.t. the base parameters match finite differences', () =>
    expectRsampleGradsMatchFd((l, s) => transformed(normal(l, s), sigmoid()), [0.7, 1.3], tf.sum))

  it('extreme base scales (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    const y = t([0.2, 0.9], [2])
    for (const scale of [1e-6, 1e6]) expectFiniteLogProbAndGrads((l, s) => transformed(normal(l, s), sigmoid()), [tf.scalar(0.1), tf.scalar(scale)], y)
  }))

  noLeakLaw(() => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), y = t([0.5, 0.25], [2])
    const base = normal(loc, scale), bij = sigmoid()
    return {
      d: transformed(base, bij), x: y, expandedOwns: (e) => [e.base.loc, e.base.scale],
      also: [() => { transformed(base, bij); return [] }],
      dispose: [loc, scale, y],
    }
  })

  it('rejects bad arguments with named errors', () => {
    const d = transformed(normal([0, 0], 1), sigmoid())
    expect(d.name).toBe('transformed(normal, sigmoid)')
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(/transformed\(normal, sigmoid\)\.logProb: value outside the support \(0 ≤ x ≤ 1\); got 1.5 at index \[1\]/)
    expect(() => transformed(normal(0, 1), exp()).logProb(t([-1], [1]))).toThrow(/transformed\(normal, exp\)\.logProb: value outside the support \(x > 0\); got -1/)
    expect(() => d.logProb(t([0.5, 0.5, 0.5], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(ShapeError)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
