/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60,000 train and 10,000 test
 * 28×28 grey images of clothing in 10 classes, read from local IDX files.
 * Nothing is downloaded: on Debian/Ubuntu the package `dataset-fashion-mnist`
 * installs the four files in {@link FASHION_MNIST_DIR}.
 */
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Dataset } from './dataset.js'
import { DataError } from './errors.js'
import { idxDataset } from './idx.js'
import { FASHION_MNIST_CLASSES } from './labels.js'

/**
 * Where the Debian package `dataset-fashion-mnist` installs the files.
 *
 * @example
 * fashionMnist({ dir: FASHION_MNIST_DIR })
 */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist'

/**
 * The four files, by their standard names (as the Debian package installs
 * them, each with a `.gz` suffix; an uncompressed copy without it also works).
 *
 * @example
 * FASHION_MNIST_FILES.trainImages   // 'train-images-idx3-ubyte'
 */
export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const

type FileKey = keyof typeof FASHION_MNIST_FILES

/**
 * Options of {@link fashionMnist}.
 *
 * @example
 * fashionMnist({ dir: '/data/fashion' })
 */
export interface FashionMnistOptions {
  /** The directory holding the four files (default {@link FASHION_MNIST_DIR}). */
  readonly dir?: string
}

const isDir = (dir: string): boolean => { try { return statSync(dir).isDirectory() } catch { return false } }

/** `<dir>/<name>.gz`, else `<dir>/<name>`, else undefined. */
const locate = (dir: string, name: string): string | undefined =>
  [join(dir, `${name}.gz`), join(dir, name)].find((p) => existsSync(p))

/** The paths of the four files, or a DataError saying where we looked and how to install them. */
const locateAll = (dir: string): Record<FileKey, string> => {
  const keys = Object.keys(FASHION_MNIST_FILES) as FileKey[]
  const found = keys.map((k) => [k, locate(dir, FASHION_MNIST_FILES[k])] as const)
  const missing = found.filter(([, p]) => p === undefined).map(([k]) => `${FASHION_MNIST_FILES[k]}.gz`)
  if (missing.length > 0) {
    const what = isDir(dir) ? `missing ${missing.join(', ')} (looked for each with and without .gz)` : 'the directory does not exist'
    throw new DataError(
      `fashionMnist: Fashion-MNIST not found in ${dir}: ${what}. ` +
      `Install it with \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu; the files go to ${FASHION_MNIST_DIR}), ` +
      `or pass { dir } naming a directory with the four files ${keys.map((k) => `${FASHION_MNIST_FILES[k]}.gz`).join(', ')}`, dir)
  }
  return Object.fromEntries(found) as Record<FileKey, string>
}

/**
 * Fashion-MNIST as `{ train, test }` {@link Dataset}s (60,000 / 10,000 images
 * `[n, 28, 28, 1]`, pixels byte / 255, labels 0–9 with
 * {@link FASHION_MNIST_CLASSES} as class names), from the four standard IDX
 * files in `dir`, gzipped or not. A {@link DataError} when files are missing
 * (saying where it looked and how to install them) or malformed.
 *
 * @example
 * const { train, test } = fashionMnist()   // after `apt-get install dataset-fashion-mnist`
 * const x = flatten(train)                 // [60000, 784]
 */
export const fashionMnist = (opts: FashionMnistOptions = {}): { readonly train: Dataset; readonly test: Dataset } => {
  const files = locateAll(opts.dir ?? FASHION_MNIST_DIR)
  const o = { numClasses: 10, classNames: FASHION_MNIST_CLASSES }
  const train = idxDataset(files.trainImages, files.trainLabels, 'fashion-mnist/train', o)
  try {
    return { train, test: idxDataset(files.testImages, files.testLabels, 'fashion-mnist/test', o) }
  } catch (e) {
    train.dispose()
    throw e
  }
}
