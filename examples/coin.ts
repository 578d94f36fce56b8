/** A Beta–Bernoulli coin fitted with autoNormal: the guide is built from the model, in logit space. */
import * as tf from '@tensorflow/tfjs-core'
import { autoNormal, bernoulli, beta, elbo, gen, initBackend, observe, plate, sample, svi } from 'tfppl'

await initBackend()
const flips = tf.tensor1d([1, 1, 0, 1, 0, 1, 1, 1, 0, 1])          // 7 heads in 10

const model = (x: tf.Tensor) => gen(function* () {
  const p = yield* sample('p', beta(2, 2))                          // prior: a fair-ish coin
  yield* plate('flips', 10, {}, () => gen(function* () {
    yield* observe('x', bernoulli({ probs: p }), x)
  }))
})
const guide = autoNormal(model)                                     // q(p) = sigmoid(Normal(loc, scale))
const s = svi({ optimizer: tf.train.adam(0.03), loss: elbo({ numParticles: 8 }), seed: 0 })
for (let i = 0; i < 800; i++) s.step(model, guide, flips)

const [lo, mid, hi] = Array.from(guide.quantiles(s.params, [0.05, 0.5, 0.95]).p!.dataSync())
export const posterior = { lo: lo!, median: mid!, hi: hi! }        // exact: Beta(9, 5)
export const meanOfGuide = tf.tidy(() => {                          // E_q[p] by 100 000 draws of q
  const [loc, scale] = [s.params.value('auto.p.loc')!, s.params.value('auto.p.scale')!]
  return tf.mean(tf.sigmoid(tf.add(loc, tf.mul(scale, tf.randomNormal([100000], 0, 1, 'float32', 1))))).dataSync()[0]!
})
console.log(`p: median ${mid!.toFixed(3)}, 90% interval [${lo!.toFixed(3)}, ${hi!.toFixed(3)}] (exact Beta(9, 5): 0.650, [0.427, 0.834])`)
