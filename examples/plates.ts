/** The README's plates example: a subsampled data plate, broadcasting, and a per-point discrete latent trained by the score function. */
import * as tf from '@tensorflow/tfjs-core'
import { bernoulli, constraints, elbo, gen, initBackend, normal, observe, param, plate, sample, svi } from 'tfppl'

await initBackend()
const N = 1000
const data = tf.randomNormal([N], 3, 1, 'float32', 1)              // 1000 draws around 3

const model = (x: tf.Tensor) => gen(function* () {
  const mu = yield* sample('mu', normal(0, 10))                    // global: outside the plate
  yield* plate('data', N, { subsampleSize: 100 }, (idx) => gen(function* () {
    yield* observe('x', normal(mu, 1), tf.gather(x, idx))          // normal(mu, 1) broadcasts to [100]; scaled by N/100
  }))
})
const guide = (_x: tf.Tensor) => gen(function* () {
  const loc = yield* param('loc', tf.scalar(0))
  const scale = yield* param('scale', tf.scalar(1), { constraint: constraints.positive })
  yield* sample('mu', normal(loc, scale))
})
const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo({ numParticles: 2 }) })
for (let i = 0; i < 600; i++) s.step(model, guide, data)          // each step: 100 of the 1000 points

// A discrete latent per point: the score function sees only its own point's cost (Pyro's Trace_ELBO).
const flips = (x: tf.Tensor) => gen(function* () {
  yield* plate('data', 4, {}, () => gen(function* () {
    const z = yield* sample('z', bernoulli({ probs: 0.5 }))
    yield* observe('x', normal(tf.mul(z, 4), 1), x)
  }))
})
const flipsGuide = (_x: tf.Tensor) => gen(function* () {
  const logits = yield* param('logits', tf.zeros([4]))
  yield* plate('data', 4, {}, () => gen(function* () {
    yield* sample('z', bernoulli({ logits }), { baseline: { useDecayingAverage: true } })
  }))
})
const d = svi({ optimizer: tf.train.adam(0.1), loss: elbo() })
const points = tf.tensor1d([0.1, 3.9, 4.2, -0.3])
for (let i = 0; i < 300; i++) d.step(flips, flipsGuide, points)

export const posterior = { loc: s.params.value('loc')!.dataSync()[0]!, scale: s.params.value('scale')!.dataSync()[0]! }
export const dataMean = tf.mean(data).dataSync()[0]!
export const flipProbs = Array.from(tf.sigmoid(d.params.value('logits')!).dataSync())
console.log(`mu: ${posterior.loc.toFixed(3)} ± ${posterior.scale.toFixed(3)} (data mean ${dataMean.toFixed(3)}); q(z = 1) per point: ${flipProbs.map((p) => p.toFixed(2)).join(', ')}`)
