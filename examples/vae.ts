/** Train a VAE on the bundled MNIST digits for a few epochs and print the test ELBO. */
import * as tf from '@tensorflow/tfjs-core'
import { binarize, elbo, flatten, initBackend, mnistDigits, svi, vae } from 'tfppl'

await initBackend()
const { train, test } = mnistDigits()
const [x, xTest] = [train, test].map((d) => tf.tidy(() => binarize.fixed(0.5)(flatten(d))))
const m = vae({ xDim: 784, zDim: 20, hidden: [400], seed: 0 })
const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0 })
await s.fit(m.model, m.guide, x!, { epochs: 3, batchSize: 128, validation: xTest! })
console.log(`test ELBO: ${(-(await s.evaluate(m.model, m.guide, xTest!))).toFixed(1)} nats per image`)
