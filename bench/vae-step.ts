/**
 * `npm run bench [-- --quick]`: the VAE step (784-400-50 softplus, Bernoulli, batch 128, Adam, one
 * particle) through the DSL (`vae` + `svi.step`) and as a hand-written tfjs loop of the identical
 * network and loss, interleaved in one process on the same data, for every configuration this
 * machine has: wasm with the native accelerator (1 and 2 BLAS threads), stock wasm, cpu.
 * Prints median and p10/p90 ms/step, the DSL overhead ratio, s/epoch, numTensors and peak RSS;
 * writes bench/results/<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import * as tf from '@tensorflow/tfjs-core'
import { backendInfo, elbo, initBackend, setNative, setValidation, svi, vae } from 'tfppl'
import { handwrittenVae } from './handwritten-vae.js'
import { loadImages, quantile } from './images.js'
import { startPytorch } from './pytorch-reference.js'
import type { PytorchReference } from './pytorch-reference.js'

const quick = process.argv.includes('--quick')
const [ROUNDS, STEPS, WARMUP] = quick ? [5, 8, 5] : [9, 15, 10]
const BATCH = 128, Z = 50
// The cpu backend is ≈ 100× slower: fewer, shorter rounds there (24 steps per variant; 12 left its median ±5% between runs).
const [CPU_ROUNDS, CPU_STEPS] = [6, 4]

interface Config { readonly backend: 'wasm' | 'cpu'; readonly native: boolean; readonly threads: number }
interface Row { variant: 'dsl' | 'handwritten'; backend: string; native: boolean; threads: number; medianMs: number; p10Ms: number; p90Ms: number; epochSeconds?: number; validation?: boolean; optimizer?: 'tf.train.adam' | 'svi' }

const configure = async (c: Config): Promise<void> => {
  await initBackend({ backend: c.backend })
  if (c.backend === 'wasm' && setNative(c.native, c.threads).native !== c.native) throw new Error(`bench: could not set the accelerator: ${backendInfo().nativeStatus}`)
}

/** Times `step` on batch `i`: ms per call. */
const timed = (step: (x: tf.Tensor2D) => number, batches: readonly tf.Tensor2D[], i: number): number => {
  const t0 = performance.now()
  const loss = step(batches[i % batches.length]!)
  if (!Number.isFinite(loss)) throw new Error(`bench: non-finite loss ${loss}`)
  return performance.now() - t0
}

/** PyTorch's step times when the reference runs, interleaved with the default configuration's rounds. */
const pytorchMs: number[] = []

/** Interleaved DSL and hand-written steps in one configuration (and PyTorch's, when given); the DSL's fit epoch when asked. */
const measure = async (c: Config, data: tf.Tensor2D, withEpoch: boolean, pytorch?: PytorchReference): Promise<Row[]> => {
  await configure(c)
  const batches = Array.from({ length: 16 }, (_, i) => tf.slice(data, i * BATCH, BATCH) as tf.Tensor2D)
  const m = vae({ xDim: 784, zDim: Z, hidden: [400], seed: 0 })
  const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0 })
  const weights = [...m.networks.encoder.variables, ...m.networks.decoder.variables]
  const hand = handwrittenVae(weights, Z, 0), handFused = handwrittenVae(weights, Z, 0, true)
  const dsl = (x: tf.Tensor2D): number => s.step(m.model, m.guide, x)
  // The DSL with argument/support validation off (setValidation(false), as Pyro's validate_args=False): what the checks cost.
  const unchecked = (x: tf.Tensor2D): number => { setValidation(false); try { return dsl(x) } finally { setValidation(true) } }
  const run = { dsl, handwritten: hand.step, unchecked, handFused: handFused.step }
  const times = { dsl: [] as number[], handwritten: [] as number[], unchecked: [] as number[], handFused: [] as number[] }
  const [rounds, steps, warmup] = c.backend === 'cpu' ? [CPU_ROUNDS, CPU_STEPS, 2] : [ROUNDS, STEPS, WARMUP]
  for (let i = 0; i < warmup; i++) for (const f of Object.values(run)) timed(f, batches, i)
  for (let r = 0; r < rounds; r++) {
    const variants = ['dsl', 'handwritten', 'unchecked', 'handFused'] as const
    const order = [0, 1, 2, 3].map((j) => variants[(j + r) % 4]!)
    for (const v of order) for (let i = 0; i < steps; i++) times[v].push(timed(run[v], batches, i))
    if (pytorch !== undefined) pytorchMs.push(...await pytorch.steps(steps))
  }
  let epochSeconds: number | undefined
  if (withEpoch) {
    const t0 = performance.now()
    await s.fit(m.model, m.guide, data, { epochs: 1, batchSize: BATCH, progress: false })
    epochSeconds = (performance.now() - t0) / 1000
  }
  hand.dispose(); handFused.dispose(); m.dispose(); s.params.dispose(); s.optimizer.dispose(); tf.dispose(batches)
  return (['dsl', 'handwritten', 'unchecked', 'handFused'] as const).map((v) => ({
    variant: v === 'handwritten' || v === 'handFused' ? 'handwritten' : 'dsl', backend: c.backend, native: c.native, threads: c.threads,
    medianMs: quantile(times[v], 0.5), p10Ms: quantile(times[v], 0.1), p90Ms: quantile(times[v], 0.9),
    ...(v === 'dsl' && epochSeconds !== undefined ? { epochSeconds } : {}),
    ...(v === 'dsl' || v === 'unchecked' ? { validation: v === 'dsl' } : { optimizer: v === 'handFused' ? 'svi' as const : 'tf.train.adam' as const }),
  }))
}

