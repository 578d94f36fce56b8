/**
 * `npx tsx bench/threads-step.ts [--quick] [--models mlp-vae,conv-vae,vq-vae] [--threads 1,2,2*]`: the
 * three training steps of `npm run bench` (MLP VAE 784-400-50, conv VAE z = 16, VQ-VAE; batch 128,
 * Adam 1e-3, `svi.step`) on wasm with the native accelerator at 1 and 2 threads (`setNative(true, t)`,
 * what `TFPPL_THREADS=t` selects: t threads for the products where they paid, 1 for the skinny ones; `2*`:
 * 2 threads for every product, as before issue 21 point 3), interleaved in one process: per model, rounds in which a block of
 * steps at each thread count alternate (the first alternating by round). Prints per model and thread
 * count the median ms/step over rounds of the rounds' medians (min–max of those), the process CPU ms
 * per step, and the speedup 1 thread / t threads; the load average before and after each model. The
 * machine is shared: only figures of one run compare. Issue 21 point 3.
 */
import * as tf from '@tensorflow/tfjs-core'
import { cpuUsage } from 'node:process'
import { loadavg } from 'node:os'
// From the sources, not the built package (as bench/conv-step.ts): this measures the working tree.
import * as lib from '../src/node.js'
import { loadNative } from '../src/backend/native.js'
import { convStep } from './conv-models.js'

const { binarize, elbo, fashionMnist, flatten, initBackend, mnistDigits, setNative, svi, vae } = lib

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}
const quick = process.argv.includes('--quick')
const MODELS = (arg('--models') ?? 'mlp-vae,conv-vae,vq-vae').split(',') as Array<'mlp-vae' | 'conv-vae' | 'vq-vae'>
/** Thread counts; `t*`: t threads for every product. */
const THREADS = (arg('--threads') ?? '1,2,2*').split(',')
/** Rounds, steps per block, warm-up steps per thread count: MLP, then the conv models. */
type Plan = { readonly rounds: number; readonly steps: number; readonly warmup: number }
const PLAN: { readonly mlp: Plan; readonly conv: Plan } = {
  mlp: quick ? { rounds: 4, steps: 10, warmup: 10 } : { rounds: 12, steps: 20, warmup: 20 },
  conv: quick ? { rounds: 3, steps: 3, warmup: 3 } : { rounds: 8, steps: 6, warmup: 4 },
}
const BATCH = 128

await initBackend({ backend: 'wasm' })
const info = setNative(true, 1)
if (!info.native) throw new Error(`bench/threads-step: the native accelerator is not active (${info.nativeStatus})`)
const addon = loadNative()
if (!addon.ok) throw new Error(`bench/threads-step: ${addon.reason}`)
/** Switches to thread count `t` (`2*`: every product). */
const configure = (t: string): void => {
  setNative(true, parseInt(t, 10))
  if (t.endsWith('*')) addon.addon.setThreads(parseInt(t, 10), 1)
}

/** 16 batches of training images binarised at 0.5: Fashion-MNIST when installed, else the bundled digits. */
const [sets, source] = ((): [ReturnType<typeof fashionMnist>, string] => {
  try { return [fashionMnist(), 'Fashion-MNIST'] } catch { return [mnistDigits(), 'the bundled MNIST digits'] }
})()
const images = tf.tidy(() => binarize.fixed(0.5)(tf.slice(sets.train.images, 0, 16 * BATCH)) as tf.Tensor4D)
sets.train.dispose(); sets.test.dispose()
const batches = Array.from({ length: 16 }, (_, i) => tf.slice(images, i * BATCH, BATCH) as tf.Tensor4D)

/** A model's step on batch i (returns the loss) and its disposal. */
const stepOf = (model: typeof MODELS[number]): { train: (i: number) => number; dispose: () => void } => {
  if (model !== 'mlp-vae') {
    const c = convStep(lib as unknown as Parameters<typeof convStep>[0], model)
    return { train: (i) => c.train(batches[i % batches.length]!), dispose: c.dispose }
  }
  const flat = batches.map((b) => flatten(b) as tf.Tensor2D)
  const m = vae({ xDim: 784, zDim: 50, hidden: [400], seed: 0 })
  const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0 })
  return {
    train: (i) => s.step(m.model, m.guide, flat[i % flat.length]!),
    dispose: () => { m.dispose(); s.params.dispose(); s.optimizer.dispose(); tf.dispose(flat) },
  }
}

/** The element at rank ⌊q·n⌋ of the sorted values. */
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' / ')

console.log(`batch ${BATCH}, ${source}; ${info.nativeStatus}; thread counts ${THREADS.join(', ')}`)
console.log('| model | threads | median ms/step (min–max of round medians) | CPU ms/step | 1 thread / this | load before → after |\n| --- | --- | --- | --- | --- | --- |')
for (const model of MODELS) {
  const { rounds: ROUNDS, steps: STEPS, warmup: WARMUP } = model === 'mlp-vae' ? PLAN.mlp : PLAN.conv
  const { train, dispose } = stepOf(model)
  const step = (i: number): number => {
    const t0 = performance.now()
    const loss = train(i)
    if (!Number.isFinite(loss)) throw new Error(`bench/threads-step: non-finite loss ${loss}`)
    return performance.now() - t0
  }
  const medians = new Map(THREADS.map((t) => [t, [] as number[]]))
  const cpu = new Map(THREADS.map((t) => [t, 0]))
  for (const t of THREADS) { configure(t); for (let i = 0; i < WARMUP; i++) step(i) }
  const before = load()
  for (let r = 0; r < ROUNDS; r++) {
    for (const j of THREADS.keys()) {
      const t = THREADS[(j + r) % THREADS.length]!
      configure(t)
      step(r)   // settle after the switch, untimed
      const c0 = cpuUsage()
      const block = Array.from({ length: STEPS }, (_, i) => step(i))
      const c = cpuUsage(c0)
      cpu.set(t, cpu.get(t)! + (c.user + c.system) / 1000)
      medians.get(t)!.push(quantile(block, 0.5))
    }
  }
  const after = load()
  setNative(true, 1)
  dispose()
  const med = (t: string): number => quantile(medians.get(t)!, 0.5)
  for (const t of THREADS) {
    const ms = medians.get(t)!
    console.log(`| ${model} | ${t} | ${med(t).toFixed(2)} (${Math.min(...ms).toFixed(2)}–${Math.max(...ms).toFixed(2)}) | ${(cpu.get(t)! / (ROUNDS * STEPS)).toFixed(2)} | ${(med(THREADS[0]!) / med(t)).toFixed(2)}× | ${before} → ${after} |`)
  }
}
tf.dispose([images, ...batches])
