/**
 * The MNIST-format IDX codec, on bytes (no files: it runs anywhere, a browser
 * too): the decoder and the writer. Reading files is `idx.ts` (Node).
 *
 * The format: a big-endian 4-byte magic number `0x0000TTDD` (`TT` the element
 * type, `08` = unsigned byte; `DD` the number of dims), then one big-endian
 * 4-byte size per dim, then the elements row-major. Images are `0x00000803`
 * (count, rows, cols), labels `0x00000801` (count).
 */
import * as E from 'fp-ts/lib/Either.js'
import { InvalidArgumentError } from '../errors.js'
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
