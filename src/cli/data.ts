/**
 * The data of a run: `mnist` (the bundled digits), `fashion-mnist` (the
 * Debian package's IDX files) or a directory of the four MNIST-format IDX
 * files; optionally cut to the first `limit` images; turned into program
 * arguments (binarised for Bernoulli models).
 */
import { existsSync, statSync } from 'node:fs'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { DataError, FASHION_MNIST_FILES, binarize, fashionMnist, idxDataset, mnistDigits, subset } from '../data/index.js'
import type { Dataset } from '../data/index.js'
import type { ImageModel } from '../models/image-model.js'
import type { DataSpec } from './run-files.js'

/** Train and test sets; the caller disposes both. */
export interface Splits {
  readonly train: Dataset
  readonly test: Dataset
}

/**
 * The `source` stored in config.json for a `--data` value: the two names as
 * they are, anything else as an absolute path (so the run can be read from elsewhere).
 *
 * @example dataSource('mnist')   // 'mnist'; dataSource('data/fm') → '/home/me/data/fm'
 */
export const dataSource = (arg: string): string => (arg === 'mnist' || arg === 'fashion-mnist' ? arg : path.resolve(arg))

const locate = (dir: string, name: string): string | undefined => [path.join(dir, name), path.join(dir, `${name}.gz`)].find((p) => existsSync(p))

/** A directory with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz). */
const idxDirectory = (dir: string): Splits => {
  const isDir = existsSync(dir) && statSync(dir).isDirectory()
  if (!isDir) throw new DataError(`--data ${dir}: not a directory; expected mnist, fashion-mnist or a directory with the four IDX files`, dir)
  const files = Object.values(FASHION_MNIST_FILES).map((n) => [n, locate(dir, n)] as const)
  const missing = files.filter(([, p]) => p === undefined).map(([n]) => n)
  if (missing.length > 0) throw new DataError(`--data ${dir}: missing ${missing.join(', ')} (each may also end in .gz)`, dir)
  const [trainImages, trainLabels, testImages, testLabels] = files.map(([, p]) => p!) as [string, string, string, string]
  const name = path.basename(dir)
  const train = idxDataset(trainImages, trainLabels, `${name}/train`)
  try {
    return { train, test: idxDataset(testImages, testLabels, `${name}/test`) }
  } catch (e) {
    train.dispose()
    throw e
  }
}

const cut = (ds: Dataset, limit: number | null): Dataset => {
  if (limit === null || limit >= ds.size) return ds
  try { return subset(ds, limit) } finally { ds.dispose() }
}

/**
 * Loads the train and test sets of a data spec, each cut to `limit` images.
 *
 * @example const { train, test } = loadData({ source: 'mnist', limit: 256 })
 */
export const loadData = (spec: DataSpec): Splits => {
  const splits = spec.source === 'mnist' ? mnistDigits() : spec.source === 'fashion-mnist' ? fashionMnist() : idxDirectory(spec.source)
  const train = cut(splits.train, spec.limit)
  try {
    return { train, test: cut(splits.test, spec.limit) }
  } catch (e) {
    train.dispose()
    throw e
  }
}

/** The images a model is trained on: binarised (> 0.5) for Bernoulli models, else as they are. A new tensor. */
export const modelImages = (images: tf.Tensor4D, binary: boolean): tf.Tensor4D =>
  binary ? binarize.fixed(0.5)(images) : tf.clone(images)

/**
 * The program arguments for `count` images of a dataset starting at `start`
 * (default: all of them); the caller disposes them.
 *
 * @example const args = programArgs(model, test, true, 0, 100)   // e.g. [x [100, 784]]
 */
export const programArgs = (model: ImageModel, ds: Dataset, binary: boolean, start = 0, count = ds.size - start): tf.Tensor[] => {
  const [x, y] = tf.tidy(() => [modelImages(tf.slice(ds.images, start, count), binary), tf.slice(ds.labels, start, count)] as [tf.Tensor4D, tf.Tensor1D])
  try { return model.inputs(x, y) } finally { tf.dispose([x, y]) }
}
