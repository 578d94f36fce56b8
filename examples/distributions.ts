/**
 * A tour of tfppl's distributions: sampling, log densities, toEvent, and the
 * analytic KL checked against its Monte Carlo estimate. Run with `npm start`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { bernoulli, initBackend, kl, mixtureSameFamily, categorical, normal } from 'tfppl'

const info = await initBackend()
console.log(`backend: ${info.name}${info.name === 'wasm' ? ` (SIMD ${info.simd ? 'on' : 'off'})` : ''}`)

tf.tidy(() => {
  // A batch of 3 Gaussians treated as one 3-dimensional event.
  const p = normal(tf.tensor1d([0, 1, 2]), tf.tensor1d([1, 0.5, 2])).toEvent(1)
  const q = normal(tf.zeros([3]), tf.ones([3])).toEvent(1)
  const x = p.sample([10000], 42)
  console.log('sample shape', x.shape, '→ logProb shape', p.logProb(x).shape)

  const exact = kl(p, q)!.dataSync()[0]!
  const mc = tf.mean(tf.sub(p.logProb(x), q.logProb(x))).dataSync()[0]!
  console.log(`KL(p‖q): closed form ${exact.toFixed(4)}, Monte Carlo over 10,000 draws ${mc.toFixed(4)}`)

  const coin = bernoulli({ logits: tf.tensor1d([-2, 0, 2]) })
  console.log('Bernoulli means', Array.from(coin.mean.dataSync()).map((v) => v.toFixed(3)).join(' '),
    '· empirical', Array.from(tf.mean(coin.sample([10000], 1), 0).dataSync()).map((v) => v.toFixed(3)).join(' '))

  const mixture = mixtureSameFamily(categorical({ probs: tf.tensor1d([0.3, 0.7]) }), normal(tf.tensor1d([-2, 2]), tf.tensor1d([0.5, 0.5])))
  console.log(`mixture mean ${mixture.mean.dataSync()[0]!.toFixed(3)}, variance ${mixture.variance.dataSync()[0]!.toFixed(3)}`)
})
console.log('The inference engine (svi.fit) and the model families arrive next; see the README.')
