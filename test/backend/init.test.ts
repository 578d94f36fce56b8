import * as tf from '@tensorflow/tfjs-core'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BackendName, backendInfo, initBackend } from '../../src/backend/init.js'
import { BackendError } from '../../src/errors.js'

const resolvable = (pkg: string): boolean => {
  try { createRequire(import.meta.url).resolve(pkg); return true } catch { return false }
}
const hasNode = resolvable('@tensorflow/tfjs-node') || resolvable('@tensorflow/tfjs-node-gpu')

describe('initBackend', () => {
  // The backend test/setup.ts chose; restored after the tests that switch it.
  let chosen: BackendName = 'wasm'
  beforeAll(() => { chosen = backendInfo().name })
  afterAll(async () => { await initBackend({ backend: chosen }) })

  it('reports the backend it chose, and tfjs agrees', () => {
    const info = backendInfo()
    expect(tf.getBackend()).toBe(info.name)
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name)
    if (info.name === 'wasm') expect(info.simd).toBe(true)
    if (!hasNode && process.env['TFPPL_BACKEND'] === undefined) {
      expect(info.name).toBe('wasm')
      expect(info.skipped.join('\n')).toMatch(/tfjs-node-gpu: not installed/)
    }
  })

  it('lists the kernels the native accelerator runs (none when it is off)', () => {
    const info = backendInfo()
    if (info.native) expect(info.nativeKernels).toEqual(expect.arrayContaining(['BatchMatMul', 'Conv2D', 'Conv2DBackpropInput', 'TfpplDense']))
    else expect(info.nativeKernels).toEqual([])
  })

  it('a forced cpu backend is used', async () => {
    expect((await initBackend({ backend: 'cpu' })).name).toBe('cpu')
    expect(tf.getBackend()).toBe('cpu')
  })

  it.skipIf(hasNode)('a forced tensorflow backend that is not installed is a BackendError with the install command', async () => {
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(BackendError)
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(/npm install @tensorflow\/tfjs-node-gpu/)
  })

  it('an unknown TFPPL_BACKEND is a BackendError naming the value', async () => {
    const saved = process.env['TFPPL_BACKEND']
    process.env['TFPPL_BACKEND'] = 'vulkan'
    try {
      await expect(initBackend()).rejects.toThrow(/TFPPL_BACKEND='vulkan' is not a backend tfppl knows; expected one of tensorflow, webgpu, webgl, wasm, cpu/)
    } finally {
      if (saved === undefined) delete process.env['TFPPL_BACKEND']; else process.env['TFPPL_BACKEND'] = saved
    }
  })
})
