/**
 * Bad inputs to the distribution constructors and methods (B01–B12, B80–B81): each is a
 * named TfpplError that says which distribution, which argument, what it got and
 * what was expected, and leaves no tensor behind.
 */
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, describe, it } from 'vitest'
import { bernoulli, categorical, delta, laplace, logNormal, normal, uniform } from '../../src/distributions/index.js'
import type { LogitsOrProbs } from '../../src/distributions/index.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectNamed } from './expect-named.js'

const kept: tf.Tensor[] = []
/** A tensor made before the call under test (so the leak check counts only what the call makes). */
const keep = <T extends tf.Tensor>(x: T): T => { kept.push(x); return x }
afterAll(() => { tf.dispose(kept) })

describe('bad distribution arguments', () => {
  it('B01 normal: scale 0 (plain numbers) is an InvalidArgumentError naming the argument, and the converted tensors are freed', async () => {
    await expectNamed(() => normal(0, 0), InvalidArgumentError, ['normal', "argument 'scale'", 'must satisfy x > 0', 'got 0'])
  })

  it('B02 normal: a negative scale inside a tensor names its index and shape', async () => {
    const loc = keep(tf.zeros([3])), scale = keep(tf.tensor1d([1, -2, 3]))
    await expectNamed(() => normal(loc, scale), InvalidArgumentError, ["argument 'scale'", 'x > 0', 'got -2 at index [1]', 'shape [3]'], { tensors: [loc, scale] })
  })

  it('B03 laplace: scale −1 from a nested array is refused without a leak', async () => {
    await expectNamed(() => laplace([0, 1], [[1, -1]]), InvalidArgumentError, ['laplace', "argument 'scale'", 'x > 0', 'got -1 at index [0, 1]'])
  })

  it('B04 logNormal: a NaN scale is refused (never a NaN density later)', async () => {
    await expectNamed(() => logNormal(0, NaN), InvalidArgumentError, ['logNormal', "argument 'scale'", 'x > 0', 'got NaN'])
  })

  it('B05 bernoulli: probs 1.5 (out of [0, 1]) names the argument and the interval', async () => {
    const probs = keep(tf.tensor1d([0.2, 1.5]))
    await expectNamed(() => bernoulli({ probs }), InvalidArgumentError, ['bernoulli', "argument 'probs'", '0 ≤ x ≤ 1', 'got 1.5 at index [1]'], { tensors: [probs] })
  })

  it('B06 bernoulli: both logits and probs is refused, saying exactly one is expected', async () => {
    const both = { logits: 0, probs: 0.5 } as unknown as LogitsOrProbs
    await expectNamed(() => bernoulli(both), InvalidArgumentError, ['bernoulli', "expected exactly one of the arguments 'logits' or 'probs'", 'got both'])
  })

  it('B07 categorical: probs that do not sum to 1 are refused (simplex expected)', async () => {
    const probs = keep(tf.tensor2d([[0.5, 0.5], [0.5, 0.6]]))
    await expectNamed(() => categorical({ probs }), InvalidArgumentError, ['categorical', "argument 'probs'", 'Σ x = 1 over the last dim', 'index [1]'], { tensors: [probs] })
  })

  it('B08 normal: loc [2] and scale [3] do not broadcast: a ShapeError naming both shapes', async () => {
    const loc = keep(tf.zeros([2])), scale = keep(tf.ones([3]))
    await expectNamed(() => normal(loc, scale), ShapeError, ['normal', 'do not broadcast', 'loc [2]', 'scale [3]'], { tensors: [loc, scale] })
  })

  it('B09 toEvent(2) beyond the batch rank 1 is a ShapeError naming n, the rank and the batch shape', async () => {
    const d = normal(keep(tf.zeros([3])), keep(tf.ones([3])))
    await expectNamed(() => d.toEvent(2), ShapeError, ['normal.toEvent(2)', 'between 0 and the batch rank 1', 'batchShape [3]'])
    await expectNamed(() => d.toEvent(-1), ShapeError, ['normal.toEvent(-1)', 'batch rank 1'])
  })

  it('B10 bernoulli.logProb(2): a value outside the support is a SupportError naming the value, index and support', async () => {
    const d = bernoulli({ logits: keep(tf.zeros([3])) })
    const x = keep(tf.tensor1d([0, 1, 2]))
    await expectNamed(() => d.logProb(x), SupportError, ['bernoulli.logProb', 'outside the support', 'x ∈ {0, 1}', 'got 2 at index [2]'], { tensors: [x] })
  })

  it('B11 categorical.logProb: index 3 with K = 3, and −1, are SupportErrors naming the integer range', async () => {
    const d = categorical({ logits: keep(tf.zeros([2, 3])) })
    const big = keep(tf.tensor1d([0, 3], 'int32')), negative = keep(tf.tensor1d([-1, 0], 'int32'))
    await expectNamed(() => d.logProb(big), SupportError, ['categorical.logProb', 'integer 0 ≤ x ≤ 2', 'got 3 at index [1]'], { tensors: [big] })
    await expectNamed(() => d.logProb(negative), SupportError, ['categorical.logProb', 'integer 0 ≤ x ≤ 2', 'got -1 at index [0]'], { tensors: [negative] })
  })

  it('B12 sample([-1]) and expand([5]) of a [3]-batch are ShapeErrors naming the shape and what was expected', async () => {
    const d = normal(keep(tf.zeros([3])), keep(tf.ones([3])))
    await expectNamed(() => d.sample([-1]), ShapeError, ['normal.sample', 'sampleShape', 'non-negative integers', '[-1]'])
    await expectNamed(() => d.expand([5]), ShapeError, ['normal.expand', 'batchShape [3]', 'cannot be broadcast to [5]', 'expected'])
  })

  it('B80 uniform([0, 1], 0.5): low ≥ high at index 1 names both bounds and the order expected, without a leak', async () => {
    await expectNamed(() => uniform([0, 1], 0.5), InvalidArgumentError, ["uniform: arguments 'low' and 'high' must satisfy low < high", 'got low = 1, high = 0.5 at flat index 1'])
  })

  it('B81 delta: eventDims 2 for a value of rank 1 names the option, the rank and the range expected, without a leak', async () => {
    await expectNamed(() => delta([1, 2, 3], { eventDims: 2 }), ShapeError, ["delta: option 'eventDims' must be an integer between 0 and the rank of 'value' (1, shape [3])", 'got 2'])
  })
})
