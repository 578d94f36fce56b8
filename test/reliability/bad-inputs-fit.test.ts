/**
 * Bad inputs to `svi(...).fit` (B29–B42): batch sizes, epochs and other
 * options out of range, NaN/±∞ and empty data, arguments of different lengths,
 * validation data shaped unlike the training data, and a checkpoint directory
 * that cannot be written. Each is refused before the first step: the param
 * store, the SVI state, the data tensors, the files and the tensor count are as
 * they were.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { CheckpointError } from '../../src/inference/checkpoint.js'
import { elbo } from '../../src/inference/elbo.js'
import type { FitOptions } from '../../src/inference/fit.js'
import { svi } from '../../src/inference/svi.js'
import type { Svi } from '../../src/inference/svi.js'
import { guide, model } from '../inference/conjugate.js'
import { expectNamed } from './expect-named.js'
import type { Watched } from './expect-named.js'

const root = mkdtempSync(join(tmpdir(), 'tfppl-bad-fit-'))
const kept: tf.Tensor[] = []
const keep = <T extends tf.Tensor>(x: T): T => { kept.push(x); return x }
let s: Svi
let x4: tf.Tensor
const g = guide({ loc: 0, scale: 1 })
const pairModel = (x: tf.Tensor, _c: tf.Tensor) => model(x)
const pairGuide = (x: tf.Tensor, _c: tf.Tensor) => g(x)

beforeAll(() => {
  x4 = keep(tf.tensor1d([1.2, -0.3, 2.0, 0.7]))
  s = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 2 })
  s.step(model, g, x4)   // the store holds 'loc' and 'scale', the optimizer its moments
})
afterAll(() => {
  s.params.dispose()
  tf.dispose(kept)
  rmSync(root, { recursive: true, force: true })
})

const watch = (...tensors: tf.Tensor[]): Watched => ({ store: s.params, tensors: [x4, ...tensors], dirs: [root], values: () => ({ ...s.state }) })
const fitX = (opts: FitOptions, data: tf.Tensor = x4) => () => s.fit(model, g, data, { progress: false, ...opts })

describe('fit: batch size and epochs', () => {
  it('B29 batchSize 0 names the option, the expected range and the data size', async () => {
    await expectNamed(fitX({ batchSize: 0 }), InvalidArgumentError, ['fit: batchSize', 'integer between 1 and the number of data points (4)', 'got 0'], watch())
  })

  it('B30 batchSize −3 (negative) is refused the same way', async () => {
    await expectNamed(fitX({ batchSize: -3 }), InvalidArgumentError, ['fit: batchSize', 'between 1 and the number of data points (4)', 'got -3'], watch())
  })

  it('B31 batchSize 1.5 (not an integer) is refused', async () => {
    await expectNamed(fitX({ batchSize: 1.5 }), InvalidArgumentError, ['fit: batchSize must be an integer', 'got 1.5'], watch())
  })

  it('B32 batchSize 5 with 4 data points (larger than the data) is refused', async () => {
    await expectNamed(fitX({ batchSize: 5 }), InvalidArgumentError, ['fit: batchSize', 'number of data points (4)', 'got 5'], watch())
  })

  it('B33 epochs 0 is refused (was a silent no-op returning an empty history)', async () => {
    await expectNamed(fitX({ epochs: 0 }), InvalidArgumentError, ['fit: epochs must be a positive integer', 'got 0'], watch())
  })

  it('B34 epochs −2 and 2.5 are refused', async () => {
    await expectNamed(fitX({ epochs: -2 }), InvalidArgumentError, ['fit: epochs must be a positive integer', 'got -2'], watch())
    await expectNamed(fitX({ epochs: 2.5 }), InvalidArgumentError, ['fit: epochs', 'got 2.5'], watch())
  })

  it('B35 checkpoint.every 0 and earlyStopping.patience −1 are refused (were accepted: every 0 never saved, patience −1 acted as patience 1)', async () => {
    const dir = join(root, 'ckpt-every')
    await expectNamed(fitX({ checkpoint: { dir, every: 0 } }), InvalidArgumentError, ['fit: checkpoint.every must be a positive integer', 'got 0'], watch())
    await expectNamed(fitX({ earlyStopping: { patience: -1 } }), InvalidArgumentError, ['fit: earlyStopping.patience must be a positive integer', 'got -1'], watch())
  })
})

describe('fit: bad data', () => {
  it('B36 NaN in the data is refused before training, naming the argument, the index and what was expected', async () => {
    const x = keep(tf.tensor1d([1, 2, NaN, 3]))
    await expectNamed(fitX({ batchSize: 2 }, x), InvalidArgumentError, ['fit: data', 'argument 0 (shape [4])', 'holds NaN at index [2]', 'expected finite values'], watch(x))
  })

  it('B37 +∞ in the validation data is refused before training (was: refused only after a whole epoch had trained)', async () => {
    const v = keep(tf.tensor2d([[0], [Infinity]]).reshape([2]))
    await expectNamed(fitX({ batchSize: 2, validation: v }), InvalidArgumentError, ['fit: validation', 'argument 0', 'holds Infinity at index [1]', 'expected finite values'], watch(v))
  })

  it('B38 an empty dataset [0] is refused', async () => {
    const x = keep(tf.zeros([0]))
    await expectNamed(fitX({}, x), InvalidArgumentError, ['fit: data', 'the dataset is empty'], watch(x))
  })

  it('B39 [x, c] with 4 and 3 data points is refused, naming both arguments and their shapes', async () => {
    const c = keep(tf.zeros([3, 2]))
    await expectNamed(() => s.fit(pairModel, pairGuide, [x4, c], { progress: false }), InvalidArgumentError,
      ['fit: data', 'argument 1 has 3 data points but argument 0 has 4', 'shapes [4], [3, 2]'], watch(c))
  })

  it('B40 validation data [2, 3] for training data [4] is refused before training (was: evaluated silently after each epoch)', async () => {
    const v = keep(tf.zeros([2, 3]))
    await expectNamed(fitX({ batchSize: 2, validation: v }), InvalidArgumentError,
      ['fit: validation argument 0 is float32 [2, 3]', 'data argument 0 is float32 [4]', 'expected the same dtype and the same shape after the leading (data) dim'], watch(v))
  })

  it('B41 data that is not a tensor (an array of arrays) is refused, saying what was expected', async () => {
    const fit = s.fit as unknown as (...a: unknown[]) => Promise<unknown>
    await expectNamed(() => fit(model, g, [[1, 2, 3]], { progress: false }), InvalidArgumentError, ['fit: data', 'expected tensors with a leading data dim', 'got object'], watch())
  })
})

describe('fit: a checkpoint directory that cannot be written', () => {
  it('B42 checkpoint.dir under a regular file (<tmp>/afile/ckpt: root ignores chmod) fails before the first epoch, naming the path', async () => {
    const afile = join(root, 'afile')
    writeFileSync(afile, 'not a directory')
    const dir = join(afile, 'ckpt')
    await expectNamed(fitX({ epochs: 2, batchSize: 2, checkpoint: { dir } }), CheckpointError,
      [`fit: checkpoint.dir '${dir}'`, `the parent '${afile}' is not a directory (ENOTDIR)`], watch())
  })
})