const native = (await initBackend({ backend: 'wasm' })).native
const nativeStatus = backendInfo().nativeStatus
const configs: Config[] = [
  ...(native ? [{ backend: 'wasm', native: true, threads: 1 }, { backend: 'wasm', native: true, threads: 2 }] as Config[] : []),
  { backend: 'wasm', native: false, threads: 1 },
  ...(quick ? [] : [{ backend: 'cpu', native: false, threads: 1 }] as Config[]),
]
await initBackend({ backend: 'wasm' })
const { x, source } = loadImages()
// Plain PyTorch on this machine, in the default configuration's rounds (BLAS threads as tfppl's).
const pytorch = await startPytorch(configs[0]!.threads)
const tensorsBefore = tf.memory().numTensors
const rows: Row[] = []
for (const [i, c] of configs.entries()) rows.push(...await measure(c, x, i === 0 || (!quick && c.backend === 'wasm'), i === 0 ? pytorch : undefined))
pytorch?.close()
const reference = pytorch === undefined
  ? { pytorch: 'not run: no Python with torch (apt-get install -y python3-torch, or set TFPPL_PYTHON)' }
  : { pytorch: { torch: pytorch.torch, python: pytorch.python, data: pytorch.data, threads: configs[0]!.threads, medianMs: quantile(pytorchMs, 0.5), p10Ms: quantile(pytorchMs, 0.1), p90Ms: quantile(pytorchMs, 0.9) } }
const tensorsAfter = tf.memory().numTensors

/** A 3-epoch `svi.fit` in the default configuration: numTensors and RSS at every epoch end. */
const soak = async (): Promise<{ numTensors: number[]; rssMiB: number[] }> => {
  await configure(configs[0]!)
  const m = vae({ xDim: 784, zDim: Z, hidden: [400], seed: 1 })
  const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 1 })
  const numTensors: number[] = [], rssMiB: number[] = []
  await s.fit(m.model, m.guide, x, { epochs: 3, batchSize: BATCH, progress: false,
    onEpochEnd: () => { numTensors.push(tf.memory().numTensors); rssMiB.push(process.memoryUsage().rss / 2 ** 20) } })
  m.dispose(); s.params.dispose(); s.optimizer.dispose()
  return { numTensors, rssMiB }
}
const epochs3 = quick ? undefined : await soak()
x.dispose()

