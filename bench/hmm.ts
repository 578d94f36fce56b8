/**
 * `npm run bench:hmm`: an enumElbo step on an HMM of K = 3 states and T = 100 and 200 steps, the
 * states summed out exactly on markov-recycled dims (issue 19's linearity target: the T = 200
 * step ≤ 2.3× the T = 100 step). Learnable initial, transition and emission parameters, Adam,
 * wasm (+ the native accelerator when built), 1 thread. Interleaved rounds in one process, each
 * round a block of steps per T; prints the median and p10–p90 ms per step and the ratio.
 * Options: `-- --rounds N` (default 7), `-- --steps N` per block (default 5).
 */
import * as tf from '@tensorflow/tfjs-core'
import { categorical, enumElbo, gen, initBackend, markov, normal, observe, param, sample, svi, backendInfo } from 'tfppl'
import { quantile } from './images.js'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}
const ROUNDS = arg('rounds', 7), STEPS = arg('steps', 5), K = 3

await initBackend({ backend: 'wasm' })

const hmm = (ys: tf.Tensor) => gen(function* () {
  const init = yield* param('init', () => tf.zeros([K]))
  const trans = yield* param('trans', () => tf.tensor2d([[2, 0, 0], [0, 2, 0], [0, 0, 2]]))
  const locs = yield* param('locs', () => tf.tensor1d([-1, 0, 1]))
  yield* markov(ys.shape[0]!, { history: 1 }, (t, prev: tf.Tensor | undefined) => gen(function* () {
    const x = yield* sample(`x_${t}`, categorical({ logits: prev === undefined ? init : tf.gather(trans, prev) }), { enumerate: 'parallel' })
    yield* observe(`y_${t}`, normal(tf.gather(locs, x), 1), tf.gather(ys, t))
    return x
  }), undefined)
})
const guide = (_: tf.Tensor) => gen(function* () { /* every state is summed out */ })

const series = (T: number): tf.Tensor1D => tf.tensor1d(Array.from({ length: T }, (_, t) => [-2, 0, 2][Math.floor(t / 25) % 3]! + Math.sin(1.7 * t)))
const variants = [100, 200].map((T) => ({ T, y: series(T), s: svi({ optimizer: tf.train.adam(0.05), loss: enumElbo(), seed: 0 }), times: [] as number[] }))
for (const v of variants) for (let i = 0; i < 3; i++) v.s.step(hmm, guide, v.y)   // warm-up

for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) {
    const t0 = performance.now()
    for (let i = 0; i < STEPS; i++) v.s.step(hmm, guide, v.y)
    v.times.push((performance.now() - t0) / STEPS)
  }
}
const med = (xs: number[]) => quantile(xs, 0.5)
console.log(`HMM K = ${K}, enumElbo, ${backendInfo().name}${backendInfo().native ? ' + native' : ''}, ${ROUNDS} interleaved rounds of ${STEPS} steps`)
for (const v of variants) console.log(`  T = ${v.T}: median ${med(v.times).toFixed(1)} ms/step (p10–p90 ${quantile(v.times, 0.1).toFixed(1)}–${quantile(v.times, 0.9).toFixed(1)})`)
const ratio = med(variants[1]!.times) / med(variants[0]!.times)
console.log(`  T = 200 / T = 100: ${ratio.toFixed(2)} (target ≤ 2.3: ${ratio <= 2.3 ? 'met' : 'not met'}); numTensors ${tf.memory().numTensors}`)
