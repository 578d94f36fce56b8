/**
 * `npx tsx bench/mlp-step.ts [--quick]`: the MLP VAE step of `npm run bench` (784-400-50 softplus,
 * Bernoulli, batch 128, Adam 1e-3, one particle, `svi.step`) on wasm with the native accelerator,
 * one thread, in three variants interleaved in one process:
 *   Adam per variable  one `TfpplAdam` launch per variable (the accelerator before `TfpplAdamAll`);
 *   all fused          Adam over all variables in one `TfpplAdamAll` launch (the default);
 *   + probe launches   all fused, plus `PROBE` multiplications by 1 of the encoder's output
 *                      (each: a launch forward, saved-tensor clones, a launch backward): what one
 *                      more elementwise launch on the gradient tape costs in this step.
 * Prints the kernel launches of one step by kind (`tf.profile`), then each variant's median ms/step
 * over interleaved rounds (with p10/p90 and the spread of the rounds' medians), and the marginal cost
 * of a launch: (probe − all fused) / (their launch difference). The machine is shared: only figures
 * of one run compare.
 */
import * as tf from '@tensorflow/tfjs-core'
// From the sources, not the built package (as bench/conv-step.ts): this measures the working tree.
import * as lib from '../src/node.js'
import { ADAM_ALL_KERNEL } from '../src/backend/kernels/native/adam.js'

const { binarize, elbo, fashionMnist, flatten, initBackend, mnistDigits, setNative, svi, vae } = lib

const quick = process.argv.includes('--quick')
const [ROUNDS, STEPS, WARMUP] = quick ? [5, 10, 10] : [30, 20, 20]
const BATCH = 128, PROBE = 10

await initBackend({ backend: 'wasm' })
if (!setNative(true, 1).native) throw new Error('bench/mlp-step: the native accelerator is not active')
const adamAll = tf.getKernel(ADAM_ALL_KERNEL, 'wasm')
if (adamAll === undefined) throw new Error(`bench/mlp-step: ${ADAM_ALL_KERNEL} is not registered (an addon built before it? node native/build.mjs)`)

const VARIANTS = ['Adam per variable', 'all fused', '+ probe launches'] as const
type Variant = typeof VARIANTS[number]

/** 16 batches of training images binarised at 0.5: Fashion-MNIST when installed, else the bundled digits. */
const [sets, source] = ((): [ReturnType<typeof fashionMnist>, string] => {
  try { return [fashionMnist(), 'Fashion-MNIST'] } catch { return [mnistDigits(), 'the bundled MNIST digits'] }
})()
const images = tf.tidy(() => binarize.fixed(0.5)(flatten(tf.slice(sets.train.images, 0, 16 * BATCH))) as tf.Tensor2D)
sets.train.dispose(); sets.test.dispose()
const batches = Array.from({ length: 16 }, (_, i) => tf.slice(images, i * BATCH, BATCH) as tf.Tensor2D)

const m = vae({ xDim: 784, zDim: 50, hidden: [400], seed: 0 })
const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0 })
// The probe: the encoder's output multiplied by 1, `probes` times (the values, hence the training, are unchanged).
const encoder = m.networks.encoder as unknown as { apply: (x: tf.Tensor) => tf.Tensor }
const encode = encoder.apply.bind(encoder)
let probes = 0
encoder.apply = (x) => Array.from({ length: probes }).reduce<tf.Tensor>((y) => tf.mul(y, 1), encode(x))

/** Switches to one variant: `fused-adam.ts` takes the per-variable path while `TfpplAdamAll` is not registered. */
const configure = (v: Variant): void => {
  const registered = tf.getKernel(ADAM_ALL_KERNEL, 'wasm') !== undefined
  if (v === 'Adam per variable' && registered) tf.unregisterKernel(ADAM_ALL_KERNEL, 'wasm')
  if (v !== 'Adam per variable' && !registered) tf.registerKernel(adamAll)
  probes = v === '+ probe launches' ? PROBE : 0
}

const step = (i: number): number => {
  const t0 = performance.now()
  const loss = s.step(m.model, m.guide, batches[i % batches.length]!)
  if (!Number.isFinite(loss)) throw new Error(`bench/mlp-step: non-finite loss ${loss}`)
  return performance.now() - t0
}

/** The kernels one step launches, counted by name, most frequent first. */
const launches = async (v: Variant): Promise<Array<[string, number]>> => {
  configure(v)
  const p = await tf.profile(() => { step(0) })
  const counts = new Map<string, number>()
  for (const k of p.kernels) counts.set(k.name, (counts.get(k.name) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}

/** The element at rank ⌊q·n⌋ of the sorted values. */
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!

const times = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>
const roundMedians = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>
for (const v of VARIANTS) { configure(v); for (let i = 0; i < WARMUP; i++) step(i) }
const counted = new Map<Variant, Array<[string, number]>>()
for (const v of VARIANTS) counted.set(v, await launches(v))
const tensorsBefore = tf.memory().numTensors
for (let r = 0; r < ROUNDS; r++) {
  for (const j of VARIANTS.keys()) {
    const v = VARIANTS[(j + r) % VARIANTS.length]!
    configure(v)
    step(r)   // settle after the switch, untimed
    const round = Array.from({ length: STEPS }, (_, i) => step(i))
    times[v].push(...round)
    roundMedians[v].push(quantile(round, 0.5))
  }
}
const tensorsAfter = tf.memory().numTensors
configure('all fused')
m.dispose(); s.params.dispose(); s.optimizer.dispose(); tf.dispose([images, ...batches])

const total = (v: Variant): number => counted.get(v)!.reduce((n, [, c]) => n + c, 0)
const median = (v: Variant): number => quantile(times[v], 0.5)
console.log(`MLP VAE 784-400-50, batch ${BATCH}, ${source}; wasm + native, 1 thread`)
for (const [v, counts] of counted) console.log(`${v}: ${total(v)} launches per step: ${counts.map(([k, c]) => `${k} ${c}`).join(', ')}`)
console.log(`\n${ROUNDS} interleaved rounds × ${STEPS} steps per variant after ${WARMUP} warm-up steps`)
console.log('| variant | launches/step | median ms/step | p10 | p90 | round medians min–max | / all fused |\n| --- | --- | --- | --- | --- | --- | --- |')
for (const v of VARIANTS) {
  const r = roundMedians[v]
  console.log(`| ${v} | ${total(v)} | ${median(v).toFixed(2)} | ${quantile(times[v], 0.1).toFixed(2)} | ${quantile(times[v], 0.9).toFixed(2)} | ${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)} | ${(median(v) / median('all fused')).toFixed(3)} |`)
}
const extra = total('+ probe launches') - total('all fused')
const perLaunch = (q: number): string => ((quantile(times['+ probe launches'], q) - quantile(times['all fused'], q)) * 1000 / extra).toFixed(1)
console.log(`one more elementwise launch on the tape: ${perLaunch(0.5)} µs (from the medians), ${perLaunch(0.1)} µs (from the p10s), over ${extra} launches`)
console.log(`numTensors before the timed rounds ${tensorsBefore}, after ${tensorsAfter}`)
