/**
 * CVAE on Fashion-MNIST (same protocol as the VAE: binarised at 0.5, MLP 784-400,
 * z 50, Adam 1e-3, batch 128, learned conditional prior), then class fidelity:
 * a small classifier (784-256-10 MLP) trained on the real training images labels
 * class-conditional samples (grey means, and binary draws with a classifier of binarised images). Usage: npx tsx bench/fashion-cvae.ts [--epochs 10] [--seed 0] [--prior conditional|independent]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { binarize, cvae, elbo, fashionMnist, flatten, initBackend, mlp, svi } from 'tfppl'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const [epochs, seed] = [arg('epochs', 10), arg('seed', 0)]
const prior = process.argv.includes('--prior') && process.argv[process.argv.indexOf('--prior') + 1] === 'independent' ? 'independent' : 'conditional'
await initBackend()
const { train, test } = fashionMnist()
const m = cvae({ imageShape: [28, 28, 1], numClasses: 10, zDim: 50, hidden: [400], prior, seed })
const bin = binarize.fixed(0.5)
const [x, c] = m.inputs(bin(train.images) as tf.Tensor4D, train.labels)
const [xt, ct] = m.inputs(bin(test.images) as tf.Tensor4D, test.labels)
const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed })
const h = await s.fit(m.model, m.guide, [x!, c!], { epochs, batchSize: 128, seed, validation: [xt!, ct!], progress: false,
  onEpochEnd: (r) => { console.log(`epoch ${r.epoch}: train ELBO ${(-r.trainLoss).toFixed(2)}, conditional test ELBO ${(-r.validationLoss!).toFixed(2)}`) } })

/** A classifier: 784-256-10 ReLU MLP, softmax cross-entropy, Adam 1e-3, 5 epochs on `images` (the real training images). */
const trainClassifier = (images: tf.Tensor2D): ReturnType<typeof mlp> => {
  const net = mlp({ sizes: [784, 256, 10], activation: 'relu', seed: 99 })
  const opt = tf.train.adam(1e-3), yr = tf.oneHot(train.labels, 10)
  for (let e = 0; e < 5; e++) {
    for (let i = 0; i < 60000; i += 128) {
      tf.tidy(() => {
        const xb = tf.slice(images, i, Math.min(128, 60000 - i)), yb = tf.slice(yr, i, Math.min(128, 60000 - i))
        opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, net.apply(xb)) as tf.Scalar, false, [...net.variables])
      })
    }
  }
  yr.dispose(); opt.dispose()
  return net
}
const accuracy = (net: ReturnType<typeof mlp>, images: tf.Tensor, labels: tf.Tensor): number => tf.tidy(() =>
  tf.mean(tf.cast(tf.equal(tf.argMax(net.apply(images), -1), labels), 'float32')).dataSync()[0]!)

/**
 * Class fidelity, two ways: (grey) a classifier trained on the grey training images labels the
 * samples' Bernoulli means; (binary) one trained on the binarised training images — the data
 * the CVAE models — labels binary samples x ~ Bernoulli(mean).
 */
const fidelityOf = (view: 'grey' | 'binary') => {
  const net = trainClassifier(tf.tidy(() => (view === 'grey' ? flatten(train) : bin(flatten(train))) as tf.Tensor2D))
  const classifierAccuracy = accuracy(net, tf.tidy(() => (view === 'grey' ? flatten(test) : bin(flatten(test)))), test.labels)
  const perClass = Array.from({ length: 10 }, (_, k) => tf.tidy(() => {
    const means = tf.reshape(m.sample(100, seed + k + 1, k), [100, 784])
    const samples = view === 'grey' ? means : tf.cast(tf.less(tf.randomUniform([100, 784], 0, 1, 'float32', seed + 100 + k), means), 'float32')
    return accuracy(net, samples, tf.fill([100], k, 'int32'))
  }))
  const fidelity = perClass.reduce((a, b) => a + b) / 10
  console.log(`${view}: classifier test accuracy ${(100 * classifierAccuracy).toFixed(1)}%; class fidelity of samples ${(100 * fidelity).toFixed(1)}% (per class: ${perClass.map((v) => (100 * v).toFixed(0)).join(' ')})`)
  net.dispose()
  return { classifierAccuracy, fidelity, perClass }
}
const grey = fidelityOf('grey'), binary = fidelityOf('binary')
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/fashion-cvae-${prior}-seed${seed}.json`, JSON.stringify({
  protocol: `fashion-mnist cvae 784-400-50, ${prior} prior`, prior, seed,
  epochs: h.epochs.map((r) => ({ epoch: r.epoch, trainElbo: -r.trainLoss, testElbo: -r.validationLoss!, seconds: r.seconds })),
  grey, binary,
}, null, 2) + '\n')
