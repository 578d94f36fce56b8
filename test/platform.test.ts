/**
 * What depends on the host goes through `platform()`: with the portable platform (a browser's,
 * or the core alone) there is no environment, no tfjs-node, no accelerator and no checkpoint
 * files, each refused or reported with the reason; `fit` yields and prints through the platform.
 * A backend asked for by a name tfppl does not know is an error, never a silent fallback.
 */
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { backendInfo, initBackend } from '../src/backend/init.js'
import type { BackendName } from '../src/backend/init.js'
import { nativeKernelsInstalled } from '../src/backend/kernels/state.js'
import { BackendError } from '../src/errors.js'
import { CheckpointError } from '../src/inference/checkpoint-manifest.js'
import { fitLoop } from '../src/inference/fit.js'
import type { Trainer } from '../src/inference/fit-types.js'
import { paramStore } from '../src/inference/params.js'
import { PORTABLE, type Platform, platform, setPlatform } from '../src/platform.js'
import { guide, model } from './inference/conjugate.js'

/** A trainer that runs no program (as in fit.test.ts). */
const idleTrainer = (): Trainer => {
  const state = { step: 0, baselines: {} }
  return {
    init: () => undefined,
    step: () => { state.step += 1; return 1 },
    evaluate: async () => 2,
    state,
    restore: (s) => { state.step = s.step },
    params: paramStore(),
    optimizer: tf.train.sgd(0.1),
  }
}

describe('platform', () => {
  let chosen: BackendName = 'wasm'
  let node: Platform = PORTABLE
  beforeAll(() => {
    chosen = backendInfo().name
    node = platform()
  })
  afterEach(() => { setPlatform(node) })
  afterAll(async () => {
    setPlatform(node)
    await initBackend({ backend: 'cpu' })
    await initBackend({ backend: chosen })   // back on the Node platform: the accelerator reinstalled where it was
  })

  it('the tests run on the Node platform (test/setup.ts), as tfppl in Node does', () => {
    expect(node.name).toBe('node')
    expect(node.native).toBeDefined()
  })

  it('a backend name tfppl does not know is a BackendError naming it, and the backend stays as it was', async () => {
    const before = tf.getBackend()
    await expect(initBackend({ backend: 'vulkan' as BackendName })).rejects.toThrow(BackendError)
    await expect(initBackend({ backend: 'vulkan' as BackendName })).rejects.toThrow(/backend 'vulkan' is not one tfppl can start; expected one of tensorflow, webgpu, webgl, wasm, cpu/)
    expect(tf.getBackend()).toBe(before)
  })

  it('portable: tensorflow asked for by name is an error saying it is Node only (the automatic choice: test/package)', async () => {
    setPlatform(PORTABLE)
    const err = await initBackend({ backend: 'tensorflow' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendError)
    expect((err as Error).message).toMatch(/'tensorflow' was requested \(initBackend option\) but is unavailable: .*Node only/)
    expect((err as Error).message).not.toMatch(/npm install/)
  })

  it('portable: TFPPL_BACKEND is not read (there is no environment)', async () => {
    setPlatform(PORTABLE)
    const saved = process.env['TFPPL_BACKEND']
    process.env['TFPPL_BACKEND'] = 'no-such-backend'
    try {
      await expect(initBackend({ backend: 'cpu' })).resolves.toMatchObject({ name: 'cpu' })
      await expect(initBackend()).resolves.toBeDefined()
    } finally {
      if (saved === undefined) delete process.env['TFPPL_BACKEND']; else process.env['TFPPL_BACKEND'] = saved
    }
  })

  it('portable: wasm starts without the accelerator, says why, and runs none of its kernels', async () => {
    setPlatform(PORTABLE)
    await initBackend({ backend: 'cpu' })
    const info = await initBackend({ backend: 'wasm' })
    expect(info).toMatchObject({ name: 'wasm', native: false, nativeKernels: [] })
    expect(info.nativeStatus).toMatch(/^unavailable: the accelerator is a Node addon, loaded by tfppl's Node entry/)
    expect(nativeKernelsInstalled()).toBe(false)
  })

  it('portable: fit with checkpoints is a CheckpointError before any step; progress and yields go through the platform', async () => {
    const lines: string[] = []
    let yields = 0
    setPlatform({ ...PORTABLE, progress: (l) => { lines.push(l) }, yieldToHost: async () => { yields += 1 } })
    const x = tf.zeros([4])
    const t = idleTrainer()
    await expect(fitLoop(t, model, guide({ loc: 0, scale: 1 }), x, { epochs: 1, batchSize: 2, checkpoint: { dir: 'runs/x' } })).rejects.toThrow(CheckpointError)
    expect(t.state.step).toBe(0)
    await fitLoop(t, model, guide({ loc: 0, scale: 1 }), x, { epochs: 2, batchSize: 2, shuffle: false })
    expect(yields).toBe(4)
    expect(lines).toEqual([expect.stringMatching(/^epoch 1\/2 {2}loss 1\.0000 {2}\d+\.\ds$/), expect.stringMatching(/^epoch 2\/2 /)])
    tf.dispose(x)
  })

  it('portable: the default yield is a macrotask (timers run between steps)', async () => {
    let timer = false
    setTimeout(() => { timer = true }, 0)
    for (let i = 0; i < 20 && !timer; i++) await PORTABLE.yieldToHost()
    expect(timer).toBe(true)
  })
})
