/** Gamma–Poisson counts with autoNormal: a rate with a Gamma prior, Poisson observations. */
import * as tf from '@tensorflow/tfjs-core'
import { autoNormal, elbo, gamma, gen, initBackend, observe, plate, poisson, sample, svi } from 'tfppl'

await initBackend()
const counts = tf.tensor1d([6, 9, 7, 4, 8, 11, 7, 5, 9, 6])        // Σ = 72 over 10 days

const model = (x: tf.Tensor) => gen(function* () {
  const rate = yield* sample('rate', gamma(2, 0.5))                 // prior mean 4
  yield* plate('days', 10, {}, () => gen(function* () {
    yield* observe('x', poisson(rate), x)
  }))
})
const guide = autoNormal(model)                                     // q(rate) = exp(Normal(loc, scale))
const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo({ numParticles: 8 }), seed: 0 })
for (let i = 0; i < 600; i++) s.step(model, guide, counts)

export const median = guide.median(s.params).rate!.dataSync()[0]!  // exact: Gamma(74, 10.5), median 7.016
console.log(`rate: median ${median.toFixed(3)} (exact posterior Gamma(74, 10.5): median 7.016, mean 7.048)`)
