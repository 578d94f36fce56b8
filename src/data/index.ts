/**
 * Datasets as typed, validated tensors: the bundled MNIST digits, Fashion-MNIST
 * and any MNIST-format IDX pair, binarisation, one-hot labels, subsets and
 * validation. Errors are {@link DataError}s naming the file or dataset. This
 * barrel is both halves: `core.ts` (runs anywhere) and `node.ts` (reads files).
 *
 * @example
 * import { mnistDigits, flatten, binarize } from 'tfppl'
 * const { train, test } = mnistDigits()
 * const x = flatten(train), xb = binarize.fixed()(x)
 */
export * from './core.js'
export * from './node.js'
