/** A VQ-VAE on 2,000 bundled digits: the model hooks keep the codebook alive (dead-code restarts). */
import * as tf from '@tensorflow/tfjs-core'
import { binarize, elbo, initBackend, mnistDigits, subset, svi, vqVae } from 'tfppl'

await initBackend()
const { train } = mnistDigits()
const small = subset(train, 2000)
const x = binarize.fixed(0.5)(small.images) as tf.Tensor4D
const m = vqVae({ imageShape: [28, 28, 1], numCodes: 64, codeDim: 16, seed: 0 })
// Each step keeps the guide's encoder outputs and codes: the codebook update reads them instead of encoding the batch again.
const s = svi({ optimizer: tf.train.adam(2e-3), loss: elbo(), seed: 0, keep: m.keep })
await s.fit(m.model, m.guide, [x], { epochs: 2, batchSize: 64, onEpochStart: m.beforeEpoch, onStep: ({ batch }) => {
  const kept = s.takeKept()
  m.afterStep(batch, kept)
  tf.dispose(Object.values(kept))
} })
console.log(`code perplexity ${m.perplexity().toFixed(1)} of 64`)
