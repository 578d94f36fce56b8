/**
 * `npm run bench:particles`: vectorised particles against the particle loop (issue 17). The VAE of
 * bench/vae-step.ts (784-400-50 softplus, Bernoulli, batch 128, Adam 1e-3) on wasm with the native
 * accelerator, 1 BLAS thread; `svi.step` with
 *   v16 elbo({ numParticles: 16 })                         (one pass, a particle plate left of 'data')
 *   l16 elbo({ numParticles: 16, vectorizeParticles: false }) (16 traces in a JS loop)
 *   v4 / l4 the same with 4 particles, one elbo() (1 particle),
 * and the hand-written tfjs loop of bench/handwritten-vae.ts (tf.train.adam, and svi's update step)
 * for the 1-particle DSL overhead ratio as bench/vae-step.ts defines it. Interleaved rounds in one
 * process on the same batches, each variant its own model, svi and param store from the same seed
 * (identical initial weights). Prints median and p10–p90 ms/step, the ratios, numTensors per
 * block, then where the 16-particle steps spend their time: forward alone (`svi.evaluate`) and
 * `tf.profile` kernel times by kernel. Options: `-- --rounds N` (default 9), `-- --threads N` (BLAS threads, default 1).
 */
import * as tf from '@tensorflow/tfjs-core'
import { cpus, loadavg } from 'node:os'
import { backendInfo, elbo, initBackend, setNative, svi, vae } from 'tfppl'
import type { Loss } from 'tfppl'
import { handwrittenVae } from './handwritten-vae.js'
import { loadImages, quantile } from './images.js'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}
const ROUNDS = arg('rounds', 9), THREADS = arg('threads', 1)
const BATCH = 128, Z = 50

await initBackend({ backend: 'wasm' })
if (!setNative(true, THREADS).native) throw new Error(`bench: the native accelerator is required: ${backendInfo().nativeStatus}`)
const { x, source } = loadImages()
const batches = Array.from({ length: 16 }, (_, i) => tf.slice(x, i * BATCH, BATCH) as tf.Tensor2D)

/** A DSL variant: its own VAE (seed 0: the same initial weights in every variant) and svi. */
const dslVariant = (loss: Loss) => {
  const m = vae({ xDim: 784, zDim: Z, hidden: [400], seed: 0 })
  const s = svi({ optimizer: tf.train.adam(1e-3), loss, seed: 0 })
  return {
    step: (b: tf.Tensor2D): number => s.step(m.model, m.guide, b),
    evaluate: (b: tf.Tensor2D): Promise<number> => s.evaluate(m.model, m.guide, b),
    weights: [...m.networks.encoder.variables, ...m.networks.decoder.variables],
    dispose: () => { m.dispose(); s.params.dispose(); s.optimizer.dispose() },
  }
}

const dsl = {
  v16: dslVariant(elbo({ numParticles: 16 })),
  l16: dslVariant(elbo({ numParticles: 16, vectorizeParticles: false })),
  v4: dslVariant(elbo({ numParticles: 4 })),
  l4: dslVariant(elbo({ numParticles: 4, vectorizeParticles: false })),
  one: dslVariant(elbo()),
}
const hand = handwrittenVae(dsl.one.weights, Z, 0), handFused = handwrittenVae(dsl.one.weights, Z, 0, true)
const step = { ...Object.fromEntries(Object.entries(dsl).map(([k, v]) => [k, v.step])), hand: hand.step, handFused: handFused.step } as Record<Variant, (b: tf.Tensor2D) => number>
type Variant = keyof typeof dsl | 'hand' | 'handFused'
const VARIANTS: readonly Variant[] = ['v16', 'l16', 'v4', 'l4', 'one', 'hand', 'handFused']
const LABEL: Record<Variant, string> = {
  v16: '16 particles, vectorised', l16: '16 particles, loop', v4: '4 particles, vectorised', l4: '4 particles, loop',
  one: '1 particle (elbo())', hand: 'hand-written, tf.train.adam', handFused: 'hand-written, svi\'s update',
}
/** Steps per variant per round (the 16-particle steps are ≈ 10× the 1-particle one) and warm-up steps. */
const STEPS: Record<Variant, number> = { v16: 4, l16: 4, v4: 8, l4: 8, one: 15, hand: 15, handFused: 15 }
const WARMUP: Record<Variant, number> = { v16: 3, l16: 3, v4: 5, l4: 5, one: 10, hand: 10, handFused: 10 }

