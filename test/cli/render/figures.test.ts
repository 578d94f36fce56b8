import { PNG } from 'pngjs'
import { describe, expect, it } from 'vitest'
import { classesPng, codebookPng, reconstructionsPng, samplesPng, traversalPng } from '../../../src/cli/render/figures.js'
import { ShapeError } from '../../../src/errors.js'

/** Decodes PNG bytes; `cell(r, c)` reads the gray byte at the top-left pixel of grid cell (r, c) (pad 1, scale 1, 2×2 cells). */
const decode = (bytes: Buffer) => {
  const png = PNG.sync.read(bytes)
  const px = (x: number, y: number): number => png.data[(y * png.width + x) * 4] ?? -1
  const cell = (r: number, c: number): number => px(1 + c * 3, 1 + r * 3)
  return { width: png.width, height: png.height, px, cell }
}

/** `n` constant 2×2 images with the given values. */
const batch = (values: readonly number[]) => ({ data: Float32Array.from(values.flatMap((v) => [v, v, v, v])), height: 2, width: 2 })
const byte = (v: number): number => Math.round(Math.fround(v) * 255) // pixels are float32
const S = { scale: 1 } as const
const MID = 128

describe('figures', () => {
  it('samplesPng tiles up to 64 images into an 8×8 grid, blank past the end', () => {
    const few = decode(samplesPng(batch([0.2, 0.4, 0.6]), S))
    expect([few.width, few.height]).toEqual([8 * 3 + 1, 8 * 3 + 1])
    expect([few.cell(0, 0), few.cell(0, 1), few.cell(0, 2), few.cell(0, 3), few.cell(7, 7)]).toEqual([byte(0.2), byte(0.4), byte(0.6), MID, MID])
    const many = decode(samplesPng(batch(Array.from({ length: 100 }, (_, i) => (i % 10) / 10)), S))
    expect([many.width, many.height]).toEqual([25, 25])
    expect(many.cell(7, 7)).toBe(byte(0.3)) // image 63
  })

  it('reconstructionsPng puts each input left of its output, ceil(sqrt(n)) pairs to a row', () => {
    const inputs = batch([0, 0.1, 0.2, 0.3, 0.4])
    const outputs = batch([0.5, 0.6, 0.7, 0.8, 0.9])
    const img = decode(reconstructionsPng(inputs, outputs, 4, S))
    expect([img.width, img.height]).toEqual([4 * 3 + 1, 2 * 3 + 1])
    expect([0, 1].map((r) => [0, 1, 2, 3].map((c) => img.cell(r, c)))).toEqual([
      [byte(0), byte(0.5), byte(0.1), byte(0.6)],
      [byte(0.2), byte(0.7), byte(0.3), byte(0.8)],
    ])
    const oneRow = decode(reconstructionsPng(inputs, outputs, 3, { ...S, pairsPerRow: 3 }))
    expect([oneRow.width, oneRow.height]).toEqual([6 * 3 + 1, 3 + 1])
    expect(oneRow.cell(0, 5)).toBe(byte(0.7))
  })

  it('reconstructionsPng rejects mismatched image sizes and too few images', () => {
    const small = { data: new Float32Array(9), height: 3, width: 3 }
    expect(() => reconstructionsPng(batch([0]), small, 1)).toThrow(/2×2 and 3×3/)
    expect(() => reconstructionsPng(batch([0, 1]), batch([0, 1]), 3)).toThrow(ShapeError)
  })

  it('traversalPng gives each latent dimension a row; short rows end blank', () => {
    const img = decode(traversalPng([batch([0, 0.5, 1]), batch([0.25])], S))
    expect([img.width, img.height]).toEqual([3 * 3 + 1, 2 * 3 + 1])
    expect([img.cell(0, 0), img.cell(0, 1), img.cell(0, 2), img.cell(1, 0), img.cell(1, 1), img.cell(1, 2)])
      .toEqual([0, byte(0.5), 255, byte(0.25), MID, MID])
  })

  it('classesPng shows class c in row c (class-major input)', () => {
    const img = decode(classesPng(batch([0, 0.01, 0.4, 0.41, 0.8, 0.81]), 3, 2, S))
    expect([img.width, img.height]).toEqual([2 * 3 + 1, 3 * 3 + 1])
    expect([0, 1, 2].map((r) => [img.cell(r, 0), img.cell(r, 1)])).toEqual([
      [0, byte(0.01)], [byte(0.4), byte(0.41)], [byte(0.8), byte(0.81)],
    ])
  })

  it('codebookPng draws each code as a codeShape image, normalised over the codebook', () => {
    // Three 2×2 codes with values 0..11: normalised to v / 11; grid is 2 columns, 2 rows.
    const img = decode(codebookPng(Float32Array.from({ length: 12 }, (_, i) => i), [2, 2], S))
    expect([img.width, img.height]).toEqual([2 * 3 + 1, 2 * 3 + 1])
    expect([img.px(1, 1), img.px(2, 1), img.px(1, 2), img.px(2, 2)]).toEqual([0, 1, 2, 3].map((v) => byte(v / 11)))
    expect(img.px(2, 5)).toBe(255) // last value of code 2, at row 1, column 0
    expect(img.cell(1, 1)).toBe(MID) // no fourth code
    const strip = decode(codebookPng(Float32Array.from([1, 1, 1, 1]), [2], S))
    expect([strip.width, strip.height, strip.px(1, 1)]).toEqual([2 * 3 + 1, 1 * 2 + 1, MID]) // constant → mid-grey
    expect(() => codebookPng(new Float32Array(5), [2, 2])).toThrow(ShapeError)
    expect(() => codebookPng(new Float32Array(8), [2, 2, 2])).toThrow(/rank 1 or 2/)
  })
})
