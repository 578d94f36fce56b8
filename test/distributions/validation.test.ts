import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { checkParam, isValidating, setValidation } from '../../src/distributions/validation.js'
import * as constraints from '../../src/distributions/constraints.js'
import { InvalidArgumentError, SupportError } from '../../src/errors.js'
import { read, t } from '../helpers.js'

describe('validation', () => {
  afterEach(() => setValidation(true))

  it('is on by default', () => expect(isValidating()).toBe(true))

  it('names the distribution, argument, expected range, offending value and its index', () => tf.tidy(() => {
    expect(() => normal(0, t([1, 2, -3], [3]))).toThrow(InvalidArgumentError)
    expect(() => normal(0, t([1, 2, -3], [3]))).toThrow("normal: argument 'scale' must satisfy x > 0; got -3 at index [2] of shape [3]")
    expect(() => normal(0, 1).logProb(t([Infinity], [1]))).toThrow(SupportError)
    expect(() => normal(0, 1).logProb(t([Infinity], [1]))).toThrow(/normal.logProb: value outside the support \(finite real\); got Infinity at index \[0\]/)
  }))

  // Large tensors pass through each constraint's reduction-only quick test first; it must never let a bad element through.
  it.each([
    ['real', constraints.real, 0.5, [NaN, Infinity, -Infinity]],
    ['positive', constraints.positive, 0.5, [0, -1e-30, NaN, Infinity]],
    ['unitInterval', constraints.unitInterval, 0.5, [-1e-7, 1.0000001, NaN]],
    ['boolean', constraints.boolean, 1, [0.5, 1e-30, 0.99999994, 2, -1, NaN]],
  ] as const)('on large tensors, %s passes valid values and still names one bad element at its index', (_name, c, good, bads) => tf.tidy(() => {
    const values = Array.from({ length: 5000 }, (_, i) => (c === constraints.boolean ? i % 2 : good))
    expect(() => checkParam('test', 'x', t(values, [50, 100]), c)).not.toThrow()
    for (const [k, bad] of bads.entries()) {
      const at = (37 * (k + 1) + 997 * k) % 5000
      const withBad = values.map((v, i) => (i === at ? bad : v))
      expect(() => checkParam('test', 'x', t(withBad, [50, 100]), c)).toThrow(`got ${Math.fround(bad)} at index [${Math.floor(at / 100)}, ${at % 100}] of shape [50, 100]`)
    }
  }))

  // Small tensors (≤ 64 elements) are tested on their values in JavaScript by each set's `holds`: it must agree with `check`.
  it.each([
    ['real', constraints.real], ['positive', constraints.positive], ['unitInterval', constraints.unitInterval], ['boolean', constraints.boolean],
  ] as const)('%s: holds(v) agrees with check on special and random values', (_, c) => tf.tidy(() => {
    const values = [0, -0, 1, -1, 0.5, 1.0000001, -1e-30, 1e-45, 3e38, NaN, Infinity, -Infinity, ...Array.from({ length: 40 }, (_, i) => Math.sin(i * 7.3) * 4)]
    const byTensor = read(c.check(tf.tensor1d(values)))
    // float32 values, as the JavaScript test sees them after a read-back
    expect(Array.from(new Float32Array(values)).map((v) => (c.holds!(v) ? 1 : 0))).toEqual(byTensor)
  }))

  it('tests small tensors without launching kernels, with the same messages', async () => {
    const scale = t([1, 2], [2]), x = t([0.5, 1], [2])
    const launched = (await tf.profile(() => { tf.dispose([normal(0, scale).logProb(x), normal(0, 1).logProb(x)]) })).kernels.map((k) => k.name)
    expect(launched.filter((k) => /Greater|IsNan|IsInf|Logical|Less|Equal|^All$|^Min$|^Max$/.test(k))).toEqual([])
    tf.tidy(() => {
      expect(() => normal(0, t([1, NaN], [2]))).toThrow("normal: argument 'scale' must satisfy x > 0; got NaN at index [1] of shape [2]")
      expect(() => normal(0, t([1, 1, 0, 1], [2, 2]))).toThrow("normal: argument 'scale' must satisfy x > 0; got 0 at index [1, 0] of shape [2, 2]")
    })
    tf.dispose([scale, x])
  })

  it('can be switched off globally (no read-backs, no checks)', () => tf.tidy(() => {
    setValidation(false)
    expect(isValidating()).toBe(false)
    const d = normal(0, -1)   // accepted unchecked
    expect(read(d.scale)).toEqual([-1])
    expect(Number.isNaN(read(d.logProb(t([0], [1])))[0])).toBe(true)
  }))
})
