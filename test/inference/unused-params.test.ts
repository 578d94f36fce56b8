/**
 * Params the loss does not reach (Pyro computes the loss and updates what it can): `svi.step`
 * runs, reports the same −ELBO `evaluate` gives for that step's seed, leaves the unused params as
 * they were and moves the used ones; a step where no param reaches the loss just computes it.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { observe, param, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import { iwae } from '../../src/inference/iwae.js'
import type { Loss } from '../../src/inference/loss.js'
import { svi } from '../../src/inference/svi.js'
import { read } from '../helpers.js'

const model = (x: tf.Tensor) => gen(function* () {
  const z = yield* sample('z', normal(0, 1))
  yield* observe('x', normal(z, 1), x)
})
/** Only params the loss never reads. */
const unusedOnly = (_x: tf.Tensor) => gen(function* () {
  yield* param('unused', tf.scalar(0))
  yield* param('also_unused', () => tf.tensor1d([1, 2]))
  yield* sample('z', normal(0.4, 0.8))
})
/** An unused param besides a used one. */
const unusedBesides = (_x: tf.Tensor) => gen(function* () {
  yield* param('unused', tf.scalar(0))
  yield* sample('z', normal(yield* param('m', tf.scalar(0.4)), 0.8))
})

const LOSSES: ReadonlyArray<readonly [string, () => Loss]> = [
  ['elbo', () => elbo()], ['kl', () => elbo({ kl: 'auto' })], ['iwae (vectorised)', () => iwae({ numParticles: 3 })],
  ['iwae (loop)', () => iwae({ numParticles: 3, vectorizeParticles: false })],
]

describe('svi.step with params the loss does not reach', () => {
  it.each(LOSSES)('only unused params [%s]: the step reports the loss and updates nothing', async (_name, make) => {
    const x = tf.scalar(1.3)
    for (const optimizer of [tf.train.adam(0.05), tf.train.sgd(0.1)]) {
      const s = svi({ optimizer, loss: make(), seed: 4 })
      const expected = await s.evaluate(model, unusedOnly, x)
      const first = s.step(model, unusedOnly, x)
      const second = s.step(model, unusedOnly, x)
      expect(first).toBeCloseTo(expected, 5)
      expect(Number.isFinite(second)).toBe(true)
      expect(read(s.params.value('unused')!)).toEqual([0])
      expect(read(s.params.value('also_unused')!)).toEqual([1, 2])
      expect(s.state.step).toBe(2)
      s.params.dispose()
      optimizer.dispose()
    }
    x.dispose()
  })

  it.each(LOSSES)('an unused param besides a used one [%s]: the used one moves, the unused one stays', async (_name, make) => {
    const x = tf.scalar(1.3)
    const s = svi({ optimizer: tf.train.adam(0.05), loss: make(), seed: 4 })
    const expected = await s.evaluate(model, unusedBesides, x)
    expect(s.step(model, unusedBesides, x)).toBeCloseTo(expected, 5)
    s.step(model, unusedBesides, x)
    expect(read(s.params.value('unused')!)).toEqual([0])
    expect(read(s.params.value('m')!)[0]).not.toBe(0.4)
    s.params.dispose()
    x.dispose()
  })
})
