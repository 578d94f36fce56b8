/**
 * Deferred validation (the GPU backends' path, run here on the test backend): inside `deferChecks` a bad
 * argument or value does not throw; `settleChecks` then throws exactly the error the immediate check
 * throws (class and message), frees what it held, and passes silently when every check holds.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { normal } from '../../src/distributions/normal.js'
import { deferChecks, deferredChecks, settleChecks, violationIn } from '../../src/distributions/validation-deferred.js'
import { InvalidArgumentError, NonFiniteArgumentError, SupportError } from '../../src/errors.js'

/** The error `f` throws at once. */
const immediate = (f: () => unknown): Error => { try { f() } catch (e) { return e as Error } throw new Error('expected an error') }

/** The error settling `f`'s deferred checks throws (f itself must not throw). */
const deferred = async (f: () => unknown): Promise<Error | undefined> => {
  const { checks } = deferChecks(() => tf.tidy(() => { f() }))   // as svi runs a step: in a tidy, the checks kept past it
  return settleChecks(checks).then(() => undefined, (e: unknown) => e as Error)
}

describe('deferred validation', () => {
  /** 66 scales (more than validation reads back element by element), the third negative. */
  const scales = (): tf.Tensor => tf.tidy(() => tf.where(tf.equal(tf.range(0, 66), 2), tf.fill([66], -3), tf.range(1, 67)))

  it.each([
    ['a negative scale (large tensor)', () => normal(0, scales()), InvalidArgumentError],
    ['a NaN scale (scalar)', () => normal(0, NaN), NonFiniteArgumentError],
    ['a value outside the support', () => bernoulli({ probs: 0.5 }).logProb(tf.tensor1d([0, 1, 2]))],
  ] as const)('%s: the same error as the immediate check, raised at settling', async (_, f, Kind = SupportError) => {
    const now = immediate(f)
    expect(now).toBeInstanceOf(Kind)
    const before = tf.memory().numTensors
    const later = await deferred(f)
    expect(later).toBeInstanceOf(Kind)
    expect(later!.message).toBe(now.message)
    expect(tf.memory().numTensors).toBe(before)   // flags and values held for the report are freed
  })

  it('valid arguments settle silently, free everything, and the deferral ends with its scope', async () => {
    const before = tf.memory().numTensors
    expect(await deferred(() => normal(tf.zeros([100]), tf.ones([100])).logProb(tf.zeros([100])))).toBeUndefined()
    expect(tf.memory().numTensors).toBe(before)
    expect(deferredChecks()).toBeUndefined()
  })

  it('a throw inside the deferred scope frees the checks recorded so far', () => {
    const before = tf.memory().numTensors
    expect(() => deferChecks(() => tf.tidy(() => { normal(0, tf.ones([100])); throw new Error('boom') }))).toThrow('boom')
    expect(tf.memory().numTensors).toBe(before)
  })

  it('violationIn finds the first failing entry and its value (x broadcast or with event elements)', () => {
    expect(violationIn([1, 0, 0], [3], [5, -1, -2])).toEqual({ index: [1], value: -1 })
    expect(violationIn([1, 1], [2], [1, 2])).toBeUndefined()
    expect(violationIn([1, 0], [2], [1, 2, 3, 4])).toEqual({ index: [1], value: 3 })   // two elements per entry (an event of 2)
  })
})
