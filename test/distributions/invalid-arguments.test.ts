/**
 * Every constructor in src/distributions, given an invalid argument, throws and leaves
 * `tf.memory().numTensors` unchanged: the tensors it converted or derived before the check
 * failed are freed with the error (the caller's own tensors are never touched).
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { affine } from '../../src/distributions/bijectors.js'
import { categorical } from '../../src/distributions/categorical.js'
import { continuousBernoulli } from '../../src/distributions/continuous-bernoulli.js'
import { delta } from '../../src/distributions/delta.js'
import { laplace } from '../../src/distributions/laplace.js'
import { logNormal } from '../../src/distributions/log-normal.js'
import { mixtureSameFamily } from '../../src/distributions/mixture-same-family.js'
import { normal } from '../../src/distributions/normal.js'
import { oneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import { relaxedBernoulli } from '../../src/distributions/relaxed-bernoulli.js'
import { relaxedOneHotCategorical } from '../../src/distributions/relaxed-one-hot-categorical.js'
import { straightThrough } from '../../src/distributions/straight-through.js'
import { uniform } from '../../src/distributions/uniform.js'
import { TfpplError } from '../../src/errors.js'

/** More elements than validation tests in JavaScript: these go through the vectorised check. */
const big = (v: number, bad: number): number[] => Array.from({ length: 100 }, (_, i) => (i === 57 ? bad : v))

/** [label, constructor call with an invalid argument]; arguments are numbers or arrays, so the constructor converts them. */
const CASES: ReadonlyArray<readonly [string, () => unknown]> = [
  ['normal: scale ≤ 0', () => normal(0, -1)],
  ['normal: NaN scale (large)', () => normal(0, big(1, NaN))],
  ['normal: shapes clash', () => normal([0, 0], [1, 1, 1])],
  ['laplace: scale 0', () => laplace(0, 0)],
  ['laplace: NaN loc', () => laplace(NaN, 1)],
  ['logNormal: scale ≤ 0', () => logNormal(0, -1)],
  ['uniform: low ≥ high', () => uniform(1, 0)],
  ['uniform: NaN low', () => uniform(NaN, 1)],
  ['delta: NaN value', () => delta([1, NaN])],
  ['delta: eventDims > rank', () => delta([1, 2], { eventDims: 3 })],
  ['bernoulli: probs > 1', () => bernoulli({ probs: 1.5 })],
  ['bernoulli: NaN logits', () => bernoulli({ logits: [0, NaN] })],
  ['categorical: probs off the simplex', () => categorical({ probs: [0.5, 0.6] })],
  ['categorical: NaN logits', () => categorical({ logits: [NaN, 0] })],
  ['categorical: scalar logits', () => categorical({ logits: 0 })],
  ['oneHotCategorical: probs off the simplex', () => oneHotCategorical({ probs: [0.2, 0.2] })],
  ['relaxedBernoulli: temperature 0', () => relaxedBernoulli(0, { logits: 0 })],
  ['relaxedBernoulli: temperature < 0 with probs', () => relaxedBernoulli(-1, { probs: [0.3, 0.6] })],
  ['relaxedBernoulli: probs > 1', () => relaxedBernoulli(1, { probs: 1.5 })],
  ['relaxedBernoulli: NaN logits', () => relaxedBernoulli(1, { logits: NaN })],
  ['relaxedBernoulli: shapes clash', () => relaxedBernoulli([1, 1, 1], { logits: [0, 0] })],
  ['relaxedBernoulli: temperature ≤ 0 (large)', () => relaxedBernoulli(big(1, -1), { logits: big(0, 0) })],
  ['continuousBernoulli: probs > 1', () => continuousBernoulli({ probs: 1.5 })],
  ['continuousBernoulli: probs < 0', () => continuousBernoulli({ probs: [0.5, -0.1] })],
  ['continuousBernoulli: NaN logits', () => continuousBernoulli({ logits: NaN })],
  ['relaxedOneHotCategorical: temperature 0', () => relaxedOneHotCategorical(0, { logits: [0, 1] })],
  ['relaxedOneHotCategorical: probs off the simplex', () => relaxedOneHotCategorical(1, { probs: [0.5, 0.6] })],
  ['relaxedOneHotCategorical: shapes clash', () => relaxedOneHotCategorical([1, 1, 1], { logits: [[0, 1], [0, 1]] })],
  ['affine: scale 0', () => affine(0, 0)],
  ['affine: NaN loc', () => affine(NaN, 1)],
]

/** Asserts that `f` throws a library error and leaves numTensors unchanged. */
const expectThrowsWithoutLeak = (f: () => unknown): void => {
  const before = tf.memory().numTensors
  expect(f).toThrow(TfpplError)
  expect(tf.memory().numTensors, 'tensors left behind by the failed constructor').toBe(before)
}

describe('invalid constructor arguments', () => {
  it.each(CASES)('%s: throws and leaks nothing', (_, f) => expectThrowsWithoutLeak(f))

  it('int32 tensors (converted by a cast) are freed too; the caller’s tensors are kept', () => {
    const ints = (v: number[]): tf.Tensor => tf.tensor(v, [v.length], 'int32')
    const owned = [ints([0, 1]), ints([-1, 1]), ints([2, 0]), ints([0, 0])]
    const [loc, negative, probs, zero] = owned as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]
    for (const f of [
      () => normal(loc, negative), () => laplace(loc, zero), () => uniform(probs, loc),
      () => bernoulli({ probs }), () => continuousBernoulli({ probs }),
      () => relaxedBernoulli(negative, { logits: loc }), () => relaxedBernoulli(zero, { probs: loc }),
      () => relaxedOneHotCategorical(negative, { logits: loc }), () => affine(loc, zero),
    ]) expectThrowsWithoutLeak(f)
    expect(owned.every((x) => !x.isDisposed)).toBe(true)
    tf.dispose(owned)
  })

  it('composite constructors with invalid components leak nothing', () => {
    const mixing = categorical({ probs: [0.3, 0.7] }), components = normal([0, 0, 0], [1, 1, 1])
    expectThrowsWithoutLeak(() => mixtureSameFamily(mixing, components))
    expectThrowsWithoutLeak(() => straightThrough(components as never))
    expectThrowsWithoutLeak(() => components.toEvent(2))
    expectThrowsWithoutLeak(() => components.expand([2]))
    tf.dispose([mixing.logits, mixing.probs, components.loc, components.scale])
  })
})
