/** Eight schools (Rubin 1981), non-centred, with a half-Cauchy scale: autoNormal over mu, tau and the offsets. */
import * as tf from '@tensorflow/tfjs-core'
import { autoNormal, elbo, gen, halfCauchy, initBackend, normal, observe, plate, sample, svi } from 'tfppl'

await initBackend()
const effects = tf.tensor1d([28, 8, -3, 7, -1, 1, 18, 12])
const sigmas = tf.tensor1d([15, 10, 16, 11, 9, 11, 10, 18])

const model = (y: tf.Tensor) => gen(function* () {
  const mu = yield* sample('mu', normal(0, 5))
  const tau = yield* sample('tau', halfCauchy(5))
  yield* plate('schools', 8, {}, () => gen(function* () {
    const offset = yield* sample('offset', normal(0, 1))              // theta = mu + tau · offset
    yield* observe('y', normal(tf.add(mu, tf.mul(tau, offset)), sigmas), y)
  }))
})
const guide = autoNormal(model)
const s = svi({ optimizer: tf.train.adam(0.02), loss: elbo({ numParticles: 8 }), seed: 0 })
for (let i = 0; i < 1500; i++) s.step(model, guide, effects)

const m = guide.median(s.params)
export const mu = m.mu!.dataSync()[0]!, tau = m.tau!.dataSync()[0]!
console.log(`mu ${mu.toFixed(2)}, tau ${tau.toFixed(2)} (NUTS on this model: mu ≈ 4.4, posterior median tau ≈ 2.7)`)
