/**
 * A Gaussian mixture whose assignments are summed out exactly: enumElbo fits the component
 * locations by maximum likelihood (no guide needed for z), then the enumerated log-likelihood
 * is printed beside the closed form log Σ_k w_k N(x | μ_k, σ), computed here in float64.
 */
import * as tf from '@tensorflow/tfjs-core'
import { categorical, enumElbo, gen, inferDiscrete, initBackend, normal, observe, param, plate, sample, svi } from 'tfppl'

await initBackend()
const data = [-2.3, -1.9, -2.1, -1.6, 0.2, 0.4, -0.1, 2.8, 3.1, 3.3, 2.6, 3.0]
const x = tf.tensor1d(data)
const weights = [0.35, 0.25, 0.4]

const model = (xs: tf.Tensor) => gen(function* () {
  const locs = yield* param('locs', () => tf.tensor1d([-1, 0, 1]))
  yield* plate('data', xs.shape[0]!, {}, () => gen(function* () {
    const z = yield* sample('z', categorical({ probs: weights }), { enumerate: 'parallel' })   // all 3 values at once
    yield* observe('x', normal(tf.gather(locs, z), 0.5), xs)
  }))
})
const guide = (_: tf.Tensor) => gen(function* () { /* z is summed out in the model */ })

const s = svi({ optimizer: tf.train.adam(0.05), loss: enumElbo(), seed: 0 })
for (let i = 0; i < 400; i++) s.step(model, guide, x)

export const locs = Array.from(s.params.value('locs')!.dataSync())
export const enumerated = -(await s.evaluate(model, guide, x)) * data.length   // evaluate gives −ELBO per point
const logN = (v: number, m: number) => -0.5 * Math.log(2 * Math.PI * 0.25) - (v - m) ** 2 / (2 * 0.25)
export const closedForm = data.reduce((acc, v) => {
  const terms = weights.map((w, k) => Math.log(w) + logN(v, locs[k]!))
  const m = Math.max(...terms)
  return acc + m + Math.log(terms.reduce((t, u) => t + Math.exp(u - m), 0))
}, 0)
export const assignments = Array.from(inferDiscrete(model, { temperature: 0, params: s.params })(x)['z']!.dataSync())
console.log(`locations ${locs.map((m) => m.toFixed(2)).join(', ')}`)
console.log(`log-likelihood: enumerated ${enumerated.toFixed(4)}, closed form ${closedForm.toFixed(4)}`)
console.log(`MAP assignments: ${assignments.join(' ')}`)
