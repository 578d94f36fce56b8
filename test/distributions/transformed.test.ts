import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { affine, exp, sigmoid } from '../../src/distributions/bijectors.js'
import * as constraints from '../../src/distributions/constraints.js'
import type { Distribution } from '../../src/distributions/distribution.js'
import { makeDistribution } from '../../src/distributions/make.js'
import { normal } from '../../src/distributions/normal.js'
import type { Normal } from '../../src/distributions/normal.js'
import { transformed } from '../../src/distributions/transformed.js'
import { ShapeError, SupportError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, expectNoLeak, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'

const normal64 = (x: number, loc: number, scale: number): number =>
  -0.5 * ((x - loc) / scale) ** 2 - Math.log(scale) - 0.5 * Math.log(2 * Math.PI)
/** The logit-normal density: Normal(logit y) / (y (1 − y)). */
const ref = (y: number, loc: number, scale: number): number =>
  normal64(Math.log(y) - Math.log1p(-y), loc, scale) - Math.log(y) - Math.log1p(-y)

/** loc ∈ [-2, 2], scale log-uniform in [0.1, 2] (so float32 draws stay inside (0, 1)). */
const params = (batch: number[]) => fc.record({
  loc: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  logScale: fc.array(fc.double({ min: -1, max: 0.3, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
}).map(({ loc, logScale }) => ({ batch, loc, scale: logScale.map((l) => 10 ** l) }))
const withParams = smallShape.chain(params)

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

  it('sample, rsample and logProb have shapes sampleShape ++ batchShape', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, loc, scale }, s, seed) => tf.tidy(() => {
      const d = transformed(normal(t(loc, batch), t(scale, batch)), sigmoid())
      expect(d.batchShape).toEqual(batch)
      expect(d.eventShape).toEqual([])
      expect(d.sample(s, seed).shape).toEqual([...s, ...batch])
      expect(d.rsample(s, seed).shape).toEqual([...s, ...batch])
      expect(d.logProb(d.sample(s, seed)).shape).toEqual([...s, ...batch])
      expect(read(d.sample(s, seed))).toEqual(read(d.sample(s, seed)))
    })), FC)
  })

  it('toEvent(n) moves n batch dims into the event; expand prepends batch dims', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, loc, scale }, s, seed) => tf.tidy(() => {
      const d = transformed(normal(t(loc, batch), t(scale, batch)), sigmoid())
      const ind = d.toEvent(batch.length)
      expect(ind.batchShape).toEqual([])
      expect(ind.eventShape).toEqual(batch)
      const x = ind.sample(s, seed)
      expect(x.shape).toEqual([...s, ...batch])
      expect(ind.logProb(x).shape).toEqual(s)
      expectClose(read(ind.logProb(x)), read(tf.sum(d.logProb(x), batch.map((_, i) => s.length + i))), 1e-5, 1e-3)
      const e = d.expand([2, ...batch])
      expect(e._tag).toBe('Transformed')
      expect(e.batchShape).toEqual([2, ...batch])
      expect(e.sample(s, seed).shape).toEqual([...s, 2, ...batch])
      expect(e.logProb(e.sample(s, seed)).shape).toEqual([...s, 2, ...batch])
    })), FC)
  })

  it('logProb equals the float64 logit-normal density to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, loc, scale }, seed) => tf.tidy(() => {
      const d = transformed(normal(t(loc, batch), t(scale, batch)), sigmoid())
      const y = d.sample([3], seed)
      const ys = read(y), k = sizeOf(batch)
      const locs = read(d.base.loc), scales = read(d.base.scale)
      expectClose(read(d.logProb(y)), ys.map((v, i) => ref(v, locs[i % k]!, scales[i % k]!)), 1e-4, 1e-3)
    })), FC)
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
    const check = (d: { logProb: (x: tf.Tensor) => tf.Tensor }, a: number, b: number) => tf.tidy(() => {
      const { nodes, weights } = simpsonGrid(a, b, 4000)
      const p = read(tf.exp(d.logProb(t(nodes, [nodes.length]))))
      expect(p.reduce((s, v, i) => s + v * weights[i]!, 0)).toBeCloseTo(1, 4)
    })
    check(transformed(normal(0.3, 0.7), sigmoid()), 1e-6, 1 - 1e-6)
    check(transformed(normal(1, 2), affine(-3, -0.5)), -3 - 0.5 - 7, -3 - 0.5 + 7)
    check(transformed(normal(0, 0.5), exp()), 1e-6, 20)
  })

  it('samples lie in the support (the codomain)', () => tf.tidy(() => {
    const d = transformed(normal(t([-1, 0, 2], [3]), t([0.5, 1, 3], [3])), sigmoid())
    expect([d.support._tag, d.support.describe]).toEqual(['unitInterval', '0 ≤ x ≤ 1'])
    expect(transformed(normal(t([0, 0], [2]), 1).toEvent(1), exp()).support.eventDims).toBe(1)
    expect(read(d.support.check(d.sample([2000], 1))).every((v) => v === 1)).toBe(true)
  }))

  it('rsample gradients w.r.t. the base parameters match finite differences', () => {
    const draw = (l: tf.Tensor | number, s: tf.Tensor | number) => tf.sum(transformed(normal(l, s), sigmoid()).rsample([50], 3))
    const f = (l: number, s: number) => tf.tidy(() => read(draw(l, s))[0]!)
    const [gLoc, gScale] = tf.tidy(() => tf.grads((l: tf.Tensor, s: tf.Tensor) => draw(l, s))([tf.scalar(0.7), tf.scalar(1.3)]).map((g) => read(g)[0]!))
    expectClose([gLoc!, gScale!], [centralDiff((l) => f(l, 1.3), 0.7, 1e-2), centralDiff((s) => f(0.7, s), 1.3, 1e-2)], 1e-2, 1e-3)
  })

  it('extreme base scales (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    const y = t([0.2, 0.9], [2])
    for (const scale of [1e-6, 1e6]) {
      const g = tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(transformed(normal(l, s), sigmoid()).logProb(y)))([tf.scalar(0.1), tf.scalar(scale)])
      const values = [...read(transformed(normal(0.1, scale), sigmoid()).logProb(y)), ...g.flatMap(read)]
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    }
  }))

  it('every public call leaves numTensors unchanged', () => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), y = t([0.5, 0.25], [2])
    const base = normal(loc, scale), bij = sigmoid()
    const d = transformed(base, bij)
    expectNoLeak(() => { transformed(base, bij); return [] })
    expectNoLeak(() => d.sample([3], 1))
    expectNoLeak(() => d.rsample([3]))
    expectNoLeak(() => d.logProb(y))
    expectNoLeak(() => d.toEvent(1).logProb(y))
    expectNoLeak(() => { const e = d.expand([3, 2]); return [e.sample(), e.base.loc, e.base.scale] })
    tf.dispose([loc, scale, y])
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
