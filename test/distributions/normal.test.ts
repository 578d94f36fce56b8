import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, expectMomentsMatch, expectNoLeak, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'

const ref = (x: number, loc: number, scale: number): number =>
  -0.5 * ((x - loc) / scale) ** 2 - Math.log(scale) - 0.5 * Math.log(2 * Math.PI)

/** Parameters for a batch: loc ∈ [-10, 10], scale log-uniform in [1e-3, 1e3]. */
const params = (batch: number[]) => fc.record({
  loc: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  logScale: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
}).map(({ loc, logScale }) => ({ batch, loc, scale: logScale.map((l) => 10 ** l) }))
const withParams = smallShape.chain(params)

describe('normal', () => {
  it('sample, rsample and logProb have shapes sampleShape ++ batchShape', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, loc, scale }, s, seed) => tf.tidy(() => {
      const d = normal(t(loc, batch), t(scale, batch))
      expect(d.batchShape).toEqual(batch)
      expect(d.eventShape).toEqual([])
      expect(d.sample(s, seed).shape).toEqual([...s, ...batch])
      expect(d.rsample(s, seed).shape).toEqual([...s, ...batch])
      expect(d.logProb(d.sample(s, seed)).shape).toEqual([...s, ...batch])
    })), FC)
  })

  it('toEvent(n) moves n batch dims into the event; expand prepends batch dims', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, loc, scale }, s, seed) => tf.tidy(() => {
      const d = normal(t(loc, batch), t(scale, batch))
      const n = batch.length
      const ind = d.toEvent(n)
      expect(ind.batchShape).toEqual([])
      expect(ind.eventShape).toEqual(batch)
      const x = ind.sample(s, seed)
      expect(x.shape).toEqual([...s, ...batch])
      expect(ind.logProb(x).shape).toEqual(s)
      expectClose(read(ind.logProb(x)), read(tf.sum(d.logProb(x), batch.map((_, i) => s.length + i))), 1e-5, 1e-3)
      const e = d.expand([2, ...batch])
      expect(e.batchShape).toEqual([2, ...batch])
      expect(e.sample(s, seed).shape).toEqual([...s, 2, ...batch])
    })), FC)
  })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, loc, scale }, seed) => tf.tidy(() => {
      const d = normal(t(loc, batch), t(scale, batch))
      const x = d.sample([3], seed)
      const xs = read(x), k = sizeOf(batch)
      const locs = read(d.loc), scales = read(d.scale)
      expectClose(read(d.logProb(x)), xs.map((v, i) => ref(v, locs[i % k]!, scales[i % k]!)), 1e-4, 1e-4)
    })), FC)
  })

  it('the density integrates to 1', () => {
    for (const [loc, scale] of [[0, 1], [3, 0.01], [-50, 200]] as const) {
      tf.tidy(() => {
        const { nodes, weights } = simpsonGrid(loc - 12 * scale, loc + 12 * scale, 2000)
        const p = read(tf.exp(normal(loc, scale).logProb(t(nodes, [nodes.length]))))
        expect(p.reduce((s, v, i) => s + v * weights[i]!, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const d = normal(t([-2, 0, 5], [3]), t([0.5, 1, 3], [3]))
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('entropy equals ½ log(2πe σ²)', () => tf.tidy(() => {
    const scales = [1e-3, 1, 50]
    const d = normal(t([0, 1, 2], [3]), t(scales, [3]))
    expectClose(read(d.entropy()), scales.map((s) => 0.5 * Math.log(2 * Math.PI * Math.E * s * s)), 1e-5)
  }))

  it('rsample gradients w.r.t. loc and scale match finite differences', () => {
    const f = (loc: number, scale: number) => tf.tidy(() => read(tf.sum(tf.square(normal(loc, scale).rsample([50], 3))))[0]!)
    const [gLoc, gScale] = tf.tidy(() => tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(tf.square(normal(l, s).rsample([50], 3))))([tf.scalar(0.7), tf.scalar(1.3)]).map((g) => read(g)[0]!))
    expectClose([gLoc!, gScale!], [centralDiff((l) => f(l, 1.3), 0.7, 1e-2), centralDiff((s) => f(0.7, s), 1.3, 1e-2)], 1e-2, 1e-3)
  })

  it('extreme scales (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    for (const scale of [1e-6, 1e6]) {
      const g = tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(normal(l, s).logProb(t([0.5, -3], [2]))))([tf.scalar(0.1), tf.scalar(scale)])
      const values = [...read(normal(0.1, scale).logProb(t([0.5, -3], [2]))), ...g.flatMap(read)]
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    }
  }))

  it('samples lie in the support (finite reals)', () => tf.tidy(() => {
    read(normal(0, 1e6).sample([1000], 1)).forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  it('every public call leaves numTensors unchanged', () => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), x = t([0.5, 0.5], [2])
    const d = normal(loc, scale)
    expectNoLeak(() => d.sample([3], 1))
    expectNoLeak(() => d.rsample([3]))
    expectNoLeak(() => d.logProb(x))
    expectNoLeak(() => [d.mean, d.variance, d.entropy()])
    expectNoLeak(() => d.toEvent(1).logProb(x))
    expectNoLeak(() => { const e = d.expand([3, 2]); return [e.sample(), e.loc, e.scale] })
    expectNoLeak(() => { const n = normal(0, 1); return [n.loc, n.scale] })
    tf.dispose([loc, scale, x])
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => normal(0, -1)).toThrow(InvalidArgumentError)
    expect(() => normal(0, 0)).toThrow(/normal: argument 'scale' must satisfy x > 0; got 0/)
    expect(() => normal([0, 0, 0], [1, 1])).toThrow(ShapeError)
    expect(() => normal([0, 0, 0], [1, 1])).toThrow(/loc \[3\], scale \[2\]/)
    const d = normal([0, 0], 1)
    expect(() => d.logProb(t([0, NaN], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(/toEvent\(2\): n must be an integer between 0 and the batch rank 1/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
