import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { DataError, datasetFromArrays, labelledSplit } from '../../src/data/index.js'
import { chooseLabelled } from '../../src/data/labelled-split.js'
import type { Dataset } from '../../src/data/index.js'

/** n 1×1 images whose pixel is i / n, labels i mod k. */
const toy = (n: number, k: number): Dataset =>
  datasetFromArrays('toy', Float32Array.from({ length: n }, (_, i) => i / n), [1, 1], Int32Array.from({ length: n }, (_, i) => i % k), k)

describe('labelledSplit', () => {
  it('takes labelsPerClass images of each class from the pool, the rest of the pool unlabelled, the tail as validation', () => {
    const ds = toy(60, 3)
    const before = tf.memory().numTensors
    const s = labelledSplit(ds, { labelsPerClass: 4, pool: 45, seed: 7 })
    expect([s.labelled.size, s.unlabelled.size, s.validation?.size]).toEqual([12, 33, 15])
    const labels = [...s.labelled.labels.dataSync()]
    expect([0, 1, 2].map((c) => labels.filter((l) => l === c).length)).toEqual([4, 4, 4])
    expect([...s.labelledIndices].every((i) => i < 45)).toBe(true)
    // The labelled images are those of the chosen indices; labelled ∪ unlabelled is the pool, without overlap.
    const pixel = (d: Dataset) => [...d.images.dataSync()].map((p) => Math.round(p * 60))
    expect(pixel(s.labelled)).toEqual([...s.labelledIndices])
    expect([...pixel(s.labelled), ...pixel(s.unlabelled)].sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i))
    expect(pixel(s.validation!)).toEqual(Array.from({ length: 15 }, (_, i) => 45 + i))
    s.dispose()
    expect(tf.memory().numTensors).toBe(before)
    ds.dispose()
  })

  it('is seeded: the same seed picks the same images, another seed others; the pool defaults to 50,000 or the whole set', () => {
    const ds = toy(90, 3)
    const pick = (seed: number) => { const s = labelledSplit(ds, { labelsPerClass: 5, seed }); const idx = [...s.labelledIndices]; expect(s.validation).toBeUndefined(); s.dispose(); return idx }
    expect(pick(1)).toEqual(pick(1))
    expect(pick(1)).not.toEqual(pick(2))
    ds.dispose()
  })

  it('refuses impossible requests, saying what was asked and what is possible', () => {
    const ds = toy(12, 3)
    expect(() => labelledSplit(ds, { labelsPerClass: 0 })).toThrow(InvalidArgumentError)
    expect(() => labelledSplit(ds, { labelsPerClass: 4 })).toThrow(/leave no unlabelled image in a pool of 12; expected fewer than 4 per class/)
    expect(() => chooseLabelled(Int32Array.from([0, 0, 0, 1]), 2, 2, 0)).toThrow(DataError)
    expect(() => chooseLabelled(Int32Array.from([0, 0, 0, 1]), 2, 2, 0)).toThrow(/class 1 has only 1 images among the 4 of the pool; ask for at most 1 per class/)
    ds.dispose()
  })
})
