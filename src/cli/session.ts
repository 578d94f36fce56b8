/**
 * A model with its SVI driver, built from a run's config: fresh for
 * training, or restored from the run's checkpoint for `sample`, `eval` and
 * `report`. The session owns the networks, the param store and the optimizer.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs-core'
import { elbo } from '../inference/elbo.js'
import { loadCheckpoint } from '../inference/checkpoint.js'
import { svi } from '../inference/svi.js'
import type { Svi } from '../inference/svi.js'
import type { ImageModel } from '../models/image-model.js'
import { UsageError } from './errors.js'
import { modelEntry } from './models.js'
import type { ModelEntry } from './models.js'
import { readConfig, runPaths } from './run-files.js'
import type { RunConfig } from './run-files.js'

/** A model, its registry entry and its SVI driver. */
export interface Session {
  readonly config: RunConfig
  readonly entry: ModelEntry
  readonly model: ImageModel
  readonly svi: Svi
  /** Frees the networks, the params and the optimizer's slots. */
  readonly dispose: () => void
}

/**
 * The registry entry of a model kind, or a UsageError when it is not available.
 *
 * @example const entry = entryOrThrow('vae')
 */
export const entryOrThrow = (kind: RunConfig['model']): ModelEntry => {
  const r = modelEntry(kind)
  if (E.isLeft(r)) throw new UsageError(r.left)
  return r.right
}

/**
 * A fresh model and SVI driver (Adam 1e-3, ELBO, the run's seed; a semi-supervised entry's own estimator and rate); no params exist yet.
 * `stepsPerEpoch` is given when the session will train.
 *
 * @example const s = createSession(config); await s.svi.fit(s.model.model, s.model.guide, args)
 */
export const createSession = (config: RunConfig, stepsPerEpoch?: number): Session => {
  const entry = entryOrThrow(config.model)
  const model = entry.create({
    imageShape: config.imageShape, numClasses: config.numClasses, zDim: config.zDim, hidden: config.hidden, seed: config.seed,
    ...(stepsPerEpoch === undefined ? {} : { stepsPerEpoch }),
  })
  const optimizer = tf.train.adam(entry.semiSupervised?.learningRate ?? 1e-3)
  const s = svi({ optimizer, loss: entry.semiSupervised?.loss() ?? elbo(), seed: config.seed, ...(model.keep !== undefined && { keep: model.keep }) })
  return {
    config, entry, model, svi: s,
    dispose: () => { s.params.dispose(); model.dispose(); optimizer.dispose() },
  }
}

/** Runs the model and guide once on a blank image so every param and module is registered (no synchronous read: GPU backends too). */
const registerParams = async (session: Session): Promise<void> => {
  const [h, w, c] = session.config.imageShape
  const x = tf.zeros([1, h, w, c]) as tf.Tensor4D
  const y = tf.zeros([1], 'int32') as tf.Tensor1D
  const args = session.model.inputs(x, y)
  try {
    await session.svi.initAsync(session.model.model, session.model.guide, ...args)
  } finally {
    tf.dispose([x, y, ...args])
  }
}

/**
 * Loads the trained params of run directory `dir` into a session (registering them first).
 *
 * @example await restoreParams(createSession(config), 'runs/vae')
 */
export const restoreParams = async (session: Session, dir: string): Promise<void> => {
  await registerParams(session)
  await loadCheckpoint(runPaths(dir).checkpoint, { store: session.svi.params })
}

/**
 * The trained model of a run directory: config.json decoded, the model rebuilt,
 * the checkpoint's params loaded. The caller disposes the session.
 *
 * @example
 * const s = await openRun('runs/vae')
 * try { const images = s.model.sample(64, 0) } finally { s.dispose() }
 */
export const openRun = async (dir: string): Promise<Session> => {
  const config = await readConfig(dir)
  const session = createSession(config)
  try {
    await restoreParams(session, dir)
    return session
  } catch (e) {
    session.dispose()
    throw e
  }
}
