/**
 * MNIST-format IDX files (raw or gzipped) read from disk with Node's modules,
 * and the loader of an images/labels pair into a {@link Dataset}. The byte
 * codec (`parseIdx`, `encodeIdx`) is `idx-codec.ts`, which runs anywhere.
 */
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import * as E from 'fp-ts/lib/Either.js'
import { InvalidArgumentError } from '../errors.js'
import { type Dataset, datasetFromArrays } from './dataset.js'
import { DataError } from './errors.js'
import { type IdxArray, type IdxKind, parseIdx } from './idx-codec.js'

export { IDX_MAGIC, type IdxArray, type IdxKind, encodeIdx, parseIdx } from './idx-codec.js'

/** The OS error code of a Node error, or undefined. */
const errno = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Reads a file, gunzipping it when it starts with the gzip magic bytes (whatever its name). */
const readMaybeGzipped = (path: string): Uint8Array => {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (e) {
    const code = errno(e)
    throw new DataError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code ?? String(e)})`, path)
  }
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes
  try {
    return gunzipSync(bytes)
  } catch (e) {
    throw new DataError(`${path}: starts like gzip but does not decompress (${e instanceof Error ? e.message : String(e)}); expected a complete gzipped IDX file`, path)
  }
}

/**
 * Reads an MNIST-format IDX file, raw or gzipped (detected from its first
 * bytes, whatever the name). Checks the magic number (`0x00000803` images,
 * `0x00000801` labels, or just the given `expected` kind), the number of
 * dims, and the declared dims against the byte length; a {@link DataError}
 * naming the file, what was wrong and what was expected otherwise.
 *
 * @example
 * const { dims, data } = idx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz', 'labels')
 * // dims [10000], data a Uint8Array of 10000 labels
 */
export const idx = (path: string, expected?: IdxKind): IdxArray => {
  const r = parseIdx(readMaybeGzipped(path), path, expected)
  if (E.isLeft(r)) throw r.left
  return r.right
}

/**
 * Options of {@link idxDataset}.
 *
 * @example
 * idxDataset('imgs.gz', 'labels.gz', 'letters', { numClasses: 26 })
 */
export interface IdxDatasetOptions {
  /** The number of classes; every label must be below it (default 10). */
  readonly numClasses?: number
  /** Names of the classes, one per class. */
  readonly classNames?: readonly string[]
}

/** Labels as int32, each checked to lie in [0, numClasses). */
const labelsOf = (labels: IdxArray, numClasses: number): Int32Array => {
  const out = new Int32Array(labels.data.length)
  labels.data.forEach((v, i) => {
    if (v >= numClasses) throw new DataError(`${labels.path}: label ${i} is ${v}; expected labels in [0, ${numClasses})`, labels.path)
    out[i] = v
  })
  return out
}

/** Pixels as float32 in [0, 1]: byte / 255. */
const pixelsOf = (images: IdxArray): Float32Array => {
  const table = Float32Array.from({ length: 256 }, (_, v) => v / 255)
  const src = images.data, out = new Float32Array(src.length)
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!
  return out
}

/**
 * A {@link Dataset} from any MNIST-format pair of IDX files (raw or gzipped):
 * pixels scaled to [0, 1] (byte / 255), labels checked against `numClasses`.
 * A {@link DataError} when a file is malformed or the image and label counts
 * disagree.
 *
 * @example
 * const ds = idxDataset('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'mnist/test')
 */
export const idxDataset = (imagesPath: string, labelsPath: string, name: string, opts: IdxDatasetOptions = {}): Dataset => {
  const numClasses = opts.numClasses ?? 10
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    throw new InvalidArgumentError(`idxDataset "${name}": numClasses must be an integer in [1, 256]; got ${numClasses}`)
  }
  const images = idx(imagesPath, 'images')
  const labels = idx(labelsPath, 'labels')
  const [count, rows, cols] = images.dims as readonly [number, number, number]
  if (count !== labels.dims[0]) {
    throw new DataError(`idxDataset "${name}": ${imagesPath} has ${count} images but ${labelsPath} has ${labels.dims[0]} labels; expected the same count`, labelsPath)
  }
  return datasetFromArrays(name, pixelsOf(images), [rows, cols], labelsOf(labels, numClasses), numClasses, opts.classNames)
}
