/**
 * The resume law of `fit`'s checkpoints, shared by the disk and the IndexedDB tests: on the conjugate
 * model, 2 epochs with checkpoints, then a new run resuming for 1 more, equal 3 epochs straight — the
 * epochs' losses and every param, bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core'
import { expect } from 'vitest'
import { elbo } from '../../src/inference/elbo.js'
import type { ParamStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'
import { read } from '../helpers.js'
import { XS, guide, model } from './conjugate.js'

const params = (store: ParamStore): Record<string, number[]> =>
  Object.fromEntries(store.entries().flatMap((e) => e.kind === 'param' ? [[e.name, read(e.variable)]] : []))

/** Runs the law with checkpoints at `dir` (a folder in Node, a key in IndexedDB); `afterFirst` checks what the first run left. */
export const expectResumeEqualsStraight = async (dir: string, afterFirst: () => Promise<void> = async () => undefined): Promise<void> => {
  const x = tf.tensor1d([...XS, ...XS, ...XS])
  const opts = { batchSize: 2, progress: false, seed: 5, checkpoint: { dir } } as const
  const run = () => svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 9 })
  const straight = run()
  const h3 = await straight.fit(model, guide({ loc: 0, scale: 1 }), x, { ...opts, epochs: 3, checkpoint: undefined })
  const first = run()
  await first.fit(model, guide({ loc: 0, scale: 1 }), x, { ...opts, epochs: 2 })
  first.params.dispose(); first.optimizer.dispose()
  await afterFirst()
  const resumed = run()
  const h = await resumed.fit(model, guide({ loc: 0, scale: 1 }), x, { ...opts, epochs: 1, resume: true })
  expect(h.epochs.map((e) => e.epoch)).toEqual([1, 2, 3])
  expect(h.epochs.map((e) => e.trainLoss)).toEqual(h3.epochs.map((e) => e.trainLoss))
  expect(params(resumed.params)).toEqual(params(straight.params))
  for (const s of [straight, resumed]) { s.params.dispose(); s.optimizer.dispose() }
  x.dispose()
}
