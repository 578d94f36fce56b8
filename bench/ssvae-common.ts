/**
 * What the semi-supervised benchmarks share: the data (Fashion-MNIST, grey pixels in [0, 1], flat;
 * the bundled digits when it is not installed), the labelled split (`labelsPerClass` random labels
 * per class from the first 50,000 training images, seeded; the rest of them unlabelled), the
 * supervised-only baseline and the test accuracy of a classifier.
 */
import * as tf from '@tensorflow/tfjs-core'
import { fashionMnist, gen, mnistDigits, module, observe, oneHotCategorical, plate, svi } from 'tfppl'
import type { Dataset, OwnedNetwork } from 'tfppl'

/** A command-line number `--name N`, else `fallback`. @example arg('epochs', 50) */
export const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

/** A command-line list `--name 0,1,2`, else `fallback`. @example list('seeds', [0, 1, 2]) */
export const list = (name: string, fallback: readonly number[]): number[] => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]!.split(',').map(Number) : [...fallback]
}

/** Train and test sets and where they came from. */
export const loadSplits = (): { train: Dataset; test: Dataset; source: string } => {
  try {
    return { ...fashionMnist(), source: 'Fashion-MNIST (60,000 train / 10,000 test)' }
  } catch {
    return { ...mnistDigits(), source: 'the bundled MNIST digits, an 8,000/2,000 train/test split (Fashion-MNIST is not installed: apt-get install -y dataset-fashion-mnist)' }
  }
}

/**
 * The share of `labels` the network's argmax gets right on `x` (batches of 1,000).
 *
 * @example accuracy((x) => net.apply(x), xTest, labels)   // 0.79
 */
export const accuracy = (logits: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor2D, labels: Int32Array): number => {
  let right = 0
  for (let start = 0; start < x.shape[0]; start += 1000) {
    const n = Math.min(1000, x.shape[0] - start)
    const predicted = tf.tidy(() => tf.argMax(logits(tf.slice(x, start, n)), -1).dataSync())
    predicted.forEach((p, i) => { if (p === labels[start + i]) right += 1 })
  }
  return right / x.shape[0]
}

/** The maximum-likelihood classifier: y ~ Cat(softmax(net(x))) observed; no latent, so the ELBO is the log-likelihood. @example classifierModel(m.networks.classifier) */
export const classifierModel = (net: OwnedNetwork) => (x: tf.Tensor, y: tf.Tensor) => gen(function* () {
  const classify = yield* module('classifier', net)
  yield* plate('data', x.shape[0]!, {}, () => gen(function* () { yield* observe('y', oneHotCategorical({ logits: classify(x) }), y) }))
})
/** The classifier's guide: nothing latent. @example svi(…).fit(classifierModel(net), noGuide, [x, y]) */
export const noGuide = (_x: tf.Tensor, _y: tf.Tensor) => gen(function* () { /* no latent */ })
