/**
 * The `Dataset` value: images as a float32 `[n, h, w, 1]` tensor in [0, 1],
 * labels as an int32 `[n]` tensor, and the facts needed to use them. Helpers
 * to build one, flatten it, take its first `n` points and validate it.
 *
 * These functions are the imperative edge of the library: every tensor they
 * return belongs to the caller, and none leaks an intermediate.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, showShape } from '../errors.js'
import { DataError } from './errors.js'

/**
 * Height, width and channels of one image (channels is always 1: grey levels).
 *
 * @example
 * const [h, w] = train.imageShape   // 28, 28
 */
export type ImageShape = readonly [height: number, width: number, channels: 1]

/**
 * A labelled image dataset. `images` is float32 `[n, h, w, 1]` with pixels in
 * [0, 1]; `labels` is int32 `[n]` with values in `[0, numClasses)`. The dataset
 * owns both tensors: call `dispose()` when done.
 *
 * @example
 * const { train, test } = mnistDigits()
 * const x = flatten(train)          // [8000, 784], for a dense VAE
 * await s.fit(model, guide, x, { epochs: 10 })
 * x.dispose(); train.dispose(); test.dispose()
 */
export interface Dataset {
  /** A name for messages, e.g. `mnist-digits/train`. */
  readonly name: string
  readonly images: tf.Tensor4D
  readonly labels: tf.Tensor1D
  readonly numClasses: number
  readonly imageShape: ImageShape
  /** The number of data points, `n`. */
  readonly size: number
  /** Human-readable class names, `classNames[label]`, when known. */
  readonly classNames?: readonly string[]
  /** Disposes `images` and `labels` (idempotent). */
  dispose(): void
}

/**
 * What {@link makeDataset} takes (it takes ownership of the tensors).
 *
 * @example
 * const parts: DatasetParts = { name: 'toy', images, labels, numClasses: 2 }
 */
export interface DatasetParts {
  readonly name: string
  readonly images: tf.Tensor4D
  readonly labels: tf.Tensor1D
  readonly numClasses: number
  readonly classNames?: readonly string[]
}

/** Checks the shapes, dtypes and class count of a dataset's parts; throws a DataError naming the dataset. */
const checkParts = (p: DatasetParts): void => {
  const where = `dataset "${p.name}"`
  const { images, labels } = p
  if (images.rank !== 4 || images.shape[3] !== 1 || images.dtype !== 'float32') {
    throw new DataError(`${where}: images must be float32 [n, height, width, 1]; got ${images.dtype} ${showShape(images.shape)}`)
  }
  if (labels.rank !== 1 || labels.dtype !== 'int32') {
    throw new DataError(`${where}: labels must be int32 [n]; got ${labels.dtype} ${showShape(labels.shape)}`)
  }
  if (labels.shape[0] !== images.shape[0]) {
    throw new DataError(`${where}: ${images.shape[0]} images but ${labels.shape[0]} labels; expected one label per image`)
  }
  if (!Number.isInteger(p.numClasses) || p.numClasses < 1) {
    throw new DataError(`${where}: numClasses must be a positive integer; got ${p.numClasses}`)
  }
  if (p.classNames !== undefined && p.classNames.length !== p.numClasses) {
    throw new DataError(`${where}: ${p.classNames.length} class names for ${p.numClasses} classes; expected one name per class`)
  }
}

/**
 * A {@link Dataset} from tensors, which it takes ownership of (its `dispose`
 * disposes them). Checks shapes and dtypes (a {@link DataError} otherwise);
 * use {@link validate} to check the values too.
 *
 * @example
 * const ds = makeDataset({ name: 'toy', images: tf.zeros([2, 4, 4, 1]), labels: tf.tensor1d([0, 1], 'int32'), numClasses: 2 })
 */
export const makeDataset = (parts: DatasetParts): Dataset => {
  checkParts(parts)
  const { name, images, labels, numClasses, classNames } = parts
  const [n, h, w] = images.shape
  return Object.freeze({
    name, images, labels, numClasses, size: n, imageShape: [h, w, 1] as const,
    ...(classNames === undefined ? {} : { classNames: Object.freeze([...classNames]) }),
    dispose: () => { tf.dispose([images, labels]) },
  })
}

/**
 * A {@link Dataset} from host arrays: `pixels` row-major `[n, h, w]` in [0, 1],
 * one label per image. Used by the loaders; the arrays are copied.
 *
 * @example
 * const ds = datasetFromArrays('toy', new Float32Array(2 * 4), [2, 2], Int32Array.from([0, 1]), 2)
 */
