/**
 * The data module's host-independent half (the browser's): datasets from
 * arrays, subsets and validation, the IDX byte codec, binarisation, one-hot
 * labels, labelled splits. Reading files — IDX files, the bundled MNIST digits,
 * Fashion-MNIST — is `node.ts`. Errors are {@link DataError}s.
 *
 * @example
 * import { datasetFromArrays, flatten, binarize } from 'tfppl'
 * const ds = datasetFromArrays('mine', pixels, [28, 28], labels, 10)
 * const x = flatten(ds), xb = binarize.fixed()(x)
 */
export { DataError } from './errors.js'
export { type Dataset, type DatasetParts, type ImageShape, datasetFromArrays, flatten, makeDataset, subset, validate } from './dataset.js'
export { type IdxArray, type IdxKind, encodeIdx, parseIdx } from './idx-codec.js'
export { type Binarizer, binarize } from './binarize.js'
export { DIGIT_CLASSES, FASHION_MNIST_CLASSES, oneHot } from './labels.js'
export { type LabelledSplit, type LabelledSplitOptions, labelledSplit } from './labelled-split.js'
