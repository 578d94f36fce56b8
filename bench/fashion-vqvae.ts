/**
 * VQ-VAE on Fashion-MNIST (binarised at 0.5; 64 codes of size 16 on a 7×7 grid,
 * codebook learned by its loss term, β = 0.25, Adam 2e-3, batch 64), on the
 * first `--limit` training images. Reports the test reconstruction
 * log-likelihood log p(x | z_q) per image, the bound log p(x | z_q) − 49·log K,
 * and the code perplexity of the last epoch.
 * `--tag t` appends `-t` to the results file's name (e.g. native / stock runs side by side).
 * Usage: npx tsx bench/fashion-vqvae.ts [--epochs 3] [--limit 10000] [--seed 0] [--tag native]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { bernoulli, binarize, elbo, fashionMnist, initBackend, subset, svi, vqVae } from 'tfppl'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const [epochs, limit, seed] = [arg('epochs', 3), arg('limit', 10000), arg('seed', 0)]
const tag = process.argv.includes('--tag') ? `-${process.argv[process.argv.indexOf('--tag') + 1]}` : ''
const info = await initBackend()
const { train, test } = fashionMnist()
const bin = binarize.fixed(0.5)
const x = bin(subset(train, limit).images) as tf.Tensor4D
const xt = bin(subset(test, 2000).images) as tf.Tensor4D
const K = 64
const m = vqVae({ imageShape: [28, 28, 1], numCodes: K, codeDim: 16, seed })
const s = svi({ optimizer: tf.train.adam(2e-3), loss: elbo(), seed, keep: m.keep })
await s.fit(m.model, m.guide, [x], { epochs, batchSize: 64, seed, progress: false, onEpochStart: m.beforeEpoch,
  onStep: ({ batch }) => { const kept = s.takeKept(); m.afterStep(batch, kept); tf.dispose(Object.values(kept)) },
  onEpochEnd: (r) => { console.log(`epoch ${r.epoch}: loss ${r.trainLoss.toFixed(2)} (−bound − VQ terms), perplexity ${m.perplexity().toFixed(1)} of ${K}, ${r.seconds.toFixed(0)} s`) } })
/** log p(x | z_q) per image on 2,000 test images, from the decoder's probabilities (clamped). */
let recon = 0
for (let i = 0; i < 2000; i += 200) {
  recon += tf.tidy(() => {
    const xb = tf.slice(xt, i, 200) as tf.Tensor4D
    const probs = m.reconstruct(xb, tf.zeros([200], 'int32') as tf.Tensor1D)
    return tf.sum(bernoulli({ probs: tf.clipByValue(probs, 1e-6, 1 - 1e-6) }).toEvent(3).logProb(xb)).dataSync()[0]!
  })
}
const reconstruction = recon / 2000
const out = { machine: { backend: info.name, threads: info.threads, native: info.nativeStatus }, protocol: 'fashion-mnist vq-vae, 64 codes × 16, 7×7 grid', seed, limit, epochs, reconstruction, bound: reconstruction - 49 * Math.log(K), perplexity: m.perplexity(), usage: m.usage() }
console.log(`test log p(x | z_q) ${reconstruction.toFixed(2)} nats; bound ${(reconstruction - 49 * Math.log(K)).toFixed(2)}; perplexity ${m.perplexity().toFixed(1)} of ${K}`)
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/fashion-vqvae${limit === 6000 && epochs === 3 ? '' : `-${limit}images-${epochs}epochs`}-seed${seed}${tag}.json`, JSON.stringify(out, null, 2) + '\n')
