/**
 * The PNG figures the `tfppl` command writes for image models: samples,
 * reconstructions, latent traversals, per-class samples and VQ codebooks.
 * Each returns the PNG file's bytes; layout conventions are those of
 * {@link imageGrid} (mid-grey padding, NaN in magenta).
 *
 * @example
 * writeFileSync('samples.png', samplesPng({ data, height: 28, width: 28 }))
 */
import { InvalidArgumentError, ShapeError } from '../../errors.js'
import { splitImages, tileCells } from './grid.js'
import { encodePng } from './png.js'

/** A batch of gray images: `data` holds `n * height * width` values in [0, 1], image-major. */
export interface ImageBatch {
  readonly data: Float32Array
  readonly height: number
  readonly width: number
}

/** Padding and upscale options shared by the figures (defaults: pad 1, scale 2, padValue 0.5). */
export interface FigureOptions {
  readonly pad?: number
  readonly scale?: number
  readonly padValue?: number
}

const countOf = (batch: ImageBatch): number => Math.floor(batch.data.length / (batch.height * batch.width))

const cellsOf = (batch: ImageBatch, count = countOf(batch)): Float32Array[] =>
  splitImages(batch.data, count, batch.height, batch.width)

const sameSize = (what: string, a: ImageBatch, b: ImageBatch): void => {
  if (a.height !== b.height || a.width !== b.width) {
    throw new ShapeError(`${what}: images are ${a.height}×${a.width} and ${b.height}×${b.width}; they must match`)
  }
}

/**
 * An 8×8 grid of the first (up to) 64 images of `batch`; cells past the end are left blank.
 *
 * @example
 * const png = samplesPng({ data: decoded, height: 28, width: 28 }, { scale: 3 })
 */
export const samplesPng = (batch: ImageBatch, options: FigureOptions = {}): Buffer => {
  const cells = cellsOf(batch, Math.min(64, countOf(batch)))
  return encodePng(tileCells(cells, { ...options, height: batch.height, width: batch.width, rows: 8, cols: 8 }))
}

/**
 * The first `n` inputs next to their reconstructions: each pair is `input | output`,
 * `pairsPerRow` pairs to a row (default `ceil(sqrt(n))`, a roughly square picture).
 *
 * @throws ShapeError if inputs and outputs differ in image size or hold fewer than `n` images.
 * @example
 * const png = reconstructionsPng(xs, xHats, 16) // 4 rows of 4 pairs
 */
export const reconstructionsPng = (inputs: ImageBatch, outputs: ImageBatch, n: number, options: FigureOptions & { readonly pairsPerRow?: number } = {}): Buffer => {
  sameSize('reconstructionsPng', inputs, outputs)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`reconstructionsPng: n must be an integer >= 1, got ${n}`)
  const xs = cellsOf(inputs, n)
  const ys = cellsOf(outputs, n)
  const pairsPerRow = options.pairsPerRow ?? Math.ceil(Math.sqrt(n))
  const cells = xs.flatMap((x, i) => [x, ys[i]])
  const rows = Math.ceil(n / pairsPerRow)
  return encodePng(tileCells(cells, { ...options, height: inputs.height, width: inputs.width, rows, cols: 2 * pairsPerRow }))
}

/**
 * A latent traversal: row `i` shows the images decoded while latent dimension `i`
 * is varied (rows may hold different numbers of images; short rows end blank).
 *
 * @throws ShapeError if the rows' image sizes differ.
 * @example
 * const png = traversalPng(dims.map((d) => ({ data: decodeAlong(d), height: 28, width: 28 })))
 */
export const traversalPng = (rows: readonly ImageBatch[], options: FigureOptions = {}): Buffer => {
  const first = rows[0]
  if (first === undefined) throw new InvalidArgumentError('traversalPng: needs at least one row')
  rows.forEach((r) => sameSize('traversalPng', first, r))
  const perRow = rows.map((r) => cellsOf(r))
  const cols = Math.max(1, ...perRow.map((r) => r.length))
  const cells = perRow.flatMap((r) => Array.from({ length: cols }, (_, j) => r[j]))
  return encodePng(tileCells(cells, { ...options, height: first.height, width: first.width, rows: rows.length, cols }))
}

/**
 * Samples by class: `batch` holds `numClasses * perClass` images in class-major
 * order (all of class 0, then class 1, …); row `c` shows class `c`.
 *
 * @throws ShapeError if `batch` holds fewer than `numClasses * perClass` images.
 * @example
 * const png = classesPng({ data: byClass, height: 28, width: 28 }, 10, 8) // 10 rows of 8
 */
export const classesPng = (batch: ImageBatch, numClasses: number, perClass: number, options: FigureOptions = {}): Buffer => {
  for (const [name, v] of [['numClasses', numClasses], ['perClass', perClass]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`classesPng: ${name} must be an integer >= 1, got ${v}`)
  }
  const cells = cellsOf(batch, numClasses * perClass)
  return encodePng(tileCells(cells, { ...options, height: batch.height, width: batch.width, rows: numClasses, cols: perClass }))
}

/**
 * A VQ codebook: `codes` holds `K` code vectors of `prod(codeShape)` values each;
 * each is drawn as a small `codeShape` image (`[d]` is drawn as a 1×d strip),
 * min-max normalised over the whole codebook so codes compare, in a square-ish grid.
 * A constant codebook is drawn mid-grey.
 *
 * @throws ShapeError if `codes.length` is not a multiple of the code size, or `codeShape` has rank > 2.
 * @example
 * const png = codebookPng(embeddings, [8, 8], { scale: 4 }) // K codes of dimension 64
 */
export const codebookPng = (codes: Float32Array, codeShape: readonly number[], options: FigureOptions = {}): Buffer => {
  if (codeShape.length < 1 || codeShape.length > 2) throw new ShapeError(`codebookPng: codeShape must have rank 1 or 2, got [${codeShape.join(', ')}]`)
  const [height, width] = codeShape.length === 1 ? [1, codeShape[0] ?? 0] : [codeShape[0] ?? 0, codeShape[1] ?? 0]
  const size = height * width
  if (size < 1 || codes.length === 0 || codes.length % size !== 0) {
    throw new ShapeError(`codebookPng: ${codes.length} values are not a whole number of codes of shape [${codeShape.join(', ')}]`)
  }
  const normalised = normalise(codes)
  const k = codes.length / size
  const cols = Math.ceil(Math.sqrt(k))
  const cells = splitImages(normalised, k, height, width)
  return encodePng(tileCells(cells, { ...options, height, width, rows: Math.ceil(k / cols), cols }))
}

/** Min-max normalisation to [0, 1] over the finite values (NaN stays NaN; constant → 0.5). */
const normalise = (v: Float32Array): Float32Array => {
  let lo = Infinity
  let hi = -Infinity
  for (const x of v) if (Number.isFinite(x)) { lo = Math.min(lo, x); hi = Math.max(hi, x) }
  const span = hi - lo
  return v.map((x) => (Number.isNaN(x) ? x : span > 0 ? (x - lo) / span : 0.5))
}
