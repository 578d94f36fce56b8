/**
 * A hidden Markov model with `markov`: enumElbo sums the T hidden states out exactly on two
 * recycled dims (O(T·K²)), printed beside the forward algorithm computed here in float64;
 * inferDiscrete then gives the Viterbi path.
 */
import * as tf from '@tensorflow/tfjs-core'
import { categorical, enumElbo, gen, inferDiscrete, initBackend, markov, normal, observe, sample, svi } from 'tfppl'

await initBackend()
const init = [0.6, 0.3, 0.1]
const transition = [[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]]
const means = [-2, 0, 2]
const ys = Array.from({ length: 60 }, (_, t) => means[Math.floor(t / 20)]! + Math.sin(1.7 * t))   // three regimes

const hmm = (obs: tf.Tensor) => gen(function* () {
  const logA = tf.log(tf.tensor2d(transition))
  yield* markov(obs.shape[0]!, { history: 1 }, (t, prev: tf.Tensor | undefined) => gen(function* () {
    const logits = prev === undefined ? tf.log(tf.tensor1d(init)) : tf.gather(logA, prev)
    const state = yield* sample(`x_${t}`, categorical({ logits }), { enumerate: 'parallel' })
    yield* observe(`y_${t}`, normal(tf.gather(tf.tensor1d(means), state), 1), tf.gather(obs, t))
    return state
  }), undefined)
})
const guide = (_: tf.Tensor) => gen(function* () { /* every state is summed out */ })

const y = tf.tensor1d(ys)
const s = svi({ optimizer: tf.train.sgd(0), loss: enumElbo(), seed: 0 })
export const enumerated = -(await s.evaluate(hmm, guide, y)) * ys.length   // evaluate gives −ELBO per point
const logN = (v: number, m: number) => -0.5 * Math.log(2 * Math.PI) - (v - m) ** 2 / 2
const lse = (xs: number[]) => { const m = Math.max(...xs); return m + Math.log(xs.reduce((a, b) => a + Math.exp(b - m), 0)) }
let alpha = init.map((p, k) => Math.log(p) + logN(ys[0]!, means[k]!))
for (const v of ys.slice(1)) alpha = means.map((m, k) => lse(alpha.map((a, j) => a + Math.log(transition[j]![k]!))) + logN(v, m))
export const forward = lse(alpha)
const path = inferDiscrete(hmm, { temperature: 0 })(y)
export const viterbi = ys.map((_, t) => path[`x_${t}`]!.dataSync()[0]!)
console.log(`log-likelihood: enumerated ${enumerated.toFixed(4)}, forward algorithm ${forward.toFixed(4)}`)
console.log(`Viterbi path: ${viterbi.join('')}`)
