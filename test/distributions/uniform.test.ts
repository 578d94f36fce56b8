import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { klUniformUniform, uniform } from '../../src/distributions/uniform.js'
import { setValidation } from '../../src/distributions/validation.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, expectMomentsMatch, expectNoLeak, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'

const ref = (x: number, low: number, high: number): number => (x >= low && x <= high ? -Math.log(high - low) : -Infinity)

/** Parameters for a batch: low ∈ [-10, 10], width log-uniform in [1e-3, 1e3]. */
const params = (batch: number[]) => fc.record({
  low: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  logWidth: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
}).map(({ low, logWidth }) => ({ batch, low, high: low.map((l, i) => l + 10 ** logWidth[i]!) }))
const withParams = smallShape.chain(params)

describe('uniform', () => {
  it('sample, rsample and logProb have shapes sampleShape ++ batchShape', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, low, high }, s, seed) => tf.tidy(() => {
      const d = uniform(t(low, batch), t(high, batch))
      expect(d.batchShape).toEqual(batch)
      expect(d.eventShape).toEqual([])
      expect(d.sample(s, seed).shape).toEqual([...s, ...batch])
      expect(d.rsample(s, seed).shape).toEqual([...s, ...batch])
      expect(d.logProb(d.sample(s, seed)).shape).toEqual([...s, ...batch])
      expect(read(d.sample(s, seed))).toEqual(read(d.sample(s, seed)))
    })), FC)
  })

  it('toEvent(n) moves n batch dims into the event; expand prepends batch dims', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, low, high }, s, seed) => tf.tidy(() => {
      const d = uniform(t(low, batch), t(high, batch))
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
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, low, high }, seed) => tf.tidy(() => {
      const d = uniform(t(low, batch), t(high, batch))
      const x = d.sample([3], seed)
      const xs = read(x), k = sizeOf(batch)
      const lows = read(d.low), highs = read(d.high)
      expectClose(read(d.logProb(x)), xs.map((v, i) => ref(v, lows[i % k]!, highs[i % k]!)), 1e-4, 1e-4)
    })), FC)
  })

  it('logProb is −∞ outside [low, high] when validation is off', () => {
    setValidation(false)
    try {
      tf.tidy(() => { expect(read(uniform(0, 2).logProb(t([-0.1, 1, 2.1], [3])))).toEqual([-Infinity, -Math.log(2), -Infinity].map(Math.fround)) })
    } finally { setValidation(true) }
  })

  it('the density integrates to 1', () => {
    for (const [low, high] of [[0, 1], [3, 3.01], [-500, 2000]] as const) {
      tf.tidy(() => {
        const { nodes, weights } = simpsonGrid(low, high, 2000)
        const p = read(tf.exp(uniform(low, high).logProb(t(nodes, [nodes.length]))))
        expect(p.reduce((s, v, i) => s + v * weights[i]!, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const d = uniform(t([-2, 0, 5], [3]), t([-1.5, 1, 11], [3]))
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
    expectClose(read(d.mean), [-1.75, 0.5, 8], 1e-6)
    expectClose(read(d.variance), [0.25 / 12, 1 / 12, 3], 1e-5)
  }))

  it('entropy equals log(high − low)', () => tf.tidy(() => {
    const widths = [1e-3, 1, 50]
    const d = uniform(t([0, 1, 2], [3]), t([1e-3, 2, 52], [3]))
    expectClose(read(d.entropy()), widths.map((w) => Math.log(w)), 1e-4, 1e-5)
  }))

  it('klUniformUniform is log of the width ratio when nested, +∞ otherwise', () => tf.tidy(() => {
    const p = uniform(t([0, 0, -1, 0], [4]), t([1, 1, 1, 3], [4]))
    const q = uniform(t([-1, 0, 0, -2], [4]), t([2, 1, 1, 2.5], [4]))
    expectClose(read(klUniformUniform(p, q)), [Math.log(3), 0, Infinity, Infinity], 1e-5)
  }))

  it('rsample gradients w.r.t. low and high match finite differences', () => {
    const f = (l: number, h: number) => tf.tidy(() => read(tf.sum(tf.square(uniform(l, h).rsample([50], 3))))[0]!)
    const [gLow, gHigh] = tf.tidy(() => tf.grads((l: tf.Tensor, h: tf.Tensor) => tf.sum(tf.square(uniform(l, h).rsample([50], 3))))([tf.scalar(0.7), tf.scalar(1.9)]).map((g) => read(g)[0]!))
    expectClose([gLow!, gHigh!], [centralDiff((l) => f(l, 1.9), 0.7, 1e-2), centralDiff((h) => f(0.7, h), 1.9, 1e-2)], 1e-2, 1e-3)
  })

  it('extreme widths (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    for (const width of [1e-6, 1e6]) {
      const x = t([0.5 + width / 4, 0.5 + width / 2], [2])
      const g = tf.grads((l: tf.Tensor, h: tf.Tensor) => tf.sum(uniform(l, h).logProb(x)))([tf.scalar(0.5), tf.scalar(0.5 + width)])
      const values = [...read(uniform(0.5, 0.5 + width).logProb(x)), ...g.flatMap(read)]
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    }
  }))

  it('samples lie in the support [low, high]', () => tf.tidy(() => {
    const d = uniform(t([-1, 1e3, 0], [3]), t([1, 1e3 + 1e-2, 1e6], [3]))
    const ok = read(d.support.check(d.sample([3000], 1)))
    expect(ok.length).toBe(9000)
    expect(ok.every((v) => v === 1)).toBe(true)
  }))

  it('every public call leaves numTensors unchanged', () => {
    const low = t([0, 1], [2]), high = t([1, 2], [2]), x = t([0.5, 1.5], [2]), bad = t([1, 1], [2])
    const d = uniform(low, high)
    expectNoLeak(() => d.sample([3], 1))
    expectNoLeak(() => d.rsample([3]))
    expectNoLeak(() => d.logProb(x))
    expectNoLeak(() => [d.mean, d.variance, d.entropy()])
    expectNoLeak(() => d.toEvent(1).logProb(x))
    expectNoLeak(() => { const e = d.expand([3, 2]); return [e.sample(), e.low, e.high] })
    expectNoLeak(() => { const n = uniform(0, 1); return [n.low, n.high] })
    expectNoLeak(() => { expect(() => uniform(low, bad)).toThrow(InvalidArgumentError); return [] })
    tf.dispose([low, high, x, bad])
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => uniform(1, 1)).toThrow(InvalidArgumentError)
    expect(() => uniform([0, 2], [1, 1])).toThrow(/uniform: arguments 'low' and 'high' must satisfy low < high; got low = 2, high = 1 at flat index 1/)
    expect(() => uniform(NaN, 1)).toThrow(/uniform: argument 'low' must satisfy finite real; got NaN/)
    expect(() => uniform(0, Infinity)).toThrow(/uniform: argument 'high' must satisfy finite real; got Infinity/)
    expect(() => uniform([0, 0, 0], [1, 1])).toThrow(ShapeError)
    expect(() => uniform([0, 0, 0], [1, 1])).toThrow(/uniform: .*low \[3\], high \[2\]/)
    const d = uniform([0, 0], 1)
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(/uniform.logProb: value outside the support \(low ≤ x ≤ high\); got 1.5 at index \[1\]/)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(/toEvent\(2\)/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
