/** Bayesian logistic regression with autoMultivariateNormal: correlated weights, one joint Gaussian guide. */
import * as tf from '@tensorflow/tfjs-core'
import { autoMultivariateNormal, bernoulli, elbo, gen, initBackend, normal, observe, plate, sample, svi } from 'tfppl'

await initBackend()
const N = 200
const x = tf.randomNormal([N, 2], 0, 1, 'float32', 3)
const trueW = tf.tensor1d([1.5, -2])
const y = tf.cast(tf.less(tf.randomUniform([N], 0, 1, 'float32', 4), tf.sigmoid(tf.add(tf.sum(tf.mul(x, trueW), -1), 0.5))), 'float32')

const model = (features: tf.Tensor, labels: tf.Tensor) => gen(function* () {
  const w = yield* sample('w', normal(tf.zeros([2]), 5).toEvent(1))
  const b = yield* sample('b', normal(0, 5))
  yield* plate('data', N, {}, () => gen(function* () {
    const logits = tf.add(tf.sum(tf.mul(w, features), -1), b)      // w [2] (or [K, 1, 2] under K particles) against [N, 2]
    yield* observe('y', bernoulli({ logits }), labels)
  }))
})
const guide = autoMultivariateNormal(model)
const s = svi({ optimizer: tf.train.adam(0.03), loss: elbo({ numParticles: 8 }), seed: 0 })
for (let i = 0; i < 800; i++) s.step(model, guide, x, y)

export const weights = Array.from(guide.median(s.params).w!.dataSync())
console.log(`w ≈ [${weights.map((v) => v.toFixed(2)).join(', ')}] (true [1.5, -2]), b ≈ ${guide.median(s.params).b!.dataSync()[0]!.toFixed(2)} (true 0.5)`)
