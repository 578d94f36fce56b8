/**
 * Tiling many small gray images into one picture.
 *
 * Layout: cells of `height × width` pixels in a `rows × cols` grid, filled row by
 * row, with `pad` pixels of `padValue` (default 0.5, mid-grey: distinct from both
 * a black background and white strokes) between cells and around the border.
 * Empty cells are filled with `padValue` too. The whole picture is then upscaled
 * by `scale` (nearest neighbour), so the result is
 * `(cols * (width + pad) + pad) * scale` pixels wide and
 * `(rows * (height + pad) + pad) * scale` pixels high.
 * Values are kept as they are (NaN included); {@link encodePng} clamps and marks NaN.
 *
 * @example
 * const g = imageGrid(images, { count: 16, height: 28, width: 28, rows: 4, cols: 4 })
 */
import { InvalidArgumentError, ShapeError } from '../../errors.js'
import type { GrayImage } from './png.js'

/** Geometry of a grid: cell size, grid size, padding, upscale factor and padding value. */
export interface GridLayout {
  readonly height: number
  readonly width: number
  readonly rows: number
  readonly cols: number
  /** Pixels between cells and around the border, before scaling (default 1). */
  readonly pad?: number
  /** Nearest-neighbour upscale factor (default 2). */
  readonly scale?: number
  /** Gray level of padding and empty cells (default 0.5). */
  readonly padValue?: number
}

/** Options of {@link imageGrid}: a {@link GridLayout} plus how many images to take. */
export interface ImageGridOptions extends GridLayout {
  readonly count: number
}

const positiveInt = (name: string, v: number, min = 1): void => {
  if (!Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(`imageGrid: ${name} must be an integer >= ${min}, got ${v}`)
  }
}

/** Blits one cell (or nothing, for an empty cell) into the unscaled canvas. */
const blit = (canvas: Float32Array, canvasWidth: number, cell: Float32Array, x0: number, y0: number, h: number, w: number): void => {
  for (let y = 0; y < h; y++) {
    canvas.set(cell.subarray(y * w, (y + 1) * w), (y0 + y) * canvasWidth + x0)
  }
}

/** Nearest-neighbour upscale of a gray image by an integer factor. */
const upscale = (image: GrayImage, scale: number): GrayImage => {
  if (scale === 1) return image
  const width = image.width * scale
  const height = image.height * scale
  const gray = new Float32Array(width * height)
  for (let y = 0; y < height; y++) {
    const src = Math.floor(y / scale) * image.width
    for (let x = 0; x < width; x++) gray[y * width + x] = image.gray[src + Math.floor(x / scale)] ?? 0
  }
  return { width, height, gray }
}

/**
 * Tiles explicit cells (each `height * width` values, or `undefined` for an empty
 * cell) row by row into a grid; the building block of {@link imageGrid} and of
 * layouts whose rows hold different numbers of images.
 *
 * @throws InvalidArgumentError for a non-integer or non-positive size; ShapeError for too many cells or a wrong cell length.
 * @example
 * tileCells([a, undefined, b], { height: 28, width: 28, rows: 1, cols: 3 })
 */
export const tileCells = (cells: readonly (Float32Array | undefined)[], layout: GridLayout): GrayImage => {
  const { height: h, width: w, rows, cols, pad = 1, scale = 2, padValue = 0.5 } = layout
  for (const [name, v] of [['height', h], ['width', w], ['rows', rows], ['cols', cols], ['scale', scale]] as const) positiveInt(name, v)
  positiveInt('pad', pad, 0)
  if (cells.length > rows * cols) {
    throw new ShapeError(`imageGrid: ${cells.length} images do not fit a ${rows}×${cols} grid`)
  }
  const width = cols * (w + pad) + pad
  const height = rows * (h + pad) + pad
  const gray = new Float32Array(width * height).fill(padValue)
  cells.forEach((cell, i) => {
    if (cell === undefined) return
    if (cell.length !== h * w) throw new ShapeError(`imageGrid: cell ${i} has ${cell.length} values, expected ${h}×${w} = ${h * w}`)
    const x0 = pad + (i % cols) * (w + pad)
    const y0 = pad + Math.floor(i / cols) * (h + pad)
    blit(gray, width, cell, x0, y0, h, w)
  })
  return upscale({ width, height, gray }, scale)
}

/**
 * Splits a flat array of images (`count * height * width` values, image-major,
 * row-major within an image) into per-image views (no copy).
 *
 * @throws ShapeError if the array holds fewer than `count` images.
 * @example
 * splitImages(data, 10, 28, 28).length // 10
 */
export const splitImages = (images: Float32Array, count: number, height: number, width: number): Float32Array[] => {
  const size = height * width
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError(`imageGrid: count must be an integer >= 0, got ${count}`)
  if (images.length < count * size) {
    throw new ShapeError(`imageGrid: ${count} images of ${height}×${width} need ${count * size} values, got ${images.length}`)
  }
  return Array.from({ length: count }, (_, i) => images.subarray(i * size, (i + 1) * size))
}

/**
 * Tiles the first `count` images of `images` (values in [0, 1]; see the module
 * doc for clamping, NaN and padding) into a `rows × cols` grid, row by row.
 *
 * @throws ShapeError if `images` is too short or `count > rows * cols`.
 * @example
 * import { writeFileSync } from 'node:fs'
 * const grid = imageGrid(batch, { count: 64, height: 28, width: 28, rows: 8, cols: 8, scale: 3 })
 * writeFileSync('samples.png', encodePng(grid))
 */
export const imageGrid = (images: Float32Array, options: ImageGridOptions): GrayImage =>
  tileCells(splitImages(images, options.count, options.height, options.width), options)