export const datasetFromArrays = (name: string, pixels: Float32Array, hw: readonly [number, number], labels: Int32Array, numClasses: number, classNames?: readonly string[]): Dataset => {
  const [h, w] = hw
  const n = labels.length
  if (pixels.length !== n * h * w) {
    throw new DataError(`dataset "${name}": ${pixels.length} pixel values for ${n} images of ${h}×${w}; expected ${n * h * w}`)
  }
  const images = tf.tensor4d(pixels, [n, h, w, 1], 'float32')
  const labelTensor = tf.tensor1d(labels, 'int32')
  try {
    return makeDataset({ name, images, labels: labelTensor, numClasses, ...(classNames === undefined ? {} : { classNames }) })
  } catch (e) {
    tf.dispose([images, labelTensor])
    throw e
  }
}

/**
 * The images as a 2-D float32 `[n, h·w]` tensor (for dense networks). A new
 * tensor the caller owns (it shares the data; dispose it independently).
 *
 * @example
 * const x = flatten(train)   // [8000, 784]
 */
export const flatten = (data: Dataset | tf.Tensor4D): tf.Tensor2D => {
  const images = data instanceof tf.Tensor ? data : data.images
  const [n, h, w, c] = images.shape
  return tf.reshape(images, [n, h * w * c])
}

/**
 * The first `n` data points as a new {@link Dataset} (owning its own tensors;
 * the original is untouched). Named `<name>[0:n]`.
 *
 * @example
 * const small = subset(train, 512)   // for a quick smoke test
 */
export const subset = (ds: Dataset, n: number): Dataset => {
  if (!Number.isInteger(n) || n < 1 || n > ds.size) {
    throw new InvalidArgumentError(`subset: n must be an integer between 1 and the size of dataset "${ds.name}" (${ds.size}); got ${n}`)
  }
  const [images, labels] = tf.tidy(() => [tf.slice(ds.images, 0, n), tf.slice(ds.labels, 0, n)] as const)
  return makeDataset({ name: `${ds.name}[0:${n}]`, images, labels, numClasses: ds.numClasses, ...(ds.classNames === undefined ? {} : { classNames: ds.classNames }) })
}

/** The flat index of the first element of `x` outside [lo, hi] (NaN counts as outside), or -1. */
const firstOutside = (x: tf.Tensor, lo: number, hi: number): number => {
  if (x.size === 0) return -1
  const found = tf.tidy(() => {
    const flat = tf.reshape(x, [-1])
    const bad = tf.cast(tf.logicalNot(tf.logicalAnd(tf.greaterEqual(flat, lo), tf.lessEqual(flat, hi))), 'float32')
    return tf.stack([tf.max(bad), tf.cast(tf.argMax(bad), 'float32')])
  })
  const [hit, at] = found.dataSync()
  found.dispose()
  return hit === 1 ? at! : -1
}

/** The value at flat index `i` of `x`. */
const valueAt = (x: tf.Tensor, i: number): number => {
  const v = tf.tidy(() => tf.slice(tf.reshape(x, [-1]), i, 1))
  const out = v.dataSync()[0]!
  v.dispose()
  return out
}

/**
 * Checks a dataset's shapes and values: every pixel finite and in [0, 1],
 * every label in `[0, numClasses)`. Returns the dataset; a {@link DataError}
 * naming the dataset, the index and the value otherwise. Runs on the device
 * (only a few numbers are read back).
 *
 * @example
 * const ds = validate(idxDataset('imgs.gz', 'labels.gz', 'mine'))
 */
export const validate = (ds: Dataset): Dataset => {
  checkParts(ds)
  const [, h, w] = ds.images.shape
  if (ds.imageShape[0] !== h || ds.imageShape[1] !== w || ds.size !== ds.images.shape[0]) {
    throw new DataError(`validate: dataset "${ds.name}": imageShape ${showShape(ds.imageShape)} and size ${ds.size} do not match images ${showShape(ds.images.shape)}`)
  }
  const p = firstOutside(ds.images, 0, 1)
  if (p >= 0) {
    const image = Math.floor(p / (h * w)), row = Math.floor((p % (h * w)) / w), col = p % w
    throw new DataError(`validate: dataset "${ds.name}": image ${image}, pixel (row ${row}, col ${col}) is ${valueAt(ds.images, p)}; pixels must be finite and in [0, 1]`)
  }
  const l = firstOutside(ds.labels, 0, ds.numClasses - 1)
  if (l >= 0) {
    throw new DataError(`validate: dataset "${ds.name}": label ${l} is ${valueAt(ds.labels, l)}; labels must be integers in [0, ${ds.numClasses})`)
  }
  return ds
}
