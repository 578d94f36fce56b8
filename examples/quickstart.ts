/** The README's example: infer the mean of noisy data with a model, a guide and svi.fit. */
import * as tf from '@tensorflow/tfjs-core'
import { constraints, elbo, gen, initBackend, normal, observe, param, sample, svi } from 'tfppl'

await initBackend()
const data = tf.randomNormal([500], 3, 1, 'float32', 0)            // 500 draws around 3

const model = (x: tf.Tensor) => gen(function* () {
  const mu = yield* sample('mu', normal(0, 10))                    // prior p(mu)
  yield* observe('x', normal(tf.broadcastTo(mu, x.shape), 1).toEvent(1), x)
})
const guide = (_x: tf.Tensor) => gen(function* () {                 // q(mu) = N(loc, scale)
  const loc = yield* param('loc', tf.scalar(0))
  const scale = yield* param('scale', tf.scalar(1), { constraint: constraints.positive })
  yield* sample('mu', normal(loc, scale))
})
const s = svi({ optimizer: tf.train.adam(0.05, 0.9, 0.9), loss: elbo({ kl: 'auto' }) })  // β2 = 0.9: Adam forgets early noise fast
const history = await s.fit(model, guide, data, { epochs: 500, batchSize: 500, progress: false })

export const posterior = { loc: s.params.value('loc')!.dataSync()[0]!, scale: s.params.value('scale')!.dataSync()[0]! }
export const dataMean = tf.mean(data).dataSync()[0]!
export const finalLoss = history.epochs.at(-1)!.trainLoss
console.log(`posterior of mu: ${posterior.loc.toFixed(3)} ± ${posterior.scale.toFixed(3)} (data mean ${dataMean.toFixed(3)}); loss ${finalLoss.toFixed(3)} nats per point`)
