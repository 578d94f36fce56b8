/** A conditional VAE with a learned prior p(z | class), then one sample per class. */
import * as tf from '@tensorflow/tfjs-core'
import { cvae, elbo, initBackend, mnistDigits, binarize, svi } from 'tfppl'

await initBackend()
const { train } = mnistDigits()
const m = cvae({ imageShape: [28, 28, 1], numClasses: 10, zDim: 16, hidden: [400], prior: 'conditional', seed: 0 })
const [x, c] = m.inputs(binarize.fixed(0.5)(train.images) as tf.Tensor4D, train.labels)
const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0 })
await s.fit(m.model, m.guide, [x!, c!], { epochs: 3, batchSize: 128 })
const perClass = Array.from({ length: 10 }, (_, k) => tf.tidy(() => tf.mean(m.sample(16, 1, k)).dataSync()[0]!))
console.log('mean ink of samples per class:', perClass.map((v) => v.toFixed(3)).join(' '))