const times = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>
const losses = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>
/** numTensors after each of a variant's blocks (flat: the step frees all it creates). */
const tensors = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>

let batch = 0
const timed = (v: Variant): number => {
  const b = batches[batch++ % batches.length]!
  const t0 = performance.now()
  const loss = step[v](b)
  const ms = performance.now() - t0
  if (!Number.isFinite(loss)) throw new Error(`bench: ${v}: non-finite loss ${loss}`)
  losses[v].push(loss)
  return ms
}

const load0 = loadavg()[0]!
for (const v of VARIANTS) for (let i = 0; i < WARMUP[v]; i++) timed(v)
for (const v of VARIANTS) losses[v].length = 0
const tensorsAfterWarmup = tf.memory().numTensors
for (let r = 0; r < ROUNDS; r++) {
  const order = VARIANTS.map((_, j) => VARIANTS[(j + r) % VARIANTS.length]!)
  for (const v of order) {
    for (let i = 0; i < STEPS[v]; i++) times[v].push(timed(v))
    tensors[v].push(tf.memory().numTensors)
  }
}
const load1 = loadavg()[0]!

const med = (v: Variant) => quantile(times[v], 0.5)
const fmt = (n: number) => n.toFixed(2)
console.log(`VAE 784-400-50, batch ${BATCH}, Adam 1e-3, ${source}; wasm + native accelerator, ${THREADS} BLAS thread${THREADS === 1 ? '' : 's'} (${backendInfo().nativeStatus})`)
console.log(`${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}; ${ROUNDS} interleaved rounds (steps per variant per round: ${VARIANTS.map((v) => `${v} ${STEPS[v]}`).join(', ')}) after warm-up; load average ${load0.toFixed(2)} → ${load1.toFixed(2)}`)
console.log('| variant | median ms/step | p10 | p90 | ms per particle | median loss |\n| --- | --- | --- | --- | --- | --- |')
const particles: Record<Variant, number> = { v16: 16, l16: 16, v4: 4, l4: 4, one: 1, hand: 1, handFused: 1 }
for (const v of VARIANTS) {
  console.log(`| ${LABEL[v]} | ${fmt(med(v))} | ${fmt(quantile(times[v], 0.1))} | ${fmt(quantile(times[v], 0.9))} | ${fmt(med(v) / particles[v])} | ${quantile(losses[v], 0.5).toFixed(2)} |`)
}
/** a/b per round (medians of each round's block; the blocks of a round are adjacent in time): median (min–max) over rounds. */
const perRound = (a: Variant, b: Variant): string => {
  const rs = Array.from({ length: ROUNDS }, (_, r) => quantile(times[a].slice(r * STEPS[a], (r + 1) * STEPS[a]), 0.5) / quantile(times[b].slice(r * STEPS[b], (r + 1) * STEPS[b]), 0.5))
  return `per round ${quantile(rs, 0.5).toFixed(3)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})`
}
console.log(`vectorised / loop, 16 particles: ${(med('v16') / med('l16')).toFixed(3)} (target ≤ 0.6); ${perRound('v16', 'l16')}`)
console.log(`vectorised / loop, 4 particles: ${(med('v4') / med('l4')).toFixed(3)}; ${perRound('v4', 'l4')}`)
console.log(`16-particle vectorised / 1 particle: ${(med('v16') / med('one')).toFixed(2)}; loop / 1 particle: ${(med('l16') / med('one')).toFixed(2)}`)
console.log(`1-particle DSL overhead ratio (elbo() / hand-written with tf.train.adam): ${(med('one') / med('hand')).toFixed(3)} (target ≤ 1.05), ${perRound('one', 'hand')}; at equal update step: ${(med('one') / med('handFused')).toFixed(3)}, ${perRound('one', 'handFused')}`)
console.log(`numTensors after warm-up ${tensorsAfterWarmup}; after each block, per variant:`)
for (const v of VARIANTS) console.log(`  ${v}: ${tensors[v].join(' ')}`)

