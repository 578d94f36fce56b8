import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { DataError, type Dataset, datasetFromArrays, flatten, makeDataset, subset, validate } from '../../src/data/index.js'
import { read } from '../helpers.js'

/** A 3-image 2×2 dataset; `pixel` overrides pixel values by flat index, `label` the labels. */
const toy = (pixel: Record<number, number> = {}, labels = [0, 1, 2]): Dataset => {
  const p = Float32Array.from({ length: 12 }, (_, i) => pixel[i] ?? i / 12)
  return datasetFromArrays('toy', p, [2, 2], Int32Array.from(labels), 3)
}

describe('Dataset values', () => {
  it('makeDataset checks shapes and dtypes, naming the dataset', () => {
    const [img3, lab2, labF] = [tf.zeros([3, 2, 2, 3]) as tf.Tensor4D, tf.tensor1d([0, 1], 'int32'), tf.tensor1d([0, 1, 2])]
    const img = tf.zeros([3, 2, 2, 1]) as tf.Tensor4D
    expect(() => makeDataset({ name: 'rgb', images: img3, labels: lab2, numClasses: 2 })).toThrow('dataset "rgb": images must be float32 [n, height, width, 1]; got float32 [3, 2, 2, 3]')
    expect(() => makeDataset({ name: 'short', images: img, labels: lab2, numClasses: 2 })).toThrow('dataset "short": 3 images but 2 labels')
    expect(() => makeDataset({ name: 'f', images: img, labels: labF as tf.Tensor1D, numClasses: 3 })).toThrow(/labels must be int32/)
    tf.dispose([img3, lab2, labF, img])
  })

  it('flatten gives [n, h·w]; subset gives the first n as a new dataset', () => {
    const before = tf.memory().numTensors
    const ds = toy()
    const x = flatten(ds), s = subset(ds, 2), y = flatten(s.images)
    expect(x.shape).toEqual([3, 4])
    expect([s.size, s.name, s.imageShape, s.numClasses]).toEqual([2, 'toy[0:2]', [2, 2, 1], 3])
    expect(read(y)).toEqual(read(x).slice(0, 8))
    expect(read(s.labels)).toEqual([0, 1])
    s.dispose()
    expect(read(ds.images).length).toBe(12)   // the original is untouched
    expect(() => subset(ds, 4)).toThrow(InvalidArgumentError)
    expect(() => subset(ds, 0)).toThrow('subset: n must be an integer between 1 and the size of dataset "toy" (3); got 0')
    tf.dispose([x, y]); ds.dispose(); ds.dispose()   // dispose is idempotent
    expect(tf.memory().numTensors).toBe(before)
  })

  it('validate passes good data and leaks nothing', () => {
    const ds = toy({ 0: 0, 11: 1 })
    const before = tf.memory().numTensors
    expect(validate(ds)).toBe(ds)
    expect(tf.memory().numTensors).toBe(before)
    ds.dispose()
  })

  it('validate names the dataset, the image, the pixel and the value', () => {
    const cases: [Record<number, number>, string][] = [
      [{ 5: NaN }, 'image 1, pixel (row 0, col 1) is NaN'],
      [{ 11: Infinity }, 'image 2, pixel (row 1, col 1) is Infinity'],
      [{ 2: -Infinity }, 'image 0, pixel (row 1, col 0) is -Infinity'],
      [{ 7: 1.5, 9: NaN }, 'image 1, pixel (row 1, col 1) is 1.5'],
      [{ 0: -0.25 }, 'image 0, pixel (row 0, col 0) is -0.25'],
    ]
    for (const [pixel, msg] of cases) {
      const ds = toy(pixel)
      const before = tf.memory().numTensors
      expect(() => validate(ds)).toThrow(DataError)
      expect(() => validate(ds)).toThrow(`validate: dataset "toy": ${msg}; pixels must be finite and in [0, 1]`)
      expect(tf.memory().numTensors).toBe(before)
      ds.dispose()
    }
  })

  it('validate names an out-of-range label', () => {
    for (const [labels, msg] of [[[0, 3, 1], 'label 1 is 3'], [[0, 1, -2], 'label 2 is -2']] as const) {
      const ds = toy({}, [...labels])
      expect(() => validate(ds)).toThrow(`validate: dataset "toy": ${msg}; labels must be integers in [0, 3)`)
      ds.dispose()
    }
  })
})
