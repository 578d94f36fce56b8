import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { logNormal } from '../../src/distributions/log-normal.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, expectMomentsMatch, expectNoLeak, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'

const ref = (x: number, loc: number, scale: number): number =>
  -0.5 * ((Math.log(x) - loc) / scale) ** 2 - Math.log(scale) - 0.5 * Math.log(2 * Math.PI) - Math.log(x)

/** loc ∈ [-3, 3], scale log-uniform in [1e-2, 3] (draws stay finite and positive in float32). */
const params = (batch: number[]) => fc.record({
  loc: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  logScale: fc.array(fc.double({ min: -2, max: Math.log10(3), noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
}).map(({ loc, logScale }) => ({ batch, loc, scale: logScale.map((l) => 10 ** l) }))
const withParams = smallShape.chain(params)

describe('logNormal', () => {
  it('sample, rsample and logProb have shapes sampleShape ++ batchShape', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, loc, scale }, s, seed) => tf.tidy(() => {
      const d = logNormal(t(loc, batch), t(scale, batch))
      expect(d._tag).toBe('LogNormal')
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
      const d = logNormal(t(loc, batch), t(scale, batch))
      const ind = d.toEvent(batch.length)
      expect(ind.batchShape).toEqual([])
      expect(ind.eventShape).toEqual(batch)
      const x = ind.sample(s, seed)
      expect(x.shape).toEqual([...s, ...batch])
      expect(ind.logProb(x).shape).toEqual(s)
      expectClose(read(ind.logProb(x)), read(tf.sum(d.logProb(x), batch.map((_, i) => s.length + i))), 1e-5, 1e-3)
      const e = d.expand([2, ...batch])
      expect(e._tag).toBe('LogNormal')
      expect(e.batchShape).toEqual([2, ...batch])
      expect(e.sample(s, seed).shape).toEqual([...s, 2, ...batch])
    })), FC)
  })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, loc, scale }, seed) => tf.tidy(() => {
      const d = logNormal(t(loc, batch), t(scale, batch))
      const x = d.sample([3], seed)
      const xs = read(x), k = sizeOf(batch)
      const locs = read(d.loc), scales = read(d.scale)
      expectClose(read(d.logProb(x)), xs.map((v, i) => ref(v, locs[i % k]!, scales[i % k]!)), 1e-4, 1e-3)
    })), FC)
  })

  it('the density integrates to 1', () => {
    for (const [loc, scale] of [[0, 0.25], [1, 0.05], [-1, 0.5]] as const) {
      tf.tidy(() => {
        // integrate over u = log x: ∫ p(x) dx = ∫ p(eᵘ) eᵘ du
        const { nodes, weights } = simpsonGrid(loc - 12 * scale, loc + 12 * scale, 2000)
        const x = nodes.map(Math.exp)
        const p = read(tf.exp(logNormal(loc, scale).logProb(t(x, [x.length]))))
        expect(p.reduce((s, v, i) => s + v * x[i]! * weights[i]!, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const loc = [-1, 0, 1], scale = [0.2, 0.5, 0.3]
    const d = logNormal(t(loc, [3]), t(scale, [3]))
    expectClose(read(d.mean), loc.map((m, i) => Math.exp(m + scale[i]! ** 2 / 2)), 1e-5)
    expectClose(read(d.variance), loc.map((m, i) => Math.expm1(scale[i]! ** 2) * Math.exp(2 * m + scale[i]! ** 2)), 1e-5)
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('entropy equals μ + ½ + log(σ√(2π))', () => tf.tidy(() => {
    const loc = [0, 1, -2], scales = [1e-3, 1, 50]
    const d = logNormal(t(loc, [3]), t(scales, [3]))
    expectClose(read(d.entropy()), scales.map((s, i) => loc[i]! + 0.5 + Math.log(s * Math.sqrt(2 * Math.PI))), 1e-5, 1e-5)
  }))

  it('rsample gradients w.r.t. loc and scale match finite differences', () => {
    const f = (loc: number, scale: number) => tf.tidy(() => read(tf.sum(logNormal(loc, scale).rsample([50], 3)))[0]!)
    const [gLoc, gScale] = tf.tidy(() => tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(logNormal(l, s).rsample([50], 3)))([tf.scalar(0.2), tf.scalar(0.6)]).map((g) => read(g)[0]!))
    expectClose([gLoc!, gScale!], [centralDiff((l) => f(l, 0.6), 0.2, 1e-2), centralDiff((s) => f(0.2, s), 0.6, 1e-2)], 1e-2, 1e-3)
  })

  it('extreme scales (1e-6, 1e6) give finite logProb and gradients at finite x > 0', () => tf.tidy(() => {
    const x = t([0.5, 3], [2])
    for (const scale of [1e-6, 1e6]) {
      const g = tf.grads((l: tf.Tensor, s: tf.Tensor) => tf.sum(logNormal(l, s).logProb(x)))([tf.scalar(0.1), tf.scalar(scale)])
      const values = [...read(logNormal(0.1, scale).logProb(x)), ...g.flatMap(read)]
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    }
    // documented: at scale 1e6 exp overflows — mean and variance are +∞, draws are 0 or +∞
    const wide = logNormal(0, 1e6)
    expect(read(wide.mean)).toEqual([Infinity])
    expect(read(wide.variance)).toEqual([Infinity])
    read(wide.sample([100], 1)).forEach((v) => expect(v === 0 || v === Infinity).toBe(true))
  }))

  it('samples lie in the support (x > 0)', () => tf.tidy(() => {
    const d = logNormal(t([-5, 0, 5], [3]), t([0.1, 1, 3], [3]))
    const ok = read(d.support.check(d.sample([2000], 1)))
    expect(ok.length).toBe(6000)
    expect(ok.every((v) => v === 1)).toBe(true)
  }))

  it('every public call leaves numTensors unchanged', () => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), x = t([0.5, 1.5], [2])
    const d = logNormal(loc, scale)
    expectNoLeak(() => { logNormal(loc, scale); return [] })
    expectNoLeak(() => d.sample([3], 1))
    expectNoLeak(() => d.rsample([3]))
    expectNoLeak(() => d.logProb(x))
    expectNoLeak(() => [d.mean, d.variance, d.entropy()])
    expectNoLeak(() => d.toEvent(1).logProb(x))
    expectNoLeak(() => { const e = d.expand([3, 2]); return [e.sample(), e.loc, e.scale] })
    tf.dispose([loc, scale, x])
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => logNormal(0, -1)).toThrow(InvalidArgumentError)
    expect(() => logNormal(0, 0)).toThrow(/logNormal: argument 'scale' must satisfy x > 0; got 0/)
    expect(() => logNormal([0, 0, 0], [1, 1])).toThrow(ShapeError)
    expect(() => logNormal([0, 0, 0], [1, 1])).toThrow(/logNormal: .*loc \[3\], scale \[2\]/)
    const d = logNormal([0, 0], 1)
    expect(() => d.logProb(t([1, 0], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, -2], [2]))).toThrow(/logNormal.logProb: value outside the support \(x > 0\); got -2 at index \[1\]/)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(ShapeError)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
