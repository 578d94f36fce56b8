/**
 * Labels: one-hot encoding and the class names of the bundled datasets.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, showShape } from '../errors.js'
import { DataError } from './errors.js'

/**
 * Class names of the MNIST digits: `DIGIT_CLASSES[label]`.
 *
 * @example
 * DIGIT_CLASSES[7]   // '7'
 */
export const DIGIT_CLASSES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])

/**
 * Class names of Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): `FASHION_MNIST_CLASSES[label]`.
 *
 * @example
 * FASHION_MNIST_CLASSES[9]   // 'Ankle boot'
 */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
])

/**
 * One-hot encoding of int32 labels `[n]` as float32 `[n, numClasses]` (a new
 * tensor the caller owns). A label outside `[0, numClasses)` is a
 * {@link DataError} naming its index and value (tfjs would silently give a row
 * of zeros).
 *
 * @example
 * const y = oneHot(train.labels, train.numClasses)   // [8000, 10]
 */
export const oneHot = (labels: tf.Tensor1D, numClasses: number): tf.Tensor2D => {
  if (labels.rank !== 1 || labels.dtype !== 'int32') {
    throw new InvalidArgumentError(`oneHot: labels must be an int32 tensor [n]; got ${labels.dtype} ${showShape(labels.shape)}`)
  }
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new InvalidArgumentError(`oneHot: numClasses must be an integer ≥ 2; got ${numClasses}`)
  }
  const values = labels.dataSync()
  const bad = values.findIndex((v) => v < 0 || v >= numClasses)
  if (bad >= 0) throw new DataError(`oneHot: label ${bad} is ${values[bad]}; expected labels in [0, ${numClasses})`)
  // int32 then cast: the wasm backend's OneHot kernel ignores a float32 dtype (it writes the int bits).
  return tf.tidy(() => tf.cast(tf.oneHot(labels, numClasses), 'float32')) as tf.Tensor2D
}
