/**
 * A model that is not in src/models: Bayesian linear regression with an unknown
 * noise scale, y = w·x + b + ε. The guide is mean-field Gaussian on (w, b) and
 * log-normal on the noise scale; everything else is the generic engine.
 */
import * as tf from '@tensorflow/tfjs-core'
import { constraints, elbo, gen, initBackend, logNormal, normal, observe, param, sample, svi } from 'tfppl'

await initBackend()
const x = tf.linspace(-2, 2, 200)
const y = tf.tidy(() => tf.add(tf.add(tf.mul(x, 1.5), -0.5), tf.randomNormal([200], 0, 0.3, 'float32', 1)))

const model = (x: tf.Tensor, y: tf.Tensor) => gen(function* () {
  const w = yield* sample('w', normal(0, 5))
  const b = yield* sample('b', normal(0, 5))
  const sigma = yield* sample('sigma', logNormal(0, 1))
  yield* observe('y', normal(tf.add(tf.mul(x, w), b), tf.broadcastTo(sigma, x.shape)).toEvent(1), y)
})
const site = (name: 'w' | 'b') => gen(function* () {
  const loc = yield* param(`${name}_loc`, tf.scalar(0))
  const scale = yield* param(`${name}_scale`, tf.scalar(0.5), { constraint: constraints.positive })
  return yield* sample(name, normal(loc, scale))
})
const guide = (_x: tf.Tensor, _y: tf.Tensor) => gen(function* () {
  yield* site('w')
  yield* site('b')
  const loc = yield* param('sigma_loc', tf.scalar(0))
  yield* sample('sigma', logNormal(loc, yield* param('sigma_scale', tf.scalar(0.3), { constraint: constraints.positive })))
})

const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo({ numParticles: 4 }), seed: 0 })
await s.fit(model, guide, [x, y], { epochs: 300, batchSize: 200, progress: false })
export const fitted = Object.fromEntries(['w_loc', 'b_loc', 'sigma_loc'].map((n) => [n, s.params.value(n)!.dataSync()[0]!]))
console.log(`w ≈ ${fitted['w_loc']!.toFixed(2)} (true 1.5), b ≈ ${fitted['b_loc']!.toFixed(2)} (true −0.5), σ ≈ ${Math.exp(fitted['sigma_loc']!).toFixed(2)} (true 0.3)`)
