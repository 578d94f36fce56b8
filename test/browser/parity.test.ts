/**
 * A user's program, bundled for the browser from the built package, trains the same VAE in headless
 * Chromium as in Node: 50 SVI steps of a small VAE (64-32-2, Bernoulli pixels) on 64 fixed 8×8 binary
 * images, seed 0, on each browser backend, against the same program run by `node` on the cpu backend.
 */
import { spawnSync } from 'node:child_process'
import type { Browser } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveStatic, type StaticServer } from '../../examples/web/serve.js'
import { checkBuilt, launch, openPage, skipReason } from './chromium.js'
import { closeAll, userPage } from './user-page.js'

/** The browser backends compared with Node's cpu; webgl and webgpu are named (software devices here, which the automatic choice skips). */
const BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu'] as const

/**
 * Bounds on |browser − Node cpu| per step (nats per image; the loss goes from 45.11 to 34.82): at step 1 (before any
 * update has carried a difference forward) and over all 50 steps. Measured here (Chromium 156; webgl and webgpu on
 * SwiftShader): cpu 0 at every step (bit-identical: the same float32 kernels in the same JavaScript engine); wasm
 * 1.1e-5 at worst, at step 1 (XNNPACK's and tfppl's SIMD kernels sum in another order; Node's wasm gives the same);
 * webgl 3.8e-6 at worst; webgpu 7.6e-6 at worst (step 13), 0 at step 1. (With tfjs's default Adam ε webgl drifted to
 * 1.4e-2 by step 48: tfjs takes ε = 1e-4 on webgl, whose floatPrecision() says 16 even with float32 textures, and
 * 1e-7 elsewhere; the program gives ε.)
 * What a bug does, measured on Node cpu against the same program: seed 1 instead of 0 moves a loss by 0.50 (0.047 at
 * step 1), a learning rate 10% off by 0.33 (0.24 at step 2), one skipped update by 0.52, a learning rate 1% off by
 * 0.034 (0.025 at step 2), Adam's ε at 1e-4 instead of 1e-7 by 0.014. The bounds, ≈ 100× the measured differences and
 * below all of those: 1e-4 at step 1 (a wrong seed, datum, initialisation or loss formula shows there, before training
 * can blur it) and 1e-3 over the run, on every backend.
 */
const TOLERANCE = { first: 1e-4, all: 1e-3 } as const

/** The user's program: an ES module exporting `run(backend, wasmPaths?)`, which returns the 50 losses. */
const PROGRAM = `import * as tf from '@tensorflow/tfjs-core'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { elbo, initBackend, svi, vae } from 'tfppl'

/** 64 binary 8×8 images: each a random set of rows and columns lit (a fixed LCG: the same numbers everywhere). */
const images = () => {
  let a = 12345
  const bit = () => { a = (Math.imul(a, 1103515245) + 12345) >>> 0; return (a >>> 16) & 1 }
  const out = new Float32Array(64 * 64)
  for (let n = 0; n < 64; n++) {
    const rows = Array.from({ length: 8 }, bit), cols = Array.from({ length: 8 }, bit)
    for (let p = 0; p < 64; p++) out[n * 64 + p] = rows[p >> 3] | cols[p & 7]
  }
  return out
}

export const run = async (backend, wasmPaths) => {
  if (wasmPaths !== undefined) {
    setWasmPaths(wasmPaths)
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)   // the single-threaded SIMD build, as in Node: like against like
  }
  const info = await initBackend({ backend })
  const x = tf.tensor2d(images(), [64, 64])
  const m = vae({ xDim: 64, zDim: 2, hidden: [32], seed: 0 })
  const s = svi({ optimizer: tf.train.adam(0.01, 0.9, 0.999, 1e-7), loss: elbo(), seed: 0 })   // ε given: tfjs's default is 1e-4 on webgl, 1e-7 elsewhere
  const losses = []
  for (let i = 0; i < 50; i++) losses.push(await s.stepAsync(m.model, m.guide, x))   // s.step on cpu and wasm; webgl and webgpu read the loss back asynchronously
  return { backend: info.name, losses }
}
`

type Result = { backend: string; losses: number[] }

describe.skipIf(skipReason() !== undefined)(`a bundled user program trains in Chromium to the losses of Node's cpu backend${skipReason() === undefined ? '' : ` (skipped: ${skipReason()})`}`, () => {
  let dir = '', server: StaticServer | undefined, browser: Browser | undefined, inNode: Result | undefined
  beforeAll(async () => {
    checkBuilt()
    const page = await userPage(PROGRAM, { wasm: true })
    dir = page.dir
    server = await serveStatic(page.www)
    browser = await launch()
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "const { run } = await import('./program.mjs'); console.log(JSON.stringify(await run('cpu')))"],
      { cwd: dir, encoding: 'utf8', timeout: 120_000 })
    const last = r.stdout.trim().split('\n').pop() ?? ''
    if (r.status !== 0 || !last.startsWith('{')) throw new Error(`the program in node exited ${r.status}: ${r.stderr.split('\n').slice(-8).join('\n')}`)
    inNode = JSON.parse(last) as Result
  }, 120_000)
  afterAll(() => closeAll(browser, server, dir))

  it.each(BACKENDS)('on %s: 50 VAE steps within the stated tolerance of Node cpu', async (backend) => {
    const { page, errors } = await openPage(browser!)
    try {
      await page.goto(server!.url)
      await page.waitForFunction('window.app !== undefined', { timeout: 30_000 })
      const got = await page.evaluate(`app.run(${JSON.stringify(backend)}, new URL('wasm/', location.href).href)`).catch((e: unknown) => {
        throw new Error(`run('${backend}') failed in the page: ${e instanceof Error ? e.message : String(e)}; console: ${errors.join(' | ')}`)
      }) as Result
      expect(got.backend).toBe(backend)
      expect(got.losses).toHaveLength(50)
      const diffs = got.losses.map((l, i) => Math.abs(l - inNode!.losses[i]!))
      const worst = diffs.indexOf(Math.max(...diffs))
      console.log(`browser ${backend} vs node cpu: max |Δloss| ${diffs[worst]!.toExponential(2)} at step ${worst + 1} of 50, step 1 ${diffs[0]!.toExponential(2)} (loss ${got.losses[0]!.toFixed(3)} → ${got.losses[49]!.toFixed(3)})`)
      expect(diffs[0]!).toBeLessThanOrEqual(TOLERANCE.first)
      expect(diffs[worst]!).toBeLessThanOrEqual(TOLERANCE.all)
      expect(got.losses[49]!).toBeLessThan(got.losses[0]! - 1)   // it trains
    } finally {
      await page.close()
    }
  }, 120_000)
})
