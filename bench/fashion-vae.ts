/**
 * The quality protocol on Fashion-MNIST (60k/10k): pixels/255 binarised at 0.5,
 * MLP 784-400-50 softplus, Bernoulli likelihood on logits, Adam 1e-3, batch 128,
 * one particle, Monte Carlo KL. Reports the test ELBO after each epoch and, at
 * the end, IWAE (K samples) on the first N test images. `--conv` trains the conv VAE
 * of the speed benches instead (`vae({ conv: true, zDim: 16 })` on [N, 28, 28, 1] images;
 * `--init` does not apply) and names its results file by the backend (native / stock). Usage:
 *   npx tsx bench/fashion-vae.ts [--epochs 10] [--seed 0] [--iwae 500] [--n 1000] [--init fanIn|glorot] [--scale softplus|exp] [--eps 1e-7] [--conv]
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { binarize, elbo, fashionMnist, flatten, initBackend, logMarginal, svi, vae } from 'tfppl'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const [epochs, seed, K, N, eps] = [arg('epochs', 10), arg('seed', 0), arg('iwae', 500), arg('n', 1000), arg('eps', 1e-7)]
const flag = (name: string): string | undefined => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : undefined)
const init = flag('init') === 'glorot' ? 'glorot' : 'fanIn'
const scaleLink = flag('scale') === 'exp' ? 'exp' : 'softplus'
const conv = process.argv.includes('--conv')
const info = await initBackend()
const { train, test } = fashionMnist()
const bin = binarize.fixed(0.5)
const images = (d: typeof train): tf.Tensor => (conv ? d.images : flatten(d))
const xTrain = tf.tidy(() => bin(images(train))), xTest = tf.tidy(() => bin(images(test)))
const m = conv
  ? vae({ imageShape: [28, 28, 1], conv: true, zDim: 16, scaleLink, seed })
  : vae({ xDim: 784, zDim: 50, hidden: [400], activation: 'softplus', init, scaleLink, seed })
const s = svi({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, eps), loss: elbo(), seed })

/** Test ELBO per image (nats), over the whole test set in chunks. */
const testElbo = async (): Promise<number> => {
  let total = 0
  for (let i = 0; i < xTest.shape[0]!; i += 1000) {
    const xb = tf.slice(xTest, i, Math.min(1000, xTest.shape[0]! - i))
    total += -(await s.evaluate(m.model, m.guide, xb)) * xb.shape[0]!
    xb.dispose()
  }
  return total / xTest.shape[0]!
}

const epochsOut: Array<{ epoch: number; trainElbo: number; testElbo: number; seconds: number }> = []
await s.fit(m.model, m.guide, xTrain, {
  epochs, batchSize: 128, seed, progress: false,
  onEpochEnd: async (r) => {
    const te = await testElbo()
    epochsOut.push({ epoch: r.epoch, trainElbo: -r.trainLoss, testElbo: te, seconds: r.seconds })
    console.log(`epoch ${r.epoch}: train ELBO ${(-r.trainLoss).toFixed(2)}, test ELBO ${te.toFixed(2)}, ${r.seconds.toFixed(0)} s`)
  },
})
const t0 = performance.now()
const xFirst = tf.slice(xTest, 0, N)
// Each chunk of draws keeps every draw's activations until it ends: 50 draws of the conv nets on 1,000 images overflow wasm memory.
const lm = logMarginal(m.model, m.guide, [xFirst] as const, { numParticles: K, batch: conv ? 5 : 50, seed: seed + 1, handlers: [s.params.handler] })
const iwae = tf.mean(lm).dataSync()[0]!
console.log(`IWAE-${K} on the first ${N} test images: ${iwae.toFixed(2)} nats (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
mkdirSync('bench/results', { recursive: true })
const out = { machine: { backend: info.name, simd: info.simd, threads: info.threads, native: info.nativeStatus }, protocol: conv ? 'fashion-mnist conv vae, z 16' : 'fashion-mnist vae 784-400-50', init: conv ? 'conv default' : init, scaleLink, adamEpsilon: eps, seed, epochs: epochsOut, iwae: { K, n: N, value: iwae } }
const name = conv ? `conv-z16-${scaleLink}-${epochs}epochs-${info.native ? 'native' : 'stock'}` : `${init}-${scaleLink}-eps${eps}${info.native ? '-native' : ''}`
writeFileSync(`bench/results/fashion-vae-${name}-seed${seed}.json`, JSON.stringify(out, null, 2) + '\n')
