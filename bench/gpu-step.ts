/**
 * `npm run bench:gpu`: the MLP VAE step (784-400-50, batch 128, Adam 1e-3, `svi.stepAsync`) on every
 * backend Node has here — webgpu (through the optional `webgpu` package), wasm (+ the native
 * accelerator when built), cpu — interleaved in one process, median and p10–p90 ms per step.
 * Without a GPU, webgpu runs on Chromium's SwiftShader Vulkan driver: a software GPU, so its figure
 * says how a CPU emulates a GPU, not how a GPU runs (the script sets the driver's environment and
 * re-runs itself when it is missing). webgl needs a browser: its figure comes from test/browser.
 * Options: `-- --rounds N` (default 5), `-- --steps N` per block (default 5).
 */
import { spawnSync } from 'node:child_process'
import * as tf from '@tensorflow/tfjs-core'
import { type BackendName, backendInfo, elbo, initBackend, svi, vae } from 'tfppl'
import { quantile } from './images.js'

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
if (process.env['VK_ICD_FILENAMES'] === undefined) {
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, VK_ICD_FILENAMES: ICD, LD_LIBRARY_PATH: '/usr/lib/chromium' } })
  process.exit(r.status ?? 1)
}

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}
const ROUNDS = arg('rounds', 5), STEPS = arg('steps', 5)

interface Variant { readonly backend: BackendName; readonly label: string; readonly times: number[]; step?: () => Promise<number> }

/** A VAE and its svi on `backend`, its data made there; undefined (with the reason) when the backend cannot start. */
const setUp = async (v: Variant): Promise<string | undefined> => {
  try { await initBackend({ backend: v.backend }) } catch (e) { return (e as Error).message }
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([128, 784], 0, 1, 'float32', 1), 0.7), 'float32'))
  const m = vae({ xDim: 784, zDim: 50, hidden: [400], seed: 0 })
  const s = svi({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-7), loss: elbo(), seed: 0 })
  v.step = () => s.stepAsync(m.model, m.guide, x)
  for (let i = 0; i < 3; i++) await v.step()   // warm-up: params, moments, shader compilation
  return undefined
}

const variants: Variant[] = [
  { backend: 'webgpu', label: 'webgpu (SwiftShader: a software GPU)', times: [] },
  { backend: 'wasm', label: 'wasm', times: [] },
  { backend: 'cpu', label: 'cpu', times: [] },
]
const ready: Variant[] = []
for (const v of variants) {
  const why = await setUp(v)
  if (why === undefined) ready.push(v); else console.log(`${v.backend}: not run (${why.split('\n')[0]})`)
  if (v.backend === 'wasm' && why === undefined) console.log(`wasm: native ${backendInfo().nativeStatus}`)
}
for (let r = 0; r < ROUNDS; r++) {
  for (const v of ready) {
    await initBackend({ backend: v.backend })
    const t0 = performance.now()
    for (let i = 0; i < STEPS; i++) await v.step!()
    v.times.push((performance.now() - t0) / STEPS)
  }
}
console.log(`\n| backend | step (median ms) | p10–p90 |\n| --- | --- | --- |`)
for (const v of ready) console.log(`| ${v.label} | ${quantile(v.times, 0.5).toFixed(1)} | ${quantile(v.times, 0.1).toFixed(1)}–${quantile(v.times, 0.9).toFixed(1)} |`)
process.exit(0)
