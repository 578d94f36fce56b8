/**
 * `variableGradsOrRelease`: tfjs's `variableGrads` without its all-or-nothing rule. A variable the
 * loss does not reach gets no gradient (Pyro: its `.grad` stays None and the optimizer skips it);
 * when no variable reaches the loss, the value is still computed and the gradients are empty.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { variableGradsOrRelease } from '../../src/backend/scope.js'
import { read } from '../helpers.js'

describe('variableGradsOrRelease', () => {
  it('a variable the loss does not reach gets no gradient; the connected ones get theirs', () => {
    const [a, unused, b] = [tf.variable(tf.scalar(2)), tf.variable(tf.scalar(5)), tf.variable(tf.tensor1d([1, 3]))]
    const before = tf.memory().numTensors
    const { value, grads } = variableGradsOrRelease(() => tf.add(tf.square(a), tf.sum(tf.mul(b, 3))) as tf.Scalar, [a, unused, b])
    expect(read(value)).toEqual([16])   // 2² + 3·(1 + 3)
    expect(Object.keys(grads).sort()).toEqual([a.name, b.name].sort())
    expect(read(grads[a.name]!)).toEqual([4])
    expect(read(grads[b.name]!)).toEqual([3, 3])
    tf.dispose([value, ...Object.values(grads)])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([a, unused, b])
  })

  it('no variable reaches the loss: the value is computed, the gradients are empty, nothing leaks', () => {
    const unused = tf.variable(tf.scalar(5))
    const x = tf.scalar(1.5)
    const before = tf.memory().numTensors
    const { value, grads } = variableGradsOrRelease(() => tf.mul(x, 2) as tf.Scalar, [unused])
    expect(read(value)).toEqual([3])
    expect(grads).toEqual({})
    value.dispose()
    expect(tf.memory().numTensors).toBe(before)
    expect(tf.engine().state.activeTape).toBeNull()
    tf.dispose([unused, x])
  })

  it('non-trainable variables get no entry (tfjs would map them to null)', () => {
    const [a, frozen] = [tf.variable(tf.scalar(2)), tf.variable(tf.scalar(1), false)]
    const { value, grads } = variableGradsOrRelease(() => tf.mul(a, frozen) as tf.Scalar, [a, frozen])
    expect(Object.keys(grads)).toEqual([a.name])
    expect(read(grads[a.name]!)).toEqual([1])
    tf.dispose([value, ...Object.values(grads), a, frozen])
  })

  it('a loss that is not a scalar is an error naming its shape', () => {
    const a = tf.variable(tf.tensor1d([1, 2]))
    expect(() => variableGradsOrRelease(() => tf.mul(a, 2) as unknown as tf.Scalar, [a])).toThrow(/must return a scalar.*\[2\]/)
    expect(tf.engine().state.activeTape).toBeNull()
    a.dispose()
  })

  it('a loss that throws frees the tape and leaks nothing', () => {
    const a = tf.variable(tf.scalar(2))
    const before = tf.memory().numTensors
    expect(() => variableGradsOrRelease(() => { tf.square(a); throw new Error('bad site') }, [a])).toThrow(/bad site/)
    expect(tf.memory().numTensors).toBe(before)
    expect(tf.engine().state.activeTape).toBeNull()
    a.dispose()
  })
})
