import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { isValidating, setValidation } from '../../src/distributions/validation.js'
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

  it('can be switched off globally (no read-backs, no checks)', () => tf.tidy(() => {
    setValidation(false)
    expect(isValidating()).toBe(false)
    const d = normal(0, -1)   // accepted unchecked
    expect(read(d.scale)).toEqual([-1])
    expect(Number.isNaN(read(d.logProb(t([0], [1])))[0])).toBe(true)
  }))
})
