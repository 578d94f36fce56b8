/**
 * The demo's training worker: a VAE (784-256-2, Bernoulli pixels) trained with
 * SVI on the bundled digits, off the page's main thread. It reports every
 * step's loss, reconstructions every {@link RECON_EVERY} steps, and decodes the
 * latent points the page asks for.
 */
import * as tf from '@tensorflow/tfjs-core'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { type BackendName, type BackendOptions, elbo, initBackend, svi, vae } from 'tfppl'
import { decodeDigits } from './digits-format.js'
import type { WorkerScope } from './dom.js'
import type { FromWorker, ToWorker } from './protocol.js'

const BATCH = 100
const Z_DIM = 2
const RECON_EVERY = 25
const SHOWN = 8

const scope = globalThis as unknown as WorkerScope<ToWorker, FromWorker>
const post = (m: FromWorker): void => { scope.postMessage(m) }

/** Lets queued messages (decode requests) run between steps, without setTimeout's clamping. */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => {
  const channel = new MessageChannel()
  const port = channel.port1 as unknown as { onmessage: (() => void) | null; close: () => void }   // a browser's MessagePort (Node's types lack onmessage)
  port.onmessage = () => { port.close(); resolve() }
  channel.port2.postMessage(null)
})

/** A seeded sequence of minibatch indices (mulberry32): the same batches on every backend. */
const batches = (n: number, seed: number) => {
  let a = seed >>> 0
  const next = () => { a = (a + 0x6d2b79f5) >>> 0; let x = Math.imul(a ^ (a >>> 15), 1 | a); x ^= x + Math.imul(x ^ (x >>> 7), 61 | x); return ((x ^ (x >>> 14)) >>> 0) / 4294967296 }
  return (): Int32Array => Int32Array.from({ length: BATCH }, () => Math.floor(next() * n))
}

let model: ReturnType<typeof vae> | undefined
/** The latent point last asked for; `pending` until decoded (requests met during training wait for the step's end, and only the last counts). */
let latent: { id: number; z: readonly number[]; pending: boolean } = { id: 0, z: [0, 0], pending: false }
let training = false
let step = 0

/** A tensor's values, read without blocking (the GPU backends cannot, or only by stalling, read synchronously); the tensor is disposed. */
const read = async (t: tf.Tensor): Promise<Float32Array> => {
  try { return (await t.data()) as Float32Array } finally { t.dispose() }
}

const decodeLatent = async (): Promise<void> => {
  if (model === undefined) return
  const m = model, { id, z } = latent
  latent = { ...latent, pending: false }
  const pixels = await read(tf.tidy(() => m.decode(tf.tensor2d([[...z]], [1, Z_DIM]))))
  post({ type: 'decoded', id, step, pixels })
}

const train = async (steps: number, backend: string | undefined): Promise<void> => {
  setWasmPaths(new URL('wasm/', scope.location.href).href)
  const t0 = performance.now()
  const info = await initBackend(backend === undefined ? {} : { backend: backend as BackendName } satisfies BackendOptions)
  const initMs = performance.now() - t0
  const digits = decodeDigits(await (await fetch(new URL('digits.bin', scope.location.href))).arrayBuffer())
  const pixels = digits.side * digits.side
  const x = tf.tensor2d(digits.train, [digits.nTrain, pixels])
  const originals = digits.test.slice(0, SHOWN * pixels)
  const shown = tf.tensor2d(originals, [SHOWN, pixels])
  const m = (model = vae({ xDim: pixels, zDim: Z_DIM, hidden: [256], seed: 0 }))
  const s = svi({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-7), loss: elbo(), seed: 0 })   // ε given: tfjs's default is 1e-4 on webgl, 1e-7 elsewhere
  const detail = `${info.package}${info.simd ? ', SIMD' : ''}${info.name === 'wasm' ? `, ${info.threads} thread(s)` : ''}${info.adapter === undefined ? '' : `, ${info.adapter.description || info.adapter.vendor}`}`
  post({ type: 'ready', backend: info.name, detail, skipped: info.skipped, initMs, nTrain: digits.nTrain, zDim: Z_DIM })
  const nextBatch = batches(digits.nTrain, 0)
  training = true
  for (step = 1; step <= steps; step++) {
    const t0 = performance.now()
    const xb = tf.tidy(() => tf.gather(x, nextBatch()))
    const loss = await s.stepAsync(m.model, m.guide, xb)   // on wasm and cpu, the same as s.step
    xb.dispose()
    post({ type: 'loss', step, loss, ms: performance.now() - t0 })
    if (step % RECON_EVERY === 0 || step === steps) {
      const recons = await read(tf.tidy(() => m.decode(m.encode(shown).loc)))
      post({ type: 'recon', step, n: SHOWN, originals, recons })
      await decodeLatent()
    }
    await yieldToEvents()
    if (latent.pending) await decodeLatent()
  }
  training = false
  post({ type: 'done', steps })
}

scope.onmessage = (e) => {
  const msg = e.data
  if (msg.type === 'decode') {
    latent = { id: msg.id, z: msg.z, pending: true }
    if (!training) void decodeLatent()
  } else if (msg.type === 'start') {
    train(msg.steps, msg.backend).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }))
  }
}
