/**
 * Datasets as typed, validated tensors: the bundled MNIST digits, Fashion-MNIST
 * and any MNIST-format IDX pair, binarisation, one-hot labels, subsets and
 * validation. Errors are {@link DataError}s naming the file or dataset.
 *
 * @example
 * import { mnistDigits, flatten, binarize } from 'tfppl'
 * const { train, test } = mnistDigits()
 * const x = flatten(train), xb = binarize.fixed()(x)
 */
export { DataError } from './errors.js'
export { type Dataset, type DatasetParts, type ImageShape, datasetFromArrays, flatten, makeDataset, subset, validate } from './dataset.js'
export { IDX_MAGIC, type IdxArray, type IdxDatasetOptions, type IdxKind, encodeIdx, idx, idxDataset, parseIdx } from './idx.js'
export { MNIST_DIGITS_SPLIT_SEED, type MnistDigitsOptions, mnistDigits } from './mnist-digits.js'
export { FASHION_MNIST_DIR, FASHION_MNIST_FILES, type FashionMnistOptions, fashionMnist } from './fashion-mnist.js'
export { type Binarizer, binarize } from './binarize.js'
export { DIGIT_CLASSES, FASHION_MNIST_CLASSES, oneHot } from './labels.js'
export { SEMI_SUPERVISED_POOL, type LabelledSplit, type LabelledSplitOptions, chooseLabelled, labelledSplit } from './labelled-split.js'
