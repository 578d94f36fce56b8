/**
 * Binarisation of grey-level images in [0, 1] into {0, 1} pixels, for
 * Bernoulli likelihoods.
 */
import * as tf from '@tensorflow/tfjs-core'
import { subSeed } from '../backend/seed.js'
import { InvalidArgumentError, showShape } from '../errors.js'

/**
 * A function from float32 images in [0, 1] to float32 {0, 1} images of the same shape (a new tensor the caller owns).
 *
 * @example
 * const bin: Binarizer = binarize.fixed()
 */
export type Binarizer = <T extends tf.Tensor>(images: T) => T

const checkImages = (where: string, images: tf.Tensor): void => {
  if (images.dtype !== 'float32') throw new InvalidArgumentError(`${where}: images must be float32 in [0, 1]; got ${images.dtype} ${showShape(images.shape)}`)
}

/**
 * Fixed binarisation: a pixel becomes 1 when it is strictly greater than
 * `threshold` (default 0.5), else 0. Deterministic.
 *
 * @example
 * const xb = binarize.fixed()(train.images)   // {0, 1} float32 [n, 28, 28, 1]
 */
const fixed = (threshold = 0.5): Binarizer => {
  if (!(threshold >= 0 && threshold <= 1)) throw new InvalidArgumentError(`binarize.fixed: threshold must be in [0, 1]; got ${threshold}`)
  return <T extends tf.Tensor>(images: T): T => {
    checkImages('binarize.fixed', images)
    return tf.tidy(() => tf.cast(tf.greater(images, threshold), 'float32')) as T
  }
}

/**
 * Dynamic (stochastic) binarisation, as in Salakhutdinov & Murray (2008) and
 * Burda, Grosse & Salakhutdinov (2016, IWAE): each pixel is a fresh draw from
 * Bernoulli(pixel intensity), so the model sees a new binary dataset every
 * epoch, which reduces overfitting.
 *
 * The returned function draws afresh on every call: its `k`-th call uses
 * sub-seed `k` of `seed`, so a new `binarize.dynamic(seed)` with the same seed
 * repeats the same sequence of draws. Either keep one binarizer for a run, or
 * make one per epoch with an epoch-dependent seed (`binarize.dynamic(epoch)`).
 *
 * @example
 * const bin = binarize.dynamic(runSeed)
 * for (let epoch = 0; epoch < 10; epoch++) { const xb = bin(x); await s.fit(model, guide, xb, { epochs: 1, initialEpoch: epoch }); xb.dispose() }
 */
const dynamic = (seed: number): Binarizer => {
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`binarize.dynamic: seed must be an integer; got ${seed}`)
  let calls = 0
  return <T extends tf.Tensor>(images: T): T => {
    checkImages('binarize.dynamic', images)
    const s = subSeed(seed, calls++)
    return tf.tidy(() => tf.cast(tf.less(tf.randomUniform(images.shape, 0, 1, 'float32', s), images), 'float32')) as T
  }
}

/**
 * Binarisers: `binarize.fixed(threshold)` and `binarize.dynamic(seed)`.
 *
 * @example
 * const x = flatten(train), xb = binarize.fixed(0.5)(x)   // [n, 784] in {0, 1}
 * x.dispose()
 */
export const binarize = { fixed, dynamic } as const
