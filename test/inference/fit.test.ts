import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { fitLoop } from '../../src/inference/fit.js'
import type { Trainer } from '../../src/inference/fit-types.js'
import { paramStore } from '../../src/inference/params.js'
import { guide, model } from './conjugate.js'

/** A trainer that runs no program: it records what the loop asks of it. */
const recordingTrainer = (calls: string[]): Trainer => {
  const state = { step: 0, baselines: {} }
  return {
    init: (_m, _g, ...batch) => { calls.push(`init ${batch[0]!.shape[0]}`) },
    step: (_m, _g, ...batch) => { calls.push(`step ${batch[0]!.shape[0]}`); state.step += 1; return 1 },
    evaluate: async (_m, _g, ...batch) => { calls.push(`evaluate ${batch[0]!.shape[0]}`); return 2 },
    state,
    restore: (s) => { state.step = s.step },
    params: paramStore(),
    optimizer: tf.train.sgd(0.1),
  }
}

describe('fitLoop', () => {
  it('drives any Trainer: one step per batch, evaluate per validation batch, the step count from its state', async () => {
    const calls: string[] = []
    const [x, xVal] = [tf.zeros([5]), tf.zeros([3])]
    const h = await fitLoop(recordingTrainer(calls), model, guide({ loc: 0, scale: 1 }), x, { epochs: 2, batchSize: 2, shuffle: false, validation: xVal, progress: false })
    expect(h).toMatchObject({ steps: 6, stoppedEarly: false, aborted: false })
    expect(h.epochs.map((r) => [r.epoch, r.trainLoss, r.validationLoss])).toEqual([[1, 1, 2], [2, 1, 2]])
    expect(calls.slice(0, 5)).toEqual(['step 2', 'step 2', 'step 1', 'evaluate 2', 'evaluate 1'])
    tf.dispose([x, xVal])
  })
})
