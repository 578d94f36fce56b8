/**
 * CVAE on Fashion-MNIST (same protocol as the VAE: binarised at 0.5, MLP 784-400,
 * z 50, Adam 1e-3, batch 128, learned conditional prior), then class fidelity:
 * a small classifier (784-256-10 MLP) trained on the real training images labels
 * class-conditional samples (grey means, and binary draws with a classifier of binarised images). Usage: npx tsx bench/fashion-cvae.ts [--epochs 10] [--seed 0] [--prior conditional|independent] [--fidelity-every N] [--analytic-kl] [--z-dim 50] [--hidden 400[,400…]]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { binarize, cvae, elbo, fashionMnist, flatten, initBackend, mlp, svi } from 'tfppl'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const [epochs, seed, zDim] = [arg('epochs', 10), arg('seed', 0), arg('z-dim', 50)]
const prior = process.argv.includes('--prior') && process.argv[process.argv.indexOf('--prior') + 1] === 'independent' ? 'independent' : 'conditional'
await initBackend()
const { train, test } = fashionMnist()
const hiddenArg = process.argv.indexOf('--hidden')
const hidden = hiddenArg >= 0 ? process.argv[hiddenArg + 1]!.split(',').map(Number) : [400]
const m = cvae({ imageShape: [28, 28, 1], numClasses: 10, zDim, hidden, prior, seed })
const bin = binarize.fixed(0.5)
const [x, c] = m.inputs(bin(train.images) as tf.Tensor4D, train.labels)
const [xt, ct] = m.inputs(bin(test.images) as tf.Tensor4D, test.labels)
const fidelityEvery = arg('fidelity-every', epochs)
const kl = process.argv.includes('--analytic-kl') ? 'auto' as const : 'mc' as const

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
  yr.dispose(); opt.dispose(); images.dispose()
  return net
}
const accuracy = (net: ReturnType<typeof mlp>, images: tf.Tensor, labels: tf.Tensor): number => tf.tidy(() =>
  tf.mean(tf.cast(tf.equal(tf.argMax(net.apply(images), -1), labels), 'float32')).dataSync()[0]!)

/**
 * The two judges, trained before the CVAE: (grey) a classifier of the grey training images labels
 * the samples' Bernoulli means; (binary) one of the binarised training images — the data the CVAE
 * models — labels binary samples x ~ Bernoulli(mean).
 */
const judges = (['grey', 'binary'] as const).map((view) => {
  const net = trainClassifier(tf.tidy(() => (view === 'grey' ? flatten(train) : bin(flatten(train))) as tf.Tensor2D))
  const classifierAccuracy = accuracy(net, tf.tidy(() => (view === 'grey' ? flatten(test) : bin(flatten(test)))), test.labels)
  console.log(`${view} classifier: test accuracy ${(100 * classifierAccuracy).toFixed(1)}%`)
  return { view, net, classifierAccuracy }
})

/** Class fidelity: the share of 100 class-conditional samples per class that the judge assigns to the requested class. */
const fidelityOf = (judge: (typeof judges)[number]) => {
  const perClass = Array.from({ length: 10 }, (_, k) => tf.tidy(() => {
    const means = tf.reshape(m.sample(100, seed + k + 1, k), [100, 784])
    const samples = judge.view === 'grey' ? means : tf.cast(tf.less(tf.randomUniform([100, 784], 0, 1, 'float32', seed + 100 + k), means), 'float32')
    return accuracy(judge.net, samples, tf.fill([100], k, 'int32'))
  }))
  const fidelity = perClass.reduce((a, b) => a + b) / 10
  console.log(`  ${judge.view}: class fidelity of samples ${(100 * fidelity).toFixed(1)}% (per class: ${perClass.map((v) => (100 * v).toFixed(0)).join(' ')})`)
  return { classifierAccuracy: judge.classifierAccuracy, fidelity, perClass }
}

const fidelityByEpoch: { epoch: number, grey: number, binary: number }[] = []
const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo({ kl }), seed })
const h = await s.fit(m.model, m.guide, [x!, c!], { epochs, batchSize: 128, seed, validation: [xt!, ct!], progress: false,
  onEpochEnd: (r) => {
    console.log(`epoch ${r.epoch}: train ELBO ${(-r.trainLoss).toFixed(2)}, conditional test ELBO ${(-r.validationLoss!).toFixed(2)}`)
    if (r.epoch % fidelityEvery === 0 && r.epoch < epochs) {
      const [g, b] = judges.map(fidelityOf)
      fidelityByEpoch.push({ epoch: r.epoch, grey: g!.fidelity, binary: b!.fidelity })
    }
  } })
const [grey, binary] = judges.map(fidelityOf)
fidelityByEpoch.push({ epoch: epochs, grey: grey!.fidelity, binary: binary!.fidelity })
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/fashion-cvae-${prior}${kl === 'auto' ? '-analytic-kl' : ''}${zDim === 50 ? '' : `-z${zDim}`}${hidden.join() === '400' ? '' : `-h${hidden.join('-')}`}${epochs === 10 ? '' : `-${epochs}epochs`}-seed${seed}.json`, JSON.stringify({
  protocol: `fashion-mnist cvae 784-${hidden.join('-')}-${zDim}, ${prior} prior, ${kl === 'auto' ? 'analytic' : 'Monte Carlo'} KL`, prior, kl, seed, zDim, hidden,
  epochs: h.epochs.map((r) => ({ epoch: r.epoch, trainElbo: -r.trainLoss, testElbo: -r.validationLoss!, seconds: r.seconds })),
  grey, binary, fidelityByEpoch,
}, null, 2) + '\n')
