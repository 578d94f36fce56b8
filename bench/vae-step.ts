/**
 * `npm run bench [-- --quick]`: the VAE step (784-400-50 softplus, Bernoulli, batch 128, Adam, one
 * particle) through the DSL (`vae` + `svi.step`) and as a hand-written tfjs loop of the identical
 * network and loss, interleaved in one process on the same data, for every configuration this
 * machine has: wasm with the native accelerator (1 and 2 BLAS threads), stock wasm, cpu.
 * Prints median and p10/p90 ms/step, the DSL overhead ratio, s/epoch, numTensors and peak RSS.
 * Then, when a Python with PyTorch is found, the MLP VAE, the conv VAE and the VQ-VAE steps against
 * their PyTorch twins (bench/pytorch-vae.py) at 1 and 2 threads (bench/versus-pytorch.ts): the
 * in-round PyTorch figure beside PyTorch run alone, and the ratios. Writes bench/results/<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import * as tf from '@tensorflow/tfjs-core'
import { backendInfo, elbo, initBackend, setNative, setValidation, svi, vae, vqVae } from 'tfppl'
import { handwrittenVae } from './handwritten-vae.js'
import { loadImages, quantile } from './images.js'
import { convStep } from './conv-models.js'
import type { ConvModel } from './conv-models.js'
import { versusPytorch } from './versus-pytorch.js'
import type { VersusPlan, VersusRow } from './versus-pytorch.js'

const quick = process.argv.includes('--quick')
const [ROUNDS, STEPS, WARMUP] = quick ? [5, 8, 5] : [9, 15, 10]
const BATCH = 128, Z = 50
// The cpu backend is ≈ 100× slower: fewer, shorter rounds there (24 steps per variant; 12 left its median ±5% between runs).
const [CPU_ROUNDS, CPU_STEPS] = [6, 4]

interface Config { readonly backend: 'wasm' | 'cpu'; readonly native: boolean; readonly threads: number }
interface Row { model: 'mlp-vae'; variant: 'dsl' | 'handwritten'; backend: string; native: boolean; threads: number; medianMs: number; p10Ms: number; p90Ms: number; epochSeconds?: number; validation?: boolean; optimizer?: 'tf.train.adam' | 'svi' }

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

/** Interleaved DSL and hand-written steps in one configuration; the DSL's fit epoch when asked. */
const measure = async (c: Config, data: tf.Tensor2D, withEpoch: boolean): Promise<Row[]> => {
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
  }
  let epochSeconds: number | undefined
  if (withEpoch) {
    const t0 = performance.now()
    await s.fit(m.model, m.guide, data, { epochs: 1, batchSize: BATCH, progress: false })
    epochSeconds = (performance.now() - t0) / 1000
  }
  hand.dispose(); handFused.dispose(); m.dispose(); s.params.dispose(); s.optimizer.dispose(); tf.dispose(batches)
  return (['dsl', 'handwritten', 'unchecked', 'handFused'] as const).map((v) => ({
    model: 'mlp-vae' as const, variant: v === 'handwritten' || v === 'handFused' ? 'handwritten' : 'dsl', backend: c.backend, native: c.native, threads: c.threads,
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
const loadBefore = loadavg()
const { x, source } = loadImages()
const tensorsBefore = tf.memory().numTensors
const rows: Row[] = []
// --torch-only: just the comparison with PyTorch (TFPPL_BENCH_MODELS=mlp-vae,conv-vae,vq-vae picks models).
const torchOnly = process.argv.includes('--torch-only')
for (const [i, c] of (torchOnly ? [] : configs).entries()) rows.push(...await measure(c, x, i === 0 || (!quick && c.backend === 'wasm')))
const tensorsAfter = tf.memory().numTensors

/**
 * Each model's DSL step against its PyTorch twin (bench/versus-pytorch.ts), in the default configuration at 1 and 2
 * threads (stock wasm at 1 without the accelerator).
 */
const MLP_PLAN: VersusPlan = quick
  ? { repetitions: 3, rounds: 2, steps: 8, warmup: 4, standaloneSteps: 60, standaloneEveryRepetition: false, gapMs: 250 }
  : { repetitions: 3, rounds: 4, steps: 15, warmup: 10, standaloneSteps: 150, standaloneEveryRepetition: true, gapMs: 250 }
const CONV_PLAN: VersusPlan = quick
  ? { repetitions: 3, rounds: 2, steps: 2, warmup: 2, standaloneSteps: 8, standaloneEveryRepetition: false, gapMs: 250 }
  : { repetitions: 3, rounds: 3, steps: 4, warmup: 3, standaloneSteps: 20, standaloneEveryRepetition: true, gapMs: 250 }
// TFPPL_BENCH_CONV_STEPS: steps per block for the conv models (the in-round check with longer blocks).
if (process.env['TFPPL_BENCH_CONV_STEPS'] !== undefined) Object.assign(CONV_PLAN, { steps: Number(process.env['TFPPL_BENCH_CONV_STEPS']) })
const threadCounts = native ? [1, 2] : [1]
const setThreads = (t: number): void => { if (native && setNative(true, t).native !== true) throw new Error(`bench: could not set the accelerator: ${backendInfo().nativeStatus}`) }
const versus: (VersusRow & { backend: 'wasm'; native: boolean; variant: 'dsl' })[] = []
let torchAbout: { torch: string; python: string } | undefined
if (process.env['TFPPL_BENCH_TORCH'] !== '0') {
  await configure({ backend: 'wasm', native, threads: 1 })
  const against = async (model: 'mlp-vae' | ConvModel, plan: VersusPlan): Promise<boolean> => {
    const batches = Array.from({ length: 16 }, (_, i) => tf.tidy(() => {
      const flat = tf.slice(x, i * BATCH, BATCH)
      return model === 'mlp-vae' ? flat : tf.reshape(flat, [BATCH, 28, 28, 1])
    }))
    let train: (b: tf.Tensor) => number, dispose: () => void
    if (model === 'mlp-vae') {
      const m = vae({ xDim: 784, zDim: Z, hidden: [400], seed: 0 })
      const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0 })
      train = (b) => s.step(m.model, m.guide, b)
      dispose = () => { m.dispose(); s.params.dispose(); s.optimizer.dispose() }
    } else {
      const c = convStep({ elbo, svi, vae, vqVae }, model)
      train = (b) => c.train(b as tf.Tensor4D); dispose = c.dispose
    }
    const step = (i: number): number => {
      const t0 = performance.now()
      const loss = train(batches[i % batches.length]!)
      if (!Number.isFinite(loss)) throw new Error(`bench: non-finite loss ${loss} (${model})`)
      return performance.now() - t0
    }
    const result = await versusPytorch(model, threadCounts, setThreads, step, plan)
    dispose(); tf.dispose(batches); setThreads(1)
    if (result === undefined) return false
    torchAbout = { torch: result.torch, python: result.python }
    versus.push(...result.rows.map((r) => ({ ...r, variant: 'dsl' as const, backend: 'wasm' as const, native })))
    return true
  }
  const models = (process.env['TFPPL_BENCH_MODELS'] ?? 'mlp-vae,conv-vae,vq-vae').split(',')
  for (const m of ['mlp-vae', 'conv-vae', 'vq-vae'] as const) {
    if (models.includes(m) && !await against(m, m === 'mlp-vae' ? MLP_PLAN : CONV_PLAN)) break
  }
}
const mlp1 = versus.find((r) => r.model === 'mlp-vae' && r.threads === 1)
const reference = torchAbout === undefined
  ? { pytorch: process.env['TFPPL_BENCH_TORCH'] === '0' ? 'not run: TFPPL_BENCH_TORCH=0' : 'not run: no Python with torch (apt-get install -y python3-torch, or set TFPPL_PYTHON)' }
  : { pytorch: { ...torchAbout, data: source, ...(mlp1 === undefined ? {} : { threads: 1, medianMs: mlp1.torchMs, standaloneMs: mlp1.standaloneMs }) } }

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

const name = (r: Pick<Row, 'backend' | 'native' | 'threads'> & Partial<Row>): string => `${r.backend}${r.backend === 'wasm' ? (r.native ? ` + native, ${r.threads} thread${r.threads === 1 ? '' : 's'}` : ' (stock)') : ''}`
let ratio = Number.NaN
if (!torchOnly) {
console.log(`VAE 784-400-50, batch ${BATCH}, Adam; ${ROUNDS} interleaved rounds × ${STEPS} steps per variant after ${WARMUP} warm-up steps (cpu: ${CPU_ROUNDS} × ${CPU_STEPS} after 2)${quick ? ' (--quick)' : ''}`)
console.log(`native accelerator: ${nativeStatus}`)
console.log('| configuration | variant | median ms/step | p10 | p90 | s/epoch |\n| --- | --- | --- | --- | --- | --- |')
for (const r of rows) console.log(`| ${name(r)} | ${r.variant}${r.validation === false ? ' (validation off)' : ''}${r.optimizer === 'svi' ? ' (svi\'s update step)' : ''} | ${r.medianMs.toFixed(2)} | ${r.p10Ms.toFixed(2)} | ${r.p90Ms.toFixed(2)} | ${r.epochSeconds?.toFixed(1) ?? ''} |`)
const ratioOf = (c: Config): number => {
  const pick = (v: Row['variant']) => rows.find((r) => r.variant === v && r.validation !== false && r.optimizer !== 'svi' && r.backend === c.backend && r.native === c.native && r.threads === c.threads)!.medianMs
  return pick('dsl') / pick('handwritten')
}
for (const c of configs.slice(1)) console.log(`DSL overhead ratio (${name({ ...c, variant: 'dsl', medianMs: 0, p10Ms: 0, p90Ms: 0 })}): ${ratioOf(c).toFixed(3)}`)
ratio = ratioOf(configs[0]!)
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
}
const loadAfter = loadavg()

if (typeof reference.pytorch === 'string') console.log(`\nPyTorch twins: ${reference.pytorch}`)
else {
  const f = (v: number): string => v.toFixed(v < 100 ? 2 : 1)
  const spread = (xs: readonly number[]): string => xs.length > 1 ? ` (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : ''
  const cfg = native ? 'wasm + native' : 'wasm (stock)'
  console.log(`\nAgainst PyTorch ${reference.pytorch.torch} (${reference.pytorch.python} bench/pytorch-vae.py), ${cfg}; per model and thread count ${MLP_PLAN.repetitions} repetitions (1 and 2 threads interleaved), each ${MLP_PLAN.rounds} rounds × ${MLP_PLAN.steps} steps (conv: ${CONV_PLAN.rounds} × ${CONV_PLAN.steps}) alternating a DSL block and a PyTorch block, ${MLP_PLAN.gapMs} ms quiet before each block; 1 thread pinned to CPU ${versus.find((r) => r.threads === 1)?.cpus}, 2 to CPUs ${versus.find((r) => r.threads === 2)?.cpus ?? '-'}. Medians over repetitions of the repetitions' medians (min–max over repetitions).`)
  console.log('| model | threads | tfppl DSL ms/step | PyTorch, same rounds | PyTorch run alone | in-round / alone | DSL / PyTorch (same rounds) | DSL / PyTorch alone | CPU ms/step: DSL, PyTorch in-round, alone |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const r of versus) {
    console.log(`| ${r.model} | ${r.threads} | ${f(r.medianMs)}${spread(r.dslReps)} | ${f(r.torchMs)}${spread(r.torchReps)} | ${f(r.standaloneMs)}${spread(r.standaloneReps)} | ${(r.torchMs / r.standaloneMs).toFixed(3)} | **${(r.medianMs / r.torchMs).toFixed(3)}** | ${(r.medianMs / r.standaloneMs).toFixed(3)} | ${f(r.cpuMs.dsl)}, ${f(r.cpuMs.torch)}, ${f(r.cpuMs.standalone)} |`)
  }
  const idle = (k: keyof VersusRow['idleCpu']): string => `${(100 * Math.max(...versus.map((r) => r.idleCpu[k]))).toFixed(0)}%`
  console.log(`the idle side's CPU use during the other's timed blocks (largest, share of a core): PyTorch servers during DSL blocks ${idle('torchWhileDsl')}, node during PyTorch blocks ${idle('dslWhileTorch')}, the other thread count's server during PyTorch blocks ${idle('otherServerWhileTorch')}, idle servers during the standalone runs ${idle('serverWhileStandalone')}`)
  const row = (m: string, t: number) => versus.find((r) => r.model === m && r.threads === t)
  for (const [m, targetSpeedup] of [['mlp-vae', 1.3], ['conv-vae', 1.6], ['vq-vae', 1.6]] as const) {
    const one = row(m, 1), two = row(m, 2)
    if (one === undefined) continue
    console.log(`${m}: DSL / PyTorch ${(one.medianMs / one.torchMs).toFixed(3)} at 1 thread (target ≤ 1.0: ${one.medianMs <= one.torchMs ? 'met' : 'not met'})` +
      (two === undefined ? '' : `, ${(two.medianMs / two.torchMs).toFixed(3)} at 2; 2 threads vs 1: tfppl ${(one.medianMs / two.medianMs).toFixed(2)}× faster (target ≥ ${targetSpeedup}: ${one.medianMs / two.medianMs >= targetSpeedup ? 'met' : 'not met'}), PyTorch ${(one.torchMs / two.torchMs).toFixed(2)}×`))
  }
  if (mlp1 !== undefined) console.log(`the speed issue measured Pyro at 11.75 / 8.83 = 1.33 × plain PyTorch: ≈ ${(1.33 * mlp1.torchMs).toFixed(1)} ms for the MLP VAE step here (an estimate: Pyro is not installed)`)
  const worst = Math.max(...versus.map((r) => Math.abs(r.torchMs / r.standaloneMs - 1)))
  console.log(`in-round PyTorch vs PyTorch run alone: within ${(100 * worst).toFixed(1)}% on every row (the check: ≤ 10% on a quiet machine)`)
}
console.log(`load average (1, 5, 15 min) before ${loadBefore.map((l) => l.toFixed(2)).join(', ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(', ')} on ${cpus().length} CPUs`)
mkdirSync('bench/results', { recursive: true })
const file = `bench/results/${new Date().toISOString().slice(0, 10)}${quick ? '-quick' : ''}${torchOnly ? '-torch' : ''}.json`
writeFileSync(file, JSON.stringify({ machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, data: source, loadavgBefore: loadBefore, loadavgAfter: loadAfter }, rows, ratio, reference,
  versusPytorch: versus.map((r) => ({ model: r.model, variant: r.variant, backend: r.backend, native: r.native, threads: r.threads, medianMs: r.medianMs, torchMs: r.torchMs, ratio: r.medianMs / r.torchMs,
    torchStandaloneMs: r.standaloneMs, cpuMs: r.cpuMs, dslRepsMs: r.dslReps, torchRepsMs: r.torchReps, torchStandaloneRepsMs: r.standaloneReps, cpus: r.cpus, idleCpu: r.idleCpu })), numTensors: { before: tensorsBefore, after: tensorsAfter }, ...(epochs3 === undefined ? {} : { fit3Epochs: epochs3 }), peakRssMiB: process.resourceUsage().maxRSS / 1024 }, null, 2) + '\n')
console.log(`wrote ${file}`)
