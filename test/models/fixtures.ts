/** Small synthetic image data for the model tests: two prototypes with pixel noise. */
import * as tf from '@tensorflow/tfjs-core'

/** n binary images of `dim` pixels around two prototypes, with labels 0/1 (seeded). */
export const twoPrototypes = (n: number, dim: number, seed = 1): { x: tf.Tensor2D; labels: tf.Tensor1D } => tf.tidy(() => {
  const labels = tf.cast(tf.less(tf.randomUniform([n], 0, 1, 'float32', seed), 0.5), 'int32') as tf.Tensor1D
  const half = Math.floor(dim / 2)
  const protos = tf.tensor2d([[...Array(half).fill(1), ...Array(dim - half).fill(0)], [...Array(half).fill(0), ...Array(dim - half).fill(1)]])
  const clean = tf.gather(protos, labels)
  const flip = tf.less(tf.randomUniform([n, dim], 0, 1, 'float32', seed + 1), 0.05)
  return { x: tf.where(flip, tf.sub(1, clean), clean) as tf.Tensor2D, labels }
})

/** n random binary 28×28×1 images (seeded). */
export const binaryImages = (n: number, seed = 2): tf.Tensor4D =>
  tf.tidy(() => tf.cast(tf.less(tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', seed), 0.3), 'float32') as tf.Tensor4D)
