/**
 * MNIST-format IDX files (raw or gzipped): the byte-level decoder, a writer,
 * and the loader of an images/labels pair into a {@link Dataset}.
 *
 * The format: a big-endian 4-byte magic number `0x0000TTDD` (`TT` the element
 * type, `08` = unsigned byte; `DD` the number of dims), then one big-endian
 * 4-byte size per dim, then the elements row-major. Images are `0x00000803`
 * (count, rows, cols), labels `0x00000801` (count).
 */
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import * as E from 'fp-ts/lib/Either.js'
import { InvalidArgumentError } from '../errors.js'
import { type Dataset, datasetFromArrays } from './dataset.js'
import { DataError } from './errors.js'

/**
 * What an IDX file holds: 3-dim images or 1-dim labels, both unsigned bytes.
 *
 * @example
 * idx('t10k-labels-idx1-ubyte.gz', 'labels' satisfies IdxKind)
 */
export type IdxKind = 'images' | 'labels'

/**
 * A decoded IDX file. `data` is row-major, `dims` as the header declares them.
 *
 * @example
 * const { kind, dims, data } = idx('train-images-idx3-ubyte.gz')   // 'images', [60000, 28, 28], 47040000 bytes
 */
export interface IdxArray {
  readonly path: string
  readonly kind: IdxKind
  readonly dims: readonly number[]
  readonly data: Uint8Array
}

/**
 * The magic number of each kind: `0x0000` + element type `08` (unsigned byte) + number of dims.
 *
 * @example
 * IDX_MAGIC.images === 0x00000803
 */
export const IDX_MAGIC = { images: 0x00000803, labels: 0x00000801 } as const

const UBYTE = 0x08
const DIMS = { images: 3, labels: 1 } as const
const hex = (m: number): string => `0x${(m >>> 0).toString(16).padStart(8, '0')}`
const describeKind = (k: IdxKind): string =>
  k === 'images' ? `${hex(IDX_MAGIC.images)} (images: unsigned bytes, 3 dims count×rows×cols)` : `${hex(IDX_MAGIC.labels)} (labels: unsigned bytes, 1 dim count)`
const expectedMagic = (k: IdxKind | undefined): string =>
  k === undefined ? `${describeKind('images')} or ${describeKind('labels')}` : describeKind(k)

/** Checks the magic number; the number of dims it declares, or a DataError. */
const checkMagic = (magic: number, file: string, expected: IdxKind | undefined): E.Either<DataError, 1 | 3> => {
  const type = (magic >>> 8) & 0xff, ndims = magic & 0xff
  const fail = (what: string) => E.left(new DataError(`${file}: ${what}`, file))
  if (magic >>> 16 !== 0) return fail(`bad magic number ${hex(magic)} (not an IDX file); expected ${expectedMagic(expected)}`)
  if (type !== UBYTE) return fail(`bad magic number ${hex(magic)} (element type 0x${type.toString(16).padStart(2, '0')}; only 0x08, unsigned bytes, is supported); expected ${expectedMagic(expected)}`)
  const want = expected === undefined ? (ndims === 1 || ndims === 3 ? ndims : undefined) : DIMS[expected]
  if (ndims !== want) {
    const wanted = want === undefined ? '1 (labels) or 3 (images)' : `${want} (${expected}; magic ${hex(IDX_MAGIC[expected ?? 'images'])})`
    return fail(`wrong number of dims: magic number ${hex(magic)} declares ${ndims} dims; expected ${wanted}`)
  }
  return E.right(want)
}

/**
 * Decodes the bytes of an (already gunzipped) IDX file: checks the magic
 * number, the number of dims, and the declared dims against the byte length.
 * `file` names the file in messages; `expected` restricts the kind.
 *
 * @example
 * const r = parseIdx(bytes, 'labels.idx', 'labels')
 * if (E.isRight(r)) console.log(r.right.dims)   // [10000]
 */
export const parseIdx = (bytes: Uint8Array, file: string, expected?: IdxKind): E.Either<DataError, IdxArray> => {
  if (bytes.length < 4) return E.left(new DataError(`${file}: truncated: ${bytes.length} bytes, shorter than the 4-byte magic number; expected ${expectedMagic(expected)}`, file))
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint32(0, false)
  return E.flatMap(checkMagic(magic, file, expected), (ndims) => {
    const header = 4 + 4 * ndims
    if (bytes.length < header) {
      return E.left(new DataError(`${file}: truncated: ${bytes.length} bytes, shorter than the ${header}-byte header (magic number and ${ndims} dims)`, file))
    }
    const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false))
    const expectedBytes = header + dims.reduce((a, b) => a * b, 1)
    const shape = `[${dims.join(', ')}]`
    if (bytes.length < expectedBytes) {
      return E.left(new DataError(`${file}: truncated: dims ${shape} need ${expectedBytes} bytes (${header}-byte header + ${expectedBytes - header} data bytes) but the file has ${bytes.length}`, file))
    }
    if (bytes.length > expectedBytes) {
      return E.left(new DataError(`${file}: ${bytes.length - expectedBytes} trailing bytes: dims ${shape} need exactly ${expectedBytes} bytes (${header}-byte header + ${expectedBytes - header} data bytes) but the file has ${bytes.length}`, file))
    }
    const kind: IdxKind = ndims === 3 ? 'images' : 'labels'
    return E.right({ path: file, kind, dims, data: bytes.subarray(header, expectedBytes) })
  })
}

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
 * Encodes unsigned bytes as an IDX file (the inverse of {@link parseIdx});
 * gzip the result with `zlib.gzipSync` for a `.gz` file.
 *
 * @example
 * writeFileSync('labels-idx1-ubyte', encodeIdx('labels', [3], Uint8Array.from([0, 1, 2])))
 */
export const encodeIdx = (kind: IdxKind, dims: readonly number[], data: Uint8Array): Uint8Array => {
  const size = dims.reduce((a, b) => a * b, 1)
  if (dims.length !== DIMS[kind] || dims.some((d) => !Number.isInteger(d) || d < 0 || d > 0xffffffff) || size !== data.length) {
    throw new InvalidArgumentError(`encodeIdx: ${kind} need ${DIMS[kind]} non-negative integer dims whose product is the data length ${data.length}; got [${dims.join(', ')}]`)
  }
  const out = new Uint8Array(4 + 4 * dims.length + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, IDX_MAGIC[kind], false)
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false))
  out.set(data, 4 + 4 * dims.length)
  return out
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
