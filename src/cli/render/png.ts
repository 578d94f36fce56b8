/**
 * PNG encoding of in-memory images: 8-bit RGBA bytes or gray levels in [0, 1].
 *
 * Gray values are clamped to [0, 1] (so ±Infinity becomes white or black) and
 * mapped to 0..255; NaN is drawn in the marker colour {@link NAN_RGB} (magenta),
 * so a diverging model shows up in its pictures instead of as plain black.
 *
 * @example
 * const png = encodePng({ width: 2, height: 1, gray: new Float32Array([0, 1]) })
 */
import { PNG } from 'pngjs'
import { InvalidArgumentError, ShapeError } from '../../errors.js'

/** An RGBA image: `rgba` holds `width * height * 4` bytes, row-major. */
export interface RgbaImage {
  readonly width: number
  readonly height: number
  readonly rgba: Uint8Array
}

/** A gray image: `gray` holds `width * height` values in [0, 1] (clamped; NaN is marked), row-major. */
export interface GrayImage {
  readonly width: number
  readonly height: number
  readonly gray: Float32Array
}

/** The colour a NaN gray value is drawn in: magenta `[255, 0, 255]`, absent from any gray ramp. */
export const NAN_RGB: readonly [number, number, number] = [255, 0, 255]

/**
 * Maps a gray value to a byte: clamped to [0, 1], scaled to 0..255 and rounded.
 * NaN is not handled here (see {@link NAN_RGB}).
 *
 * @example
 * grayByte(0.5) // 128
 */
export const grayByte = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 255)

const checkSize = (width: number, height: number): void => {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidArgumentError(`encodePng: width and height must be positive integers, got ${width}×${height}`)
  }
}

/**
 * Turns a gray image into RGBA bytes (opaque), marking NaN with {@link NAN_RGB}.
 *
 * @example
 * grayToRgba({ width: 1, height: 1, gray: new Float32Array([NaN]) }).rgba // [255, 0, 255, 255]
 */
export const grayToRgba = (image: GrayImage): RgbaImage => {
  const { width, height, gray } = image
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0; i < width * height; i++) {
    const v = gray[i] ?? Number.NaN
    const [r, g, b] = Number.isNaN(v) ? NAN_RGB : [grayByte(v), grayByte(v), grayByte(v)]
    rgba.set([r, g, b, 255], i * 4)
  }
  return { width, height, rgba }
}

/**
 * Encodes an image as a PNG file's bytes. Gray images are written as 8-bit RGB
 * (so NaN markers keep their colour), RGBA images as 8-bit RGBA.
 *
 * @throws InvalidArgumentError if the size is not a positive integer pair.
 * @throws ShapeError if the pixel array's length does not match the size.
 * @example
 * import { writeFileSync } from 'node:fs'
 * writeFileSync('dot.png', encodePng({ width: 1, height: 1, rgba: new Uint8Array([255, 0, 0, 255]) }))
 */
export const encodePng = (image: RgbaImage | GrayImage): Buffer => {
  const { width, height } = image
  checkSize(width, height)
  const isGray = 'gray' in image
  const expected = width * height * (isGray ? 1 : 4)
  const actual = isGray ? image.gray.length : image.rgba.length
  if (actual !== expected) {
    const what = isGray ? 'gray values' : 'RGBA bytes'
    throw new ShapeError(`encodePng: a ${width}×${height} image needs ${expected} ${what}, got ${actual}`)
  }
  const rgba = isGray ? grayToRgba(image).rgba : image.rgba
  const png = new PNG({ width, height })
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength)
  return PNG.sync.write(png, { colorType: isGray ? 2 : 6, inputColorType: 6, inputHasAlpha: true })
}
