/**
 * Class fidelity of a trained CVAE run (from `tfppl train cvae`) with a small conv
 * classifier: convEncoder (3×3/2 conv 32, 3×3/2 conv 64, ReLU, dense 10) trained
 * `--epochs` epochs (Adam 1e-3, batch 128) on the real grey training images. It labels
 * 100 class-conditional samples (Bernoulli means) per class. Usage:
 *   npx tsx bench/cvae-fidelity.ts [--run runs/fashion-cvae] [--epochs 2] [--seed 0]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { convEncoder, fashionMnist, initBackend } from 'tfppl'
import { openRun } from '../dist/cli/session.js'

const flag = (name: string, fallback: string): string => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1]! : fallback }
const [run, epochs, seed] = [flag('run', 'runs/fashion-cvae'), Number(flag('epochs', '2')), Number(flag('seed', '0'))]
await initBackend()
const { train, test } = fashionMnist()
const session = await openRun(run)
const net = convEncoder({ channels: 1, outDim: 10, seed: 99 })
const opt = tf.train.adam(1e-3), y = tf.oneHot(train.labels, 10)
for (let e = 0; e < epochs; e++) {
  for (let i = 0; i < 60000; i += 128) {
    tf.tidy(() => {
      const n = Math.min(128, 60000 - i)
      const xb = tf.slice(train.images, i, n), yb = tf.slice(y, i, n)
      opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, net.apply(xb)) as tf.Scalar, false, [...net.variables])
    })
  }
}
const accuracy = (images: tf.Tensor, labels: tf.Tensor): number => tf.tidy(() => {
  let right = 0
  for (let i = 0; i < images.shape[0]!; i += 1000) {
    const n = Math.min(1000, images.shape[0]! - i)
    right += tf.sum(tf.cast(tf.equal(tf.argMax(net.apply(tf.slice(images, i, n)), -1), tf.slice(labels, i, n)), 'float32')).dataSync()[0]!
  }
  return right / images.shape[0]!
})
const classifierAccuracy = accuracy(test.images, test.labels)
const perClass = Array.from({ length: 10 }, (_, k) => tf.tidy(() => accuracy(session.model.sample(100, seed + k + 1, k), tf.fill([100], k, 'int32'))))
const fidelity = perClass.reduce((a, b) => a + b) / 10
console.log(`conv classifier test accuracy ${(100 * classifierAccuracy).toFixed(1)}%; class fidelity ${(100 * fidelity).toFixed(1)}% (per class: ${perClass.map((v) => (100 * v).toFixed(0)).join(' ')})`)
mkdirSync('bench/results', { recursive: true })
writeFileSync('bench/results/fashion-cvae-fidelity-conv.json', JSON.stringify({ run, classifier: 'convEncoder 32-64-10', epochs, classifierAccuracy, fidelity, perClass }, null, 2) + '\n')
session.dispose()
