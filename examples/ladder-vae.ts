/** A two-layer ladder VAE with KL warm-up over the first two epochs. */
import * as tf from '@tensorflow/tfjs-core'
import { binarize, elbo, flatten, initBackend, ladderVae, mnistDigits, svi } from 'tfppl'

await initBackend()
const { train } = mnistDigits()
const x = tf.tidy(() => binarize.fixed(0.5)(flatten(train)))
const m = ladderVae({ imageShape: [28, 28, 1], latentDims: [32, 16], hidden: 256, warmup: 2, seed: 0 })
const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0 })
await s.fit(m.model, m.guide, [x], { epochs: 4, batchSize: 128, onEpochStart: m.beforeEpoch })
console.log(`β after warm-up: ${m.beta()}`)
