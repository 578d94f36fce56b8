/** What the VAE benchmarks share: their training images and the quantiles they report. */
import * as tf from '@tensorflow/tfjs-core'
import { binarize, fashionMnist, flatten, mnistDigits } from 'tfppl'

/**
 * The q-quantile of `xs` (the element at rank ⌊q·n⌋ of the sorted values).
 *
 * @example quantile([3, 1, 2], 0.5)   // 2
 */
export const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

/**
 * Training images (binarised at 0.5, flat) and where they came from: Fashion-MNIST when installed,
 * else the bundled MNIST digits.
 *
 * @example const { x, source } = loadImages()
 */
export const loadImages = (): { x: tf.Tensor2D; source: string } => {
  try {
    const { train } = fashionMnist()
    return { x: tf.tidy(() => binarize.fixed(0.5)(flatten(train)) as tf.Tensor2D), source: 'Fashion-MNIST (60,000 training images)' }
  } catch {
    const { train } = mnistDigits()
    return { x: tf.tidy(() => binarize.fixed(0.5)(flatten(train)) as tf.Tensor2D), source: 'the bundled MNIST digits (Fashion-MNIST is not installed: apt-get install -y dataset-fashion-mnist)' }
  }
}