const name = (r: Row): string => `${r.backend}${r.backend === 'wasm' ? (r.native ? ` + native, ${r.threads} thread${r.threads === 1 ? '' : 's'}` : ' (stock)') : ''}`
console.log(`VAE 784-400-50, batch ${BATCH}, Adam; ${ROUNDS} interleaved rounds × ${STEPS} steps per variant after ${WARMUP} warm-up steps (cpu: ${CPU_ROUNDS} × ${CPU_STEPS} after 2)${quick ? ' (--quick)' : ''}`)
console.log(`native accelerator: ${nativeStatus}`)
console.log('| configuration | variant | median ms/step | p10 | p90 | s/epoch |\n| --- | --- | --- | --- | --- | --- |')
for (const r of rows) console.log(`| ${name(r)} | ${r.variant}${r.validation === false ? ' (validation off)' : ''}${r.optimizer === 'svi' ? ' (svi\'s update step)' : ''} | ${r.medianMs.toFixed(2)} | ${r.p10Ms.toFixed(2)} | ${r.p90Ms.toFixed(2)} | ${r.epochSeconds?.toFixed(1) ?? ''} |`)
if (typeof reference.pytorch === 'string') console.log(`PyTorch reference: ${reference.pytorch}`)
else {
  const p = reference.pytorch, dsl = rows[0]!.medianMs
  console.log(`| PyTorch ${p.torch}, plain (interleaved with ${name(rows[0]!)}) | reference | ${p.medianMs.toFixed(2)} | ${p.p10Ms.toFixed(2)} | ${p.p90Ms.toFixed(2)} | |`)
  console.log(`DSL / plain PyTorch (same rounds): ${(dsl / p.medianMs).toFixed(3)}; the speed issue measured Pyro at 11.75 / 8.83 = 1.33 × plain PyTorch, ≈ ${(1.33 * p.medianMs).toFixed(1)} ms here (an estimate: Pyro is not installed)`)
}
const ratioOf = (c: Config): number => {
  const pick = (v: Row['variant']) => rows.find((r) => r.variant === v && r.validation !== false && r.optimizer !== 'svi' && r.backend === c.backend && r.native === c.native && r.threads === c.threads)!.medianMs
  return pick('dsl') / pick('handwritten')
}
for (const c of configs.slice(1)) console.log(`DSL overhead ratio (${name({ ...c, variant: 'dsl', medianMs: 0, p10Ms: 0, p90Ms: 0 })}): ${ratioOf(c).toFixed(3)}`)
const ratio = ratioOf(configs[0]!)
for (const c of configs) {
  const same = (r: Row) => r.backend === c.backend && r.native === c.native && r.threads === c.threads
  const ms = (p: (r: Row) => boolean) => rows.find((r) => same(r) && p(r))!.medianMs
  const [on, off, fused] = [ms((r) => r.validation === true), ms((r) => r.validation === false), ms((r) => r.optimizer === 'svi')]
  console.log(`at equal optimizer step (${name({ ...c, variant: 'dsl', medianMs: 0, p10Ms: 0, p90Ms: 0 })}): DSL / hand-written ${(on / fused).toFixed(3)}; with validation off ${(off / fused).toFixed(3)}`)
}
console.log(`s/epoch: on ${source}`)
console.log(`numTensors before ${tensorsBefore}, after ${tensorsAfter}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
if (epochs3 !== undefined) {
  const growth = (epochs3.rssMiB[2]! / epochs3.rssMiB[0]! - 1) * 100
  console.log(`3-epoch fit (${name({ ...configs[0]!, variant: 'dsl', medianMs: 0, p10Ms: 0, p90Ms: 0 })}): numTensors at epoch ends ${epochs3.numTensors.join(', ')}; RSS ${epochs3.rssMiB.map((r) => r.toFixed(0)).join(', ')} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}% from epoch 1 to 3)`)
}
console.log(`DSL overhead ratio: ${ratio.toFixed(3)}`)
mkdirSync('bench/results', { recursive: true })
const file = `bench/results/${new Date().toISOString().slice(0, 10)}${quick ? '-quick' : ''}.json`
writeFileSync(file, JSON.stringify({ machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, data: source }, rows, ratio, reference, numTensors: { before: tensorsBefore, after: tensorsAfter }, ...(epochs3 === undefined ? {} : { fit3Epochs: epochs3 }), peakRssMiB: process.resourceUsage().maxRSS / 1024 }, null, 2) + '\n')
console.log(`wrote ${file}`)
