/**
 * `npm run bench:gamma`: reparameterised Gamma, Beta and Dirichlet draws with gradient (issue 18,
 * "Targets"), against the same in plain PyTorch 1.13. One repetition draws 10⁶ values and takes
 * the gradient of their sum w.r.t. every parameter with `tf.grads`:
 *   gamma      gamma(α, β).rsample(), α = linspace(0.5, 5, 10⁶), β = linspace(0.5, 2, 10⁶)
 *   beta       beta(c1, c0).rsample(), c1 = linspace(0.5, 5, 10⁶), c0 = linspace(5, 0.5, 10⁶)
 *   dirichlet  dirichlet(α).rsample(), α = linspace(0.5, 5, 10⁶) as [10⁵, 10]
 * on wasm with the native accelerator (1 BLAS thread) and with it switched off (`setNative(false)`:
 * stock wasm kernels; under `TFPPL_NATIVE=0` only that row runs). When a Python with PyTorch is
 * found (TFPPL_PYTHON, python3, /usr/bin/python3), `bench/pytorch-gamma.py --serve` runs the same
 * repetitions (torch.distributions, `rsample()`, `sum().backward()`, 1 thread) in a child process,
 * interleaved: every round runs each distribution in each configuration, then PyTorch, in a
 * rotating order. Prints median and min–max ms per repetition and the tfppl/PyTorch ratios (target
 * ≤ 2 with the accelerator). Options: `-- --rounds N` (default 7), `-- --reps N` (repetitions per
 * block, default 1), `-- --threads N` (BLAS threads, default 1).
 */
import * as tf from '@tensorflow/tfjs-core'
import { spawn } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { backendInfo, beta, dirichlet, gamma, initBackend, setNative } from 'tfppl'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}
const ROUNDS = arg('rounds', 7), REPS = arg('reps', 1), THREADS = arg('threads', 1), WARMUP = 2
const N = 1_000_000

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

type Dist = 'gamma' | 'beta' | 'dirichlet'
const DISTS: readonly Dist[] = ['gamma', 'beta', 'dirichlet']
const LABEL: Record<Dist, string> = {
  gamma: 'gamma(α, β), 10⁶ draws', beta: 'beta(c1, c0), 10⁶ draws', dirichlet: 'dirichlet(α), 10⁵ × 10',
}

await initBackend({ backend: 'wasm' })
const nativeOk = setNative(true, THREADS).native
const nativeStatus = backendInfo().nativeStatus
type Config = 'native' | 'stock'
const CONFIGS: readonly Config[] = nativeOk ? ['native', 'stock'] : ['stock']
const CONFIG_LABEL: Record<Config, string> = { native: `tfppl, wasm + native, ${THREADS} thread${THREADS === 1 ? '' : 's'}`, stock: 'tfppl, wasm, stock kernels' }

const params: Record<Dist, tf.Tensor[]> = {
  gamma: [tf.linspace(0.5, 5, N), tf.linspace(0.5, 2, N)],
  beta: [tf.linspace(0.5, 5, N), tf.linspace(5, 0.5, N)],
  dirichlet: [tf.tidy(() => tf.reshape(tf.linspace(0.5, 5, N), [N / 10, 10]))],
}
const draw: Record<Dist, (ps: tf.Tensor[], seed: number) => tf.Tensor> = {
  gamma: ([a, b], seed) => gamma(a!, b!).rsample([], seed),
  beta: ([a, b], seed) => beta(a!, b!).rsample([], seed),
  dirichlet: ([a], seed) => dirichlet(a!).rsample([], seed),
}

let seed = 0
/** One repetition: draw, sum, gradients w.r.t. every parameter (wasm runs eagerly; the grads' sums are read back). */
const rep = (d: Dist): number => {
  const s = seed++
  const t0 = performance.now()
  const check = tf.tidy(() => {
    const gs = tf.grads((...ps: tf.Tensor[]) => tf.sum(draw[d](ps, s)))(params[d])
    return gs.map((g) => tf.sum(g).dataSync()[0]!)
  })
  const ms = performance.now() - t0
  if (!check.every(Number.isFinite)) throw new Error(`bench: ${d}: non-finite gradient sum ${check.join(', ')}`)
  return ms
}

const setConfig = (c: Config) => {
  if (!nativeOk) return
  if (setNative(c === 'native', THREADS).native !== (c === 'native')) throw new Error(`bench: could not set the accelerator: ${backendInfo().nativeStatus}`)
}

/** The PyTorch reference in a child process, or undefined (with the reason) when no Python has torch. */
interface Reference { torch: string; python: string; reps: (d: Dist, n: number) => Promise<number[]>; close: () => void }
const SCRIPT = fileURLToPath(new URL('./pytorch-gamma.py', import.meta.url))
const tryStart = (python: string): Promise<Reference | undefined> => new Promise((resolve) => {
  const child = spawn(python, [SCRIPT, '--serve', '--threads', String(THREADS)], { stdio: ['pipe', 'pipe', 'ignore'] })
  const lines = createInterface({ input: child.stdout })
  const waiting: { done: (ms: number[]) => void; fail: (e: Error) => void }[] = []
  let ready = false
  child.on('error', () => resolve(undefined))
  child.on('exit', (code) => {
    if (!ready) resolve(undefined)
    for (const w of waiting.splice(0)) w.fail(new Error(`bench: the PyTorch reference (${python}) exited with code ${code}`))
  })
  lines.on('line', (line) => {
    if (ready) { waiting.shift()?.done((JSON.parse(line) as { ms: number[] }).ms); return }
    if (!line.startsWith('{"ready"')) return
    ready = true
    resolve({
      torch: (JSON.parse(line) as { torch: string }).torch, python,
      reps: (d, n) => new Promise((done, fail) => { waiting.push({ done, fail }); child.stdin.write(`${d} ${n}\n`) }),
      close: () => { child.stdin.end() },
    })
  })
})
let ref: Reference | undefined
for (const p of [process.env['TFPPL_PYTHON'], 'python3', '/usr/bin/python3']) {
  if (p === undefined || p === '') continue
  if ((ref = await tryStart(p)) !== undefined) break
}

