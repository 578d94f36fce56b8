/**
 * The accelerator's one-pass set membership (`nativeAllIn`) against the constraints' own tfjs
 * checks, on random arrays mixing in-set values with NaN, ±∞, ±0, negatives and values just
 * outside the sets; `undefined` wherever the accelerator cannot answer.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src/backend/init.js'
import { nativeAllIn } from '../../../../src/backend/kernels/native/check.js'
import * as constraints from '../../../../src/distributions/constraints.js'
import { FC } from '../../../helpers.js'

const info = await initBackend()
const sets = { real: constraints.real, positive: constraints.positive, boolean: constraints.boolean, unitInterval: constraints.unitInterval } as const
const special = [0, -0, 1, 0.5, -1e-30, 1 + 1e-6, -3, 7, 1e38, NaN, Infinity, -Infinity]
const values = fc.array(fc.oneof(fc.constantFrom(...special), fc.float({ noNaN: true, noDefaultInfinity: true })), { minLength: 1, maxLength: 300 })
/** Every element passes the constraint's tfjs check. */
const tfjsAll = (c: constraints.Constraint, x: tf.Tensor): boolean => tf.tidy(() => tf.all(c.check(x)).dataSync()[0] === 1)

describe.skipIf(!info.native)('nativeAllIn (accelerator active)', () => {
  it('agrees with every set\'s tfjs check on random arrays', () => {
    fc.assert(fc.property(values, fc.constantFrom(...Object.keys(sets) as (keyof typeof sets)[]), (v, tag) => {
      const x = tf.tensor1d(v, 'float32')
      try { expect(nativeAllIn(tag, x)).toBe(tfjsAll(sets[tag], x)) } finally { x.dispose() }
    }), { ...FC, numRuns: 200 })
  })
  it('says true for data in the set and false for a single NaN or out-of-set element', () => {
    const ok = tf.tensor1d(Array.from({ length: 1000 }, (_, i) => i % 2), 'float32')
    const bad = tf.tensor1d(Array.from({ length: 1000 }, (_, i) => i === 777 ? NaN : i % 2), 'float32')
    expect([nativeAllIn('boolean', ok), nativeAllIn('unitInterval', ok), nativeAllIn('real', ok), nativeAllIn('positive', ok)]).toEqual([true, true, true, false])
    expect([nativeAllIn('boolean', bad), nativeAllIn('real', bad)]).toEqual([false, false])
    tf.dispose([ok, bad])
  })
  it('leaves sets it does not cover, and other dtypes, to tfjs', () => {
    const [x, z] = [tf.tensor1d([1, 2], 'int32'), tf.zeros([2])]
    expect([nativeAllIn('simplex', z), nativeAllIn('real', x)]).toEqual([undefined, undefined])
    tf.dispose([x, z])
  })
})

describe.skipIf(info.native)('nativeAllIn (accelerator inactive)', () => {
  it('cannot answer: undefined', () => {
    const x = tf.ones([100])
    expect(nativeAllIn('real', x)).toBeUndefined()
    x.dispose()
  })
})
