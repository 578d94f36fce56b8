/**
 * The demo's data file: binarised 28×28 digits, one bit a pixel (row-major,
 * most significant bit first, 98 bytes an image), after a 16-byte header:
 * `TFPD`, then the number of training images, of test images, and the side (28),
 * as little-endian uint32. Written at build time from the bundled MNIST digits,
 * read by the page's worker: nothing is downloaded at run time.
 */

const MAGIC = 0x44504654   // 'TFPD' read as a little-endian uint32
const HEADER = 16

/** Digits as float32 {0, 1} pixels, `side * side` per image. */
export interface Digits {
  readonly train: Float32Array
  readonly test: Float32Array
  readonly nTrain: number
  readonly nTest: number
  readonly side: number
}

const bytesPerImage = (side: number): number => Math.ceil((side * side) / 8)

/**
 * Packs {0, 1} images (anything > 0.5 is 1) into the file's bytes.
 *
 * @example
 * const bytes = encodeDigits({ train, test, nTrain: 4000, nTest: 32, side: 28 })
 */
export const encodeDigits = (d: Digits): Uint8Array => {
  const pixels = d.side * d.side, per = bytesPerImage(d.side)
  if (d.train.length !== d.nTrain * pixels || d.test.length !== d.nTest * pixels) {
    throw new Error(`encodeDigits: expected ${d.nTrain} + ${d.nTest} images of ${pixels} pixels; got ${d.train.length} + ${d.test.length} values`)
  }
  const out = new Uint8Array(HEADER + (d.nTrain + d.nTest) * per)
  const view = new DataView(out.buffer)
  ;[MAGIC, d.nTrain, d.nTest, d.side].forEach((v, i) => view.setUint32(4 * i, v, true))
  ;[d.train, d.test].forEach((set, s) => {
    const first = s === 0 ? 0 : d.nTrain
    for (let i = 0; i < set.length; i++) {
      if (set[i]! > 0.5) {
        const image = first + Math.floor(i / pixels), p = i % pixels
        out[HEADER + image * per + (p >> 3)]! |= 0x80 >> (p & 7)
      }
    }
  })
  return out
}

/**
 * Unpacks the file's bytes into float32 {0, 1} images; a wrong header or size is an error that says what was found.
 *
 * @example
 * const digits = decodeDigits(await (await fetch('digits.bin')).arrayBuffer())
 */
export const decodeDigits = (buffer: ArrayBuffer): Digits => {
  const view = new DataView(buffer)
  if (buffer.byteLength < HEADER || view.getUint32(0, true) !== MAGIC) throw new Error(`decodeDigits: not a digits file (${buffer.byteLength} bytes, no 'TFPD' header)`)
  const [nTrain, nTest, side] = [1, 2, 3].map((i) => view.getUint32(4 * i, true)) as [number, number, number]
  const per = bytesPerImage(side), pixels = side * side
  if (buffer.byteLength !== HEADER + (nTrain + nTest) * per) {
    throw new Error(`decodeDigits: the header announces ${nTrain} + ${nTest} images of ${side}×${side}, ${HEADER + (nTrain + nTest) * per} bytes; the file has ${buffer.byteLength}`)
  }
  const bytes = new Uint8Array(buffer, HEADER)
  const unpack = (first: number, n: number): Float32Array => {
    const out = new Float32Array(n * pixels)
    for (let i = 0; i < out.length; i++) {
      const image = first + Math.floor(i / pixels), p = i % pixels
      out[i] = (bytes[image * per + (p >> 3)]! >> (7 - (p & 7))) & 1
    }
    return out
  }
  return { train: unpack(0, nTrain), test: unpack(nTrain, nTest), nTrain, nTest, side }
}
