/**
 * Semi-supervised training in the command (`tfppl train ssvae --labels-per-class 100`): the
 * labelled and unlabelled streams `fit` feeds, from a seeded labelled split of the training set
 * (Pyro's ss_vae_M2 protocol: labels drawn from the first 50,000 images, the rest of them
 * unlabelled), the estimator and the learning rate.
 */
import { existsSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { DataError, FASHION_MNIST_DIR, labelledSplit } from '../data/index.js'
import { SEMI_SUPERVISED_POOL } from '../data/labelled-split.js'
import type { Dataset } from '../data/index.js'
import { InvalidArgumentError } from '../errors.js'
import { enumElbo } from '../inference/enum-elbo.js'
import type { FitStreams } from '../inference/fit-types.js'
import type { Loss } from '../inference/loss.js'
import type { ImageModel, ModelKind } from '../models/image-model.js'
import { modelImages } from './data.js'
import { UsageError } from './errors.js'
import type { RunConfig } from './run-files.js'

/** What a semi-supervised model's registry entry adds: its estimator and Adam's learning rate. */
export interface SemiSupervisedEntry {
  /** The estimator (a new one per session). */
  readonly loss: () => Loss
  readonly learningRate: number
}

/** The model kinds trained on a labelled and an unlabelled stream (the ones `--labels-per-class` applies to). */
export const SEMI_SUPERVISED_KINDS: readonly ModelKind[] = ['ssvae']

/** `--labels-per-class` when not given: Kingma et al.'s N = 1,000 setting on 10 classes. */
export const DEFAULT_LABELS_PER_CLASS = 100

/**
 * The estimator of the semi-supervised VAE: `enumElbo` (Pyro's TraceEnum_ELBO), the guide's y summed
 * over its 10 values exactly on unlabelled batches; the one data plate fixes the nesting.
 *
 * @example svi({ optimizer, loss: ssvaeLoss() })
 */
export const ssvaeLoss = (): Loss => enumElbo({ maxPlateNesting: 1, strictEnumerationWarning: false })   // labelled batches observe y: nothing to enumerate there, as expected

/** Adam's learning rate for the semi-supervised VAE: Pyro's ss_vae_M2 default (4.2e-4, with batch 200). */
export const SSVAE_LEARNING_RATE = 4.2e-4

/**
 * The default `--data` of a semi-supervised run: Fashion-MNIST when installed, else the bundled digits.
 *
 * @example semiSupervisedData()   // 'fashion-mnist' after `apt-get install dataset-fashion-mnist`
 */
export const semiSupervisedData = (): string => (existsSync(FASHION_MNIST_DIR) ? 'fashion-mnist' : 'mnist')

/** The labelled and unlabelled streams of a run; `dispose` frees their tensors. */
export interface TrainStreams {
  readonly data: FitStreams<readonly tf.Tensor[]>
  /** Steps per epoch: every batch of both streams. */
  readonly stepsPerEpoch: number
  /** What the run trains on, for the start of the output. */
  readonly notes: readonly string[]
  readonly dispose: () => void
}

const count = (n: number): string => n.toLocaleString('en-US')

/** The notes describing the split (and the fallback to the bundled digits). */
const splitNotes = (config: RunConfig, train: Dataset, sizes: { labelled: number; unlabelled: number; pool: number }): string[] => {
  const perClass = config.labelsPerClass ?? DEFAULT_LABELS_PER_CLASS
  const fallback = config.data.source === 'mnist' && !existsSync(FASHION_MNIST_DIR)
    ? ['tfppl: Fashion-MNIST is not installed (apt-get install -y dataset-fashion-mnist): training on the bundled MNIST digits, an 8,000/2,000 train/test split']
    : []
  return [...fallback,
    `tfppl: ${perClass} labels per class (${count(sizes.labelled)} labelled images) drawn with seed ${config.seed} from the first ${count(sizes.pool)} of ${count(train.size)} training images; ` +
    `the other ${count(sizes.unlabelled)} unlabelled; labelled batches spread evenly among the unlabelled ones (Pyro's ss_vae_M2 schedule)`]
}

/** The labelled split of `train`, a UsageError naming `--labels-per-class` when it cannot be made. */
const split = (train: Dataset, config: RunConfig) => {
  const perClass = config.labelsPerClass ?? DEFAULT_LABELS_PER_CLASS
  try {
    return labelledSplit(train, { labelsPerClass: perClass, seed: config.seed })
  } catch (e) {
    if (e instanceof DataError || e instanceof InvalidArgumentError) throw new UsageError(`tfppl train: --labels-per-class ${perClass}: ${e.message}`)
    throw e
  }
}

/** A dataset's images preprocessed as the model trains on them, then turned into program arguments. */
const argsOf = (inputs: (x: tf.Tensor4D, y: tf.Tensor1D) => tf.Tensor[], ds: Dataset, binary: boolean): tf.Tensor[] => {
  const x = modelImages(ds.images, binary)
  try { return inputs(x, ds.labels) } finally { x.dispose() }
}

/**
 * The streams of a semi-supervised run: labelled [x, y] and unlabelled [x] batches of
 * `config.batchSize` (at most a stream's size), labelled ones spread among the unlabelled ones.
 *
 * @example const s = trainStreams(model, data.train, config, false); await svi.fit(model.model, model.guide, s.data)
 */
export const trainStreams = (model: ImageModel, train: Dataset, config: RunConfig, binary: boolean): TrainStreams => {
  const labelledInputs = model.labelledInputs
  if (labelledInputs === undefined) throw new UsageError(`tfppl train: model '${config.model}' has no labelled inputs; expected a semi-supervised model (${SEMI_SUPERVISED_KINDS.join(', ')})`)
  const parts = split(train, config)
  const tensors: tf.Tensor[] = []
  try {
    const labelled = argsOf(labelledInputs, parts.labelled, binary)
    tensors.push(...labelled)
    const unlabelled = argsOf(model.inputs, parts.unlabelled, binary)
    tensors.push(...unlabelled)
    const [nl, nu] = [parts.labelled.size, parts.unlabelled.size]
    const [bl, bu] = [Math.min(config.batchSize, nl), Math.min(config.batchSize, nu)]
    return {
      data: { streams: [{ data: labelled, batchSize: bl }, { data: unlabelled, batchSize: bu }], schedule: 'spread' },
      stepsPerEpoch: Math.ceil(nl / bl) + Math.ceil(nu / bu),
      notes: splitNotes(config, train, { labelled: nl, unlabelled: nu, pool: Math.min(SEMI_SUPERVISED_POOL, train.size) }),
      dispose: () => { tf.dispose(tensors) },
    }
  } catch (e) {
    tf.dispose(tensors)
    throw e
  } finally {
    parts.dispose()
  }
}
