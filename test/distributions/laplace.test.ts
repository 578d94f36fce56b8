import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { klLaplaceLaplace, laplace } from '../../src/distributions/laplace.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, expectMomentsMatch, expectNoLeak, read, simpson, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'

const ref = (x: number, loc: number, scale: number): number => -Math.abs(x - loc) / scale - Math.log(2 * scale)

/** Parameters for a batch: loc ∈ [-10, 10], scale log-uniform in [1e-3, 1e3]. */
const params = (batch: number[]) => fc.record({
  loc: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  logScale: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
}).map(({ loc, logScale }) => ({ batch, loc, scale: logScale.map((l) => 10 ** l) }))
const withParams = smallShape.chain(params)

describe('laplace', () => {
  it('sample, rsample and logProb have shapes sampleShape ++ batchShape', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, loc, scale }, s, seed) => tf.tidy(() => {
      const d = laplace(t(loc, batch), t(scale, batch))
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
      const d = laplace(t(loc, batch), t(scale, batch))
      const ind = d.toEvent(batch.length)
      expect(ind.batchShape).toEqual([])
      expect(ind.eventShape).toEqual(batch)
      const x = ind.sample(s, seed)
      expect(x.shape).toEqual([...s, ...batch])
      expect(ind.logProb(x).shape).toEqual(s)
      expectClose(read(ind.logProb(x)), read(tf.sum(d.logProb(x), batch.map((_, i) => s.length + i))), 1e-5, 1e-3)
      const e = d.expand([2, ...batch])
      expect(e.batchShape).toEqual([2, ...batch])
      expect(e.sample(s, seed).shape).toEqual([...s, 2, ...batch])
      expect(e.logProb(e.sample(s, seed)).shape).toEqual([...s, 2, ...batch])
    })), FC)
  })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, loc, scale }, seed) => tf.tidy(() => {
      const d = laplace(t(loc, batch), t(scale, batch))
      const x = d.sample([3], seed)
      const xs = read(x), k = sizeOf(batch)
      const locs = read(d.loc), scales = read(d.scale)
      expectClose(read(d.logProb(x)), xs.map((v, i) => ref(v, locs[i % k]!, scales[i % k]!)), 1e-4, 1e-4)
    })), FC)
  })

  it('the density integrates to 1', () => {
    for (const [loc, scale] of [[0, 1], [3, 0.01], [-50, 200]] as const) {
      tf.tidy(() => {
        // the kink at loc is a grid node (an even number of intervals either side)
        const { nodes, weights } = simpsonGrid(loc - 30 * scale, loc + 30 * scale, 4000)
        const p = read(tf.exp(laplace(loc, scale).logProb(t(nodes, [nodes.length]))))
        expect(p.reduce((s, v, i) => s + v * weights[i]!, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const d = laplace(t([-2, 0, 5], [3]), t([0.5, 1, 3], [3]))
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
    expectClose(read(d.variance), [0.5, 2, 18], 1e-6)
  }))

  it('entropy equals 1 + log(2b)', () => tf.tidy(() => {
    const scales = [1e-3, 1, 50]
    const d = laplace(t([0, 1, 2], [3]), t(scales, [3]))
    expectClose(read(d.entropy()), scales.map((s) => 1 + Math.log(2 * s)), 1e-5)
  }))

  it('klLaplaceLaplace equals a float64 quadrature of E_p[log p − log q]', () => tf.tidy(() => {
    const cases = [[0, 1, 0, 1], [0, 1, 1, 2], [-1, 0.5, 2, 0.7], [3, 2, 0, 1]] as const
    const got = read(klLaplaceLaplace(laplace(t(cases.map((c) => c[0]), [4]), t(cases.map((c) => c[1]), [4])),
      laplace(t(cases.map((c) => c[2]), [4]), t(cases.map((c) => c[3]), [4]))))
    const want = cases.map(([mp, bp, mq, bq]) => {
      const f = (x: number) => Math.exp(ref(x, mp, bp)) * (ref(x, mp, bp) - ref(x, mq, bq))
      // split at both kinks so Simpson sees smooth pieces
      const [a, b] = [Math.min(mp, mq), Math.max(mp, mq)]
      return simpson(f, a - 40 * bp, a, 4000) + (b > a ? simpson(f, a, b, 4000) : 0) + simpson(f, b, b + 40 * bp, 4000)
    })
    expectClose(got, want, 1e-4, 1e-5)
  }))

  it('rsample gradients w.r.t. loc and scale match finite differences', () => {
    const f = (loc: number, scale: number) => tf.tidy(() => read(tf.sum(tf.square(laplace(loc, scale).rsample([50], 3))))[0]!)
    const [gLoc, gScale] = tf.tidy(() => tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(tf.square(laplace(l, s).rsample([50], 3))))([tf.scalar(0.7), tf.scalar(1.3)]).map((g) => read(g)[0]!))
    expectClose([gLoc!, gScale!], [centralDiff((l) => f(l, 1.3), 0.7, 1e-2), centralDiff((s) => f(0.7, s), 1.3, 1e-2)], 1e-2, 1e-3)
  })

  it('extreme scales (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    for (const scale of [1e-6, 1e6]) {
      const g = tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(laplace(l, s).logProb(t([0.5, -3], [2]))))([tf.scalar(0.1), tf.scalar(scale)])
      const values = [...read(laplace(0.1, scale).logProb(t([0.5, -3], [2]))), ...g.flatMap(read)]
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    }
  }))

  it('samples lie in the support (finite reals), even at scale 1e6', () => tf.tidy(() => {
    const d = laplace(0, 1e6)
    const ok = read(d.support.check(d.sample([5000], 1)))
    expect(ok.every((v) => v === 1)).toBe(true)
  }))

  it('every public call leaves numTensors unchanged', () => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), x = t([0.5, 0.5], [2])
    const d = laplace(loc, scale)
    expectNoLeak(() => d.sample([3], 1))
    expectNoLeak(() => d.rsample([3]))
    expectNoLeak(() => d.logProb(x))
    expectNoLeak(() => [d.mean, d.variance, d.entropy()])
    expectNoLeak(() => d.toEvent(1).logProb(x))
    expectNoLeak(() => { const e = d.expand([3, 2]); return [e.sample(), e.loc, e.scale] })
    expectNoLeak(() => { const n = laplace(0, 1); return [n.loc, n.scale] })
    tf.dispose([loc, scale, x])
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => laplace(0, -1)).toThrow(InvalidArgumentError)
    expect(() => laplace(0, 0)).toThrow(/laplace: argument 'scale' must satisfy x > 0; got 0/)
    expect(() => laplace(NaN, 1)).toThrow(/laplace: argument 'loc' must satisfy finite real; got NaN/)
    expect(() => laplace([0, 0, 0], [1, 1])).toThrow(ShapeError)
    expect(() => laplace([0, 0, 0], [1, 1])).toThrow(/laplace: .*loc \[3\], scale \[2\]/)
    const d = laplace([0, 0], 1)
    expect(() => d.logProb(t([0, Infinity], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/laplace.logProb: value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(/toEvent\(2\): n must be an integer between 0 and the batch rank 1/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