// Where the time goes: the forward pass alone (svi.evaluate: trace, replay, log densities, no tape),
// then one step under tf.profile (every kernel synchronised and timed) per variant.
const forwardMs = async (v: keyof typeof dsl, n: number): Promise<number> => {
  const ms: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await dsl[v].evaluate(batches[i % batches.length]!)
    ms.push(performance.now() - t0)
  }
  return quantile(ms, 0.5)
}
console.log('\nForward alone (svi.evaluate, median of 15, interleaved with the steps above measured again):')
console.log('| variant | step ms | forward ms | backward + update ms |\n| --- | --- | --- | --- |')
for (const v of ['v16', 'l16', 'v4', 'l4', 'one'] as const) {
  const ms: number[] = []
  for (let i = 0; i < 15; i++) ms.push(timed(v))
  const s = quantile(ms, 0.5), f = await forwardMs(v, 15)
  console.log(`| ${LABEL[v]} | ${fmt(s)} | ${fmt(f)} | ${fmt(s - f)} |`)
}

const isKernel = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined
/** Kernel time by kernel name over one profiled step (median over `n` profiled steps per kernel name). */
const profileStep = async (v: Variant, n: number) => {
  const perKernel = new Map<string, { ms: number[]; count: number }>()
  const walls: number[] = [], launches: number[] = [], kernelTotals: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const info = await tf.profile(() => { timed(v) })
    walls.push(performance.now() - t0)
    launches.push(info.kernels.length)
    const byName = new Map<string, number>()
    for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number))
    // A customGrad op (e.g. 'bernoulli.logProb') is recorded as well as the kernels it runs: not in the total.
    kernelTotals.push([...byName].reduce((a, [name, ms]) => isKernel(name) ? a + ms : a, 0))
    for (const [name, ms] of byName) {
      const e = perKernel.get(name) ?? { ms: [], count: info.kernels.filter((k) => k.name === name).length }
      e.ms.push(ms)
      perKernel.set(name, e)
    }
  }
  return { wall: quantile(walls, 0.5), launches: quantile(launches, 0.5), kernels: quantile(kernelTotals, 0.5),
    top: [...perKernel].map(([name, e]) => ({ name, ms: quantile(e.ms, 0.5), count: e.count })).sort((a, b) => b.ms - a.ms) }
}
console.log('\ntf.profile, one step (median of 5 profiled steps; every kernel is synchronised, so the wall time is above the unprofiled step):')
const profiled = new Map<Variant, Awaited<ReturnType<typeof profileStep>>>()
for (const v of ['v16', 'l16', 'one'] as const) profiled.set(v, await profileStep(v, 5))
for (const [v, p] of profiled) {
  console.log(`${LABEL[v]}: ${p.launches} kernel launches; kernels ${fmt(p.kernels)} ms of ${fmt(p.wall)} ms profiled wall (outside kernels ${fmt(p.wall - p.kernels)} ms)`)
  console.log(`  ${p.top.slice(0, 10).map((k) => `${k.name}${isKernel(k.name) ? '' : ' (a customGrad op around kernels listed apart)'} ×${k.count} ${fmt(k.ms)}`).join('; ')}`)
}
// The particle plate expands each latent site's distribution (broadcastTo → tfjs's Tile, a generic per-element kernel on wasm).
const tile = profiled.get('v16')!.top.find((k) => k.name === 'Tile')
if (tile !== undefined) {
  const share = tile.ms / profiled.get('v16')!.wall, without = med('v16') * (1 - share)
  console.log(`16 particles, vectorised: Tile ×${tile.count} ${fmt(tile.ms)} ms, ${(100 * share).toFixed(0)}% of the profiled step; the step's median less that share: ${fmt(without)} ms, ${(without / med('l16')).toFixed(3)} × the loop's median`)
}

for (const d of Object.values(dsl)) d.dispose()
hand.dispose(); handFused.dispose(); tf.dispose(batches); x.dispose()
console.log(`numTensors at the end: ${tf.memory().numTensors}`)
