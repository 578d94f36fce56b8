/**
 * The short soak (`npm run soak` is the long one): 16 epochs of a small MLP VAE (784-32-4) on 200 real digits
 * with a validation pass each epoch. numTensors must be identical at every epoch end, RSS must
 * not grow by more than 5% after a 5-epoch warm-up, and everything must be freed afterwards.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { describeSoak, soak } from '../../bench/soak.js'

describe('soak (short)', () => {
  it('16 epochs on 200 digits: numTensors identical at every epoch end, RSS growth ≤ 5% after warm-up, nothing left behind', async () => {
    const before = tf.memory().numTensors
    const r = await soak({ epochs: 16, digits: 200, warmup: 5, batchSize: 50, hidden: [32], zDim: 4, maxRssGrowth: 0.05 })
    console.info(describeSoak(r))
    expect(r.numTensors.length).toBe(16)
    expect(new Set(r.numTensors).size, `numTensors per epoch: ${r.numTensors.join(', ')}`).toBe(1)
    expect(r.rssGrowth).toBeLessThanOrEqual(0.05)
    expect(r.problems).toEqual([])
    expect(tf.memory().numTensors).toBe(before)
  }, 60_000)

  it('a leak is caught: one tensor kept per epoch shows up in the figures and the verdict', async () => {
    // The check must be able to fail: a step callback that keeps one tensor per epoch.
    const kept: tf.Tensor[] = []
    const leaky = await soak({ epochs: 3, digits: 50, warmup: 1, batchSize: 50, hidden: [8], zDim: 2, maxRssGrowth: 0.05, onEpochEnd: () => { kept.push(tf.scalar(1)) } })
    tf.dispose(kept)
    expect(leaky.numTensors[1]! - leaky.numTensors[0]!).toBe(1)
    expect(leaky.problems[0]).toMatch(/^numTensors changed between epochs: (\d+) → (\d+) → (\d+) \(expected one value at every epoch end\)$/)
  }, 60_000)
})
