import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { independent } from '../../src/distributions/make.js'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { normal } from '../../src/distributions/normal.js'
import { ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, expectNoLeak, read, t } from '../helpers.js'

describe('independent (toEvent)', () => {
  it('nested reinterpretations merge into one', () => tf.tidy(() => {
    const d = normal(tf.zeros([2, 3, 4]), 1).toEvent(1).toEvent(1)
    expect(d._tag).toBe('Independent')
    expect(d.reinterpreted).toBe(2)
    expect(d.base._tag).toBe('Normal')
    expect(d.batchShape).toEqual([2])
    expect(d.eventShape).toEqual([3, 4])
  }))

  it('toEvent(0) is the distribution itself', () => tf.tidy(() => {
    const d = normal(tf.zeros([2]), 1)
    expect(d.toEvent(0)).toBe(d)
  }))

  it('sums logProb and entropy over the reinterpreted dims; keeps mean and variance', () => tf.tidy(() => {
    const base = normal(t([0, 1, 2, 3, 4, 5], [2, 3]), t([1, 2, 3, 1, 2, 3], [2, 3]))
    const d = independent(base, 1)
    const x = t([0, 0, 0, 1, 1, 1], [2, 3])
    const lp = read(base.logProb(x))
    expectClose(read(d.logProb(x)), [lp[0]! + lp[1]! + lp[2]!, lp[3]! + lp[4]! + lp[5]!], 1e-6)
    const h = read(base.entropy())
    expectClose(read(d.entropy!()), [h[0]! + h[1]! + h[2]!, h[3]! + h[4]! + h[5]!], 1e-6)
    expect(read(d.mean!)).toEqual(read(base.mean))
    expect(d.rsample!([5]).shape).toEqual([5, 2, 3])
  }))

  it('a family\'s summed log density (Normal, Bernoulli) gives the sum of its logProb, with sample dims, and still checks the support', () => tf.tidy(() => {
    const x = tf.randomNormal([5, 2, 3], 0, 1, 'float32', 3), bits = tf.cast(tf.greater(x, 0), 'float32')
    const sumOf = (v: tf.Tensor, n: number) => tf.sum(v, Array.from({ length: n }, (_, i) => v.rank - 1 - i))
    const n = normal(t([0, 1, 2, 3, 4, 5], [2, 3]), t([1, 2, 3, 1, 2, 3], [2, 3])), b = bernoulli({ logits: t([-2, 0, 1, 3, -1, 5], [2, 3]) })
    for (const k of [1, 2]) {
      expectClose(read(n.toEvent(k).logProb(x)), read(sumOf(n.logProb(x), k)), 1e-5)
      expectClose(read(b.toEvent(k).logProb(bits)), read(sumOf(b.logProb(bits), k)), 1e-5)
    }
    expect(n.toEvent(1).logProb(x).shape).toEqual([5, 2])
    expect(() => b.toEvent(1).logProb(tf.fill([2, 3], 0.5))).toThrow(SupportError)
    expect(() => b.toEvent(1).logProb(tf.fill([2, 3], 0.5))).toThrow(/bernoulli/)
  }))

  it('expand keeps the event and broadcasts the batch', () => tf.tidy(() => {
    const d = normal(tf.zeros([3]), 1).toEvent(1).expand([4, 2])
    expect(d.batchShape).toEqual([4, 2])
    expect(d.eventShape).toEqual([3])
    expect(d.sample([5]).shape).toEqual([5, 4, 2, 3])
  }))

  it('rejects n past the batch rank, naming the distribution', () => tf.tidy(() => {
    expect(() => normal(tf.zeros([3]), 1).toEvent(2)).toThrow(ShapeError)
    expect(() => normal(tf.zeros([3]), 1).toEvent(-1)).toThrow(/normal.toEvent\(-1\)/)
    expect(() => independent(normal(0, 1), 1)).toThrow(/batchShape \[\] \(scalar\)/)
  }))

  it('leaks nothing', () => {
    const loc = tf.zeros([2, 3]), x = tf.ones([2, 3])
    const d = normal(loc, 1).toEvent(1)
    expectNoLeak(() => [d.logProb(x), d.sample([2]), d.entropy!(), d.mean!])
    tf.dispose([loc, x, (d.base as { scale: tf.Tensor }).scale])
  })
})