type Variant = `${Config}:${Dist}` | `torch:${Dist}`
const times = new Map<Variant, number[]>()
const push = (v: Variant, ms: number[]) => { times.set(v, [...(times.get(v) ?? []), ...ms]) }

const load0 = loadavg()[0]!
for (const c of CONFIGS) { setConfig(c); for (const d of DISTS) for (let i = 0; i < WARMUP; i++) rep(d) }
const tensors0 = tf.memory().numTensors
const t0 = performance.now()
for (let r = 0; r < ROUNDS; r++) {
  const blocks: (Config | 'torch')[] = [...CONFIGS, ...(ref ? ['torch' as const] : [])]
  const order = blocks.map((_, j) => blocks[(j + r) % blocks.length]!)
  for (const b of order) {
    for (const d of DISTS) {
      if (b === 'torch') push(`torch:${d}`, await ref!.reps(d, REPS))
      else { setConfig(b); push(`${b}:${d}`, Array.from({ length: REPS }, () => rep(d))) }
    }
  }
}
const wallS = (performance.now() - t0) / 1000
const load1 = loadavg()[0]!
ref?.close()

const fmt = (n: number) => n.toFixed(1)
const cell = (v: Variant) => {
  const ms = times.get(v)
  return ms === undefined ? '—' : `**${fmt(quantile(ms, 0.5))}** (${fmt(Math.min(...ms))}–${fmt(Math.max(...ms))})`
}
console.log(`Reparameterised draws with gradient, 10⁶ values per repetition; ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}; accelerator: ${nativeStatus}`)
console.log(`PyTorch reference: ${ref ? `torch ${ref.torch} (${ref.python}), ${THREADS} thread${THREADS === 1 ? '' : 's'}, interleaved` : 'not found (no Python with torch)'}`)
console.log(`${ROUNDS} interleaved rounds × ${REPS} repetition${REPS === 1 ? '' : 's'} per distribution and configuration after ${WARMUP} warm-up; ${wallS.toFixed(0)} s; load average ${load0.toFixed(2)} → ${load1.toFixed(2)}`)
const cols: (Config | 'torch')[] = [...CONFIGS, ...(ref ? ['torch' as const] : [])]
const colLabel = (c: Config | 'torch') => c === 'torch' ? `PyTorch ${ref?.torch ?? ''}, 1 thread` : CONFIG_LABEL[c]
console.log(`| draws + gradient | ${cols.map(colLabel).join(' | ')} |${ref ? CONFIGS.map((c) => ` ${c} / PyTorch |`).join('') : ''}`)
console.log(`| --- |${cols.map(() => ' --- |').join('')}${ref ? CONFIGS.map(() => ' --- |').join('') : ''}`)
for (const d of DISTS) {
  const ratios = ref ? CONFIGS.map((c) => ` ${(quantile(times.get(`${c}:${d}`)!, 0.5) / quantile(times.get(`torch:${d}`)!, 0.5)).toFixed(2)} |`).join('') : ''
  console.log(`| ${LABEL[d]} | ${cols.map((c) => cell(`${c}:${d}` as Variant)).join(' | ')} |${ratios}`)
}
console.log('Median ms per repetition (min–max).')
if (ref) {
  for (const c of CONFIGS) {
    for (const d of DISTS) {
      const a = times.get(`${c}:${d}`)!, b = times.get(`torch:${d}`)!
      const rs = Array.from({ length: ROUNDS }, (_, r) => quantile(a.slice(r * REPS, (r + 1) * REPS), 0.5) / quantile(b.slice(r * REPS, (r + 1) * REPS), 0.5))
      console.log(`${c} / PyTorch, ${d}: per round ${quantile(rs, 0.5).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})${c === 'native' ? ' (target ≤ 2)' : ''}`)
    }
  }
}
// Where a tfppl repetition spends its time (accelerator on when available): kernels against the rest
// (the JavaScript random number generation of the sampler, tape bookkeeping), one profiled repetition each.
setConfig(CONFIGS[0]!)
for (const d of DISTS) {
  const w0 = performance.now()
  const info = await tf.profile(() => { rep(d) })
  const wall = performance.now() - w0
  const byName = new Map<string, number>()
  for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number))
  const isKernel = (name: string) => tf.getKernel(name, tf.getBackend()) !== undefined
  const kernels = [...byName].reduce((a, [n, ms]) => isKernel(n) ? a + ms : a, 0)
  const top = [...byName].filter(([n]) => isKernel(n)).sort((a, b) => b[1] - a[1]).slice(0, 6)
  console.log(`profile ${d} (${CONFIGS[0]}): ${info.kernels.length} launches, kernels ${fmt(kernels)} ms of ${fmt(wall)} ms profiled wall (outside kernels ${fmt(wall - kernels)} ms); ${top.map(([n, ms]) => `${n} ${fmt(ms)}`).join(', ')}`)
}
tf.dispose(Object.values(params).flat())
console.log(`numTensors after warm-up ${tensors0}, at the end ${tf.memory().numTensors} (parameters disposed)`)
