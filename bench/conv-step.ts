/**
 * `npx tsx bench/conv-step.ts [--quick] [--vq]`: the conv VAE step (`vae({ conv: true })`, z = 16,
 * Bernoulli, batch 128, 28×28×1 binarised images, Adam 1e-3, `svi.step`) — and with `--vq` the
 * VQ-VAE step — on wasm in three configurations interleaved in one process, one thread:
 *   stock          the accelerator off (tfjs-wasm's XNNPACK convolutions, tfppl's conv-grad rewrites);
 *   native, no conv the accelerator on, but the stock Conv2D / Conv2DBackpropInput kernels put back
 *                  (what the accelerator did before src/backend/native-conv.ts);
 *   native         the accelerator with its convolution kernels.
 * Prints the median and p10/p90 ms per step and the ratios to `native`; machines are shared, so
 * only ratios within one run compare.
 */
import * as tf from '@tensorflow/tfjs-core'
// From the sources, not the built package (as bench/images.ts is): this measures the working tree.
import * as lib from '../src/node.js'
import { convStep } from './conv-models.js'

const { binarize, fashionMnist, initBackend, mnistDigits, setNative } = lib

const quick = process.argv.includes('--quick'), vq = process.argv.includes('--vq')
const [ROUNDS, STEPS, WARMUP] = quick ? [3, 5, 3] : [7, 8, 5]
const BATCH = 128
const CONV_KERNELS = ['Conv2D', 'Conv2DBackpropInput'] as const

type Variant = 'stock' | 'native, no conv' | 'native'

await initBackend({ backend: 'wasm' })
setNative(false)
const stockKernels = CONV_KERNELS.map((k) => tf.getKernel(k, 'wasm')!)
if (!setNative(true, 1).native) throw new Error('bench/conv-step: the native accelerator is not active')
const nativeKernels = CONV_KERNELS.map((k) => tf.getKernel(k, 'wasm')!)

const useKernels = (configs: readonly tf.KernelConfig[]): void => {
  for (const c of configs) { tf.unregisterKernel(c.kernelName, 'wasm'); tf.registerKernel(c) }
}

/** Switches to one variant. */
const configure = (v: Variant): void => {
  setNative(v !== 'stock', 1)
  if (v === 'native, no conv') useKernels(stockKernels)
  else if (v === 'native') useKernels(nativeKernels)
}

/** 16 batches of training images binarised at 0.5: Fashion-MNIST when installed, else the bundled digits. */
const [sets, source] = ((): [ReturnType<typeof fashionMnist>, string] => {
  try { return [fashionMnist(), 'Fashion-MNIST'] } catch { return [mnistDigits(), 'the bundled MNIST digits'] }
})()
const images = tf.tidy(() => binarize.fixed(0.5)(tf.slice(sets.train.images, 0, 16 * BATCH)))
sets.train.dispose(); sets.test.dispose()
const batches = Array.from({ length: 16 }, (_, i) => tf.slice(images, i * BATCH, BATCH) as tf.Tensor4D)

// The step itself is bench/conv-models.ts's (the one `npm run bench` times against PyTorch), built from the sources.
// (The sources' types are the package's, declared twice: TypeScript cannot tell, hence the cast.)
const { train, dispose } = convStep(lib as unknown as Parameters<typeof convStep>[0], vq ? 'vq-vae' : 'conv-vae')
const step = (i: number): number => {
  const t0 = performance.now()
  const loss = train(batches[i % batches.length]!)
  if (!Number.isFinite(loss)) throw new Error(`bench/conv-step: non-finite loss ${loss}`)
  return performance.now() - t0
}

const variants: readonly Variant[] = ['stock', 'native, no conv', 'native']
const times: Record<Variant, number[]> = { stock: [], 'native, no conv': [], native: [] }
for (const v of variants) { configure(v); for (let i = 0; i < WARMUP; i++) step(i) }
const tensorsBefore = tf.memory().numTensors
for (let r = 0; r < ROUNDS; r++) {
  for (const j of [0, 1, 2]) {
    const v = variants[(j + r) % 3]!
    configure(v)
    for (let i = 0; i < STEPS; i++) times[v].push(step(i))
  }
}
const tensorsAfter = tf.memory().numTensors
configure('native')
dispose(); tf.dispose([images, ...batches])

/** The element at rank ⌊q·n⌋ of the sorted values. */
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
const median = (v: Variant): number => quantile(times[v], 0.5)
console.log(`${vq ? 'VQ-VAE' : 'conv VAE, z = 16'}, batch ${BATCH}, ${source}; ${ROUNDS} interleaved rounds × ${STEPS} steps per variant after ${WARMUP} warm-up steps, 1 thread`)
console.log('| variant | median ms/step | p10 | p90 | / native |\n| --- | --- | --- | --- | --- |')
for (const v of variants) {
  console.log(`| ${v} | ${median(v).toFixed(1)} | ${quantile(times[v], 0.1).toFixed(1)} | ${quantile(times[v], 0.9).toFixed(1)} | ${(median(v) / median('native')).toFixed(2)} |`)
}
console.log(`numTensors before the timed rounds ${tensorsBefore}, after ${tensorsAfter}`)
