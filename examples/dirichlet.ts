/** A Dirichlet–Categorical: the probabilities of a die from its rolls, autoNormal through stick-breaking. */
import * as tf from '@tensorflow/tfjs-core'
import { autoNormal, categorical, dirichlet, elbo, gen, initBackend, observe, plate, sample, svi } from 'tfppl'

await initBackend()
const rolls = tf.tensor1d([0, 2, 2, 1, 2, 0, 2, 2, 1, 2, 2, 0, 2, 1, 2, 2, 2, 0, 1, 2], 'int32')   // counts 4, 4, 12

const model = (r: tf.Tensor) => gen(function* () {
  const probs = yield* sample('probs', dirichlet(tf.ones([3])))
  yield* plate('rolls', 20, {}, () => gen(function* () {
    yield* observe('r', categorical({ probs }), r)
  }))
})
const guide = autoNormal(model)
const s = svi({ optimizer: tf.train.adam(0.03), loss: elbo({ numParticles: 8 }), seed: 0 })
for (let i = 0; i < 1000; i++) s.step(model, guide, rolls)

export const probs = Array.from(guide.median(s.params).probs!.dataSync())
console.log(`probs ≈ [${probs.map((p) => p.toFixed(3)).join(', ')}] (exact posterior Dirichlet(5, 5, 13): mean [0.217, 0.217, 0.565])`)
