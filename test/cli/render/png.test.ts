import { PNG } from 'pngjs'
import { describe, expect, it } from 'vitest'
import { NAN_RGB, encodePng } from '../../../src/cli/render/png.js'
import { imageGrid } from '../../../src/cli/render/grid.js'
import { InvalidArgumentError, ShapeError } from '../../../src/errors.js'

/** Decodes PNG bytes and returns the size and a pixel reader giving `[r, g, b, a]`. */
const decode = (bytes: Buffer) => {
  const png = PNG.sync.read(bytes)
  const at = (x: number, y: number): number[] => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4))
  return { width: png.width, height: png.height, at }
}

const gray = (v: number): number[] => [v, v, v, 255]
const MAGENTA = [...NAN_RGB, 255]
const MID = gray(128)

describe('encodePng', () => {
  it('writes gray values clamped to [0, 1] as bytes, and NaN in the marker colour', () => {
    const img = decode(encodePng({ width: 3, height: 2, gray: Float32Array.from([0, 0.5, 1, -1, 2, NaN]) }))
    expect([img.width, img.height]).toEqual([3, 2])
    expect([img.at(0, 0), img.at(1, 0), img.at(2, 0)]).toEqual([gray(0), gray(128), gray(255)])
    expect([img.at(0, 1), img.at(1, 1), img.at(2, 1)]).toEqual([gray(0), gray(255), MAGENTA])
  })

  it('round-trips RGBA bytes, alpha included', () => {
    const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 128])
    const img = decode(encodePng({ width: 2, height: 1, rgba }))
    expect([img.at(0, 0), img.at(1, 0)]).toEqual([[255, 0, 0, 255], [0, 255, 0, 128]])
  })

  it('rejects a bad size or a pixel array of the wrong length, saying what was expected', () => {
    expect(() => encodePng({ width: 0, height: 1, gray: new Float32Array(0) })).toThrow(InvalidArgumentError)
    expect(() => encodePng({ width: 2, height: 2, gray: new Float32Array(3) })).toThrow(/2×2 image needs 4 gray values, got 3/)
    expect(() => encodePng({ width: 1, height: 1, rgba: new Uint8Array(3) })).toThrow(ShapeError)
  })
})

describe('imageGrid', () => {
  // Five 2×3 images; pixel (y, x) of image k is (k * 6 + y * 3 + x) / 40, so every pixel is distinct.
  const H = 2
  const W = 3
  const value = (k: number, y: number, x: number): number => (k * 6 + y * 3 + x) / 40
  const images = Float32Array.from({ length: 5 * H * W }, (_, i) => value(Math.floor(i / 6), Math.floor((i % 6) / 3), i % 3))

  it('places image k at row floor(k / cols), column k % cols, with padding and nearest-neighbour scaling', () => {
    const g = imageGrid(images, { count: 5, height: H, width: W, rows: 2, cols: 3, pad: 1, scale: 2 })
    expect([g.width, g.height]).toEqual([(3 * (W + 1) + 1) * 2, (2 * (H + 1) + 1) * 2])
    const img = decode(encodePng(g))
    // Image 4 is at row 1, column 1: unscaled top-left (1 + 1 * 4, 1 + 1 * 3) = (5, 4).
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const expected = gray(Math.round(Math.fround(value(4, y, x)) * 255))
        for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
          expect(img.at((5 + x) * 2 + dx, (4 + y) * 2 + dy)).toEqual(expected)
        }
      }
    }
  })

  it('fills padding and empty cells with mid-grey (or padValue)', () => {
    const img = decode(encodePng(imageGrid(images, { count: 5, height: H, width: W, rows: 2, cols: 3, scale: 1 })))
    expect(img.at(0, 0)).toEqual(MID) // border
    expect(img.at(4, 1)).toEqual(MID) // between cells 0 and 1
    expect(img.at(9, 4)).toEqual(MID) // inside the empty cell (row 1, column 2)
    const black = decode(encodePng(imageGrid(images, { count: 1, height: H, width: W, rows: 1, cols: 1, scale: 1, padValue: 0 })))
    expect(black.at(0, 0)).toEqual(gray(0))
  })

  it('with pad 0 and scale 1 is plain concatenation', () => {
    const g = imageGrid(images, { count: 2, height: H, width: W, rows: 1, cols: 2, pad: 0, scale: 1 })
    expect([g.width, g.height]).toEqual([6, 2])
    expect(Array.from(g.gray.subarray(0, 6))).toEqual([0, 1, 2, 6, 7, 8].map((v) => Math.fround(v / 40)))
  })

  it('keeps out-of-range values and NaN; encoding clamps and marks them', () => {
    const odd = Float32Array.from([-0.5, 1.5, NaN, 0.25])
    const g = imageGrid(odd, { count: 1, height: 2, width: 2, rows: 1, cols: 1, pad: 0, scale: 1 })
    expect(Number.isNaN(g.gray[2])).toBe(true)
    const img = decode(encodePng(g))
    expect([img.at(0, 0), img.at(1, 0), img.at(0, 1), img.at(1, 1)]).toEqual([gray(0), gray(255), MAGENTA, gray(64)])
  })

  it('rejects too many images for the grid, too little data, and bad geometry', () => {
    expect(() => imageGrid(images, { count: 5, height: H, width: W, rows: 2, cols: 2 })).toThrow(/5 images do not fit a 2×2 grid/)
    expect(() => imageGrid(images, { count: 6, height: H, width: W, rows: 2, cols: 3 })).toThrow(ShapeError)
    expect(() => imageGrid(images, { count: 1, height: H, width: W, rows: 1, cols: 1, scale: 0 })).toThrow(InvalidArgumentError)
    expect(() => imageGrid(images, { count: 1, height: H, width: W, rows: 1, cols: 1, pad: -1 })).toThrow(InvalidArgumentError)
  })
})
