import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { normal } from '../src/distributions/normal.js'
import { backendInfo } from '../src/backend/init.js'

describe('smoke', () => {
  it('normal', () => {
    console.log(backendInfo())
    const before = tf.memory().numTensors
    const d = normal(tf.zeros([3]), tf.ones([3]))
    const x = d.sample([5], 1)
    const lp = d.logProb(x)
    const ind = d.toEvent(1)
    const lp2 = ind.logProb(x)
    expect(x.shape).toEqual([5, 3]); expect(lp.shape).toEqual([5, 3]); expect(lp2.shape).toEqual([5])
    const m = d.mean
    console.log(tf.memory().numTensors - before, Object.keys(d))
    tf.dispose([x, lp, lp2, m, d.loc, d.scale])
    expect(tf.memory().numTensors).toBe(before)
    expect(() => normal(0, -1)).toThrow(/scale/)
    expect(() => d.logProb(tf.tensor1d([1, NaN, 2]))).toThrow(/support/)
  })
})
