/**
 * `svi.initAsync` and `svi.evaluate` on a fresh store, as on webgpu in Node, emulated on the test's backend
 * (cpu or wasm): `readsSync()` says no, and a synchronous read is the BackendError it is there, while
 * asynchronous reads work. They create the params without reading synchronously, give what `init` and
 * `evaluate` give on the synchronous path, and a failure — validation, or the asynchronous read itself —
 * leaves the store as it was (empty) and frees every tensor made. The real thing is
 * `test/backend/webgpu.test.ts`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { setValidation } from '../../src/distributions/validation.js'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { normal } from '../../src/distributions/normal.js'
import { observe, param, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import * as constraints from '../../src/distributions/constraints.js'
import { elbo } from '../../src/inference/elbo.js'
import { svi } from '../../src/inference/svi.js'
import { BackendError, SupportError } from '../../src/errors.js'
import type { TfpplWarning } from '../../src/inference/warnings.js'
import { read } from '../helpers.js'
import { asWebgpuInNode as emulated, emulable } from '../fixtures/no-sync-reads.js'
import { initBackend } from '../../src/backend/init.js'

await initBackend()   // the backend decides below which tests the emulation can run

const gpu = vi.hoisted(() => ({ sync: true }))
vi.mock('../../src/backend/gpu.js', async (importOriginal) => ({ ...await importOriginal<typeof import('../../src/backend/gpu.js')>(), readsSync: () => gpu.sync }))

const asWebgpuInNode = <A>(f: () => Promise<A>, readFails?: Error): Promise<A> => emulated(gpu, f, readFails)

afterEach(() => { setValidation(true) })

/** x_i ~ Bernoulli(sigmoid(w·z_i)), z_i ~ N(0, 1); the guide's z_i ~ N(loc, scale): params w, loc, scale. */
const model = (x: tf.Tensor) => gen(function* () {
  const w = yield* param('w', () => tf.scalar(0.5))
  const z = yield* sample('z', normal(tf.zeros([x.shape[0]!]), 1).toEvent(1))
  yield* observe('x', bernoulli({ logits: tf.mul(w, z) }).toEvent(1), x)
})
const guide = (x: tf.Tensor) => gen(function* () {
  const loc = yield* param('loc', () => tf.fill([x.shape[0]!], 0.1))
  const scale = yield* param('scale', () => tf.fill([x.shape[0]!], 0.8), { constraint: constraints.positive })
  yield* sample('z', normal(loc, scale).toEvent(1))
})
const good = () => tf.tensor1d([1, 0, 1, 1])
const bad = () => tf.tensor1d([1, 0, 2, 1])   // 2 is outside Bernoulli's support

const fresh = (onWarning: (w: TfpplWarning) => void = () => {}) => svi({ optimizer: tf.train.sgd(0.1), loss: elbo(), seed: 3, onWarning })
const valuesOf = (s: ReturnType<typeof svi>): Record<string, number[]> =>
  Object.fromEntries(s.params.entries().map((e) => [e.name, read(s.params.value(e.name)!)]))

describe('svi on a fresh store without synchronous reads (webgpu in Node, emulated)', () => {
  it('initAsync creates the params init creates, with the same values', async () => {
    const x = good()
    const [sync, async_] = [fresh(), fresh()]
    sync.init(model, guide, x)
    await asWebgpuInNode(() => async_.initAsync(model, guide, x))
    expect(async_.params.entries().map((e) => e.name)).toEqual(['loc', 'scale', 'w'])   // the guide runs first
    expect(valuesOf(async_)).toEqual(valuesOf(sync))
    sync.params.dispose(); async_.params.dispose(); x.dispose()
  })

  it('evaluate gives the synchronous path\'s loss, bit for bit, and warns that the params are fresh', async () => {
    const x = good()
    const seen: string[] = []
    const [sync, async_] = [fresh(), fresh((w) => seen.push(w.cause))]
    const expected = await sync.evaluate(model, guide, x)
    expect(await asWebgpuInNode(() => async_.evaluate(model, guide, x))).toBe(expected)
    expect(seen).toEqual(['fresh-params'])
    expect(valuesOf(async_)).toEqual(valuesOf(sync))
    sync.params.dispose(); async_.params.dispose(); x.dispose()
  })

  it('data failing validation: evaluate and initAsync reject with the SupportError; the store stays empty, nothing leaks', async () => {
    const x = bad()
    const s = fresh()
    const before = tf.memory().numTensors
    await expect(asWebgpuInNode(() => s.evaluate(model, guide, x))).rejects.toThrow(SupportError)
    await expect(asWebgpuInNode(() => s.evaluate(model, guide, x))).rejects.toThrow(/bernoulli\.logProb: value outside the support .* got 2 at index \[2\]/)
    await expect(asWebgpuInNode(() => s.initAsync(model, guide, x))).rejects.toThrow(SupportError)
    expect(s.params.entries()).toEqual([])
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })

  it('the asynchronous read itself failing (validation off: only the loss is read): evaluate rejects and removes the params it created', async () => {
    setValidation(false)
    const x = good()
    const s = fresh()
    const before = tf.memory().numTensors
    const lost = new Error('device lost')
    await expect(asWebgpuInNode(() => s.evaluate(model, guide, x), lost)).rejects.toBe(lost)
    expect(s.params.entries()).toEqual([])
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })

  it('stepAsync on a fresh store still steps as step does', async () => {
    const x = good()
    const [sync, async_] = [fresh(), fresh()]
    const expected = sync.step(model, guide, x)
    expect(await asWebgpuInNode(() => async_.stepAsync(model, guide, x))).toBe(expected)
    expect(valuesOf(async_)).toEqual(valuesOf(sync))
    sync.params.dispose(); async_.params.dispose(); x.dispose()
  })
  it.skipIf(!emulable())('fit resuming from a checkpoint creates the params with initAsync, no synchronous read: 1 + 1 epochs equal 2 straight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfppl-resume-'))
    const x = tf.tensor1d([1, 0, 1, 1])
    try {
      const opts = { batchSize: 2, progress: false, seed: 4 } as const
      const straight = fresh()
      await straight.fit(model, guide, x, { ...opts, epochs: 2 })
      const first = fresh()
      await first.fit(model, guide, x, { ...opts, epochs: 1, checkpoint: { dir } })
      const resumed = fresh()
      const init = vi.spyOn(resumed, 'initAsync')
      await asWebgpuInNode(() => resumed.fit(model, guide, x, { ...opts, epochs: 1, checkpoint: { dir }, resume: true }))
      expect(init).toHaveBeenCalledTimes(1)
      expect(valuesOf(resumed)).toEqual(valuesOf(straight))
      for (const s of [straight, first, resumed]) s.params.dispose()
    } finally { x.dispose(); rmSync(dir, { recursive: true, force: true }) }
  })
})

describe('svi on a fresh store, synchronous path (cpu, wasm)', () => {
  it('evaluate with data failing validation rejects with the SupportError, naming the site; the store stays empty', async () => {
    const x = bad()
    const s = fresh()
    await expect(s.evaluate(model, guide, x)).rejects.toThrow(/site 'x' \(observed\): bernoulli\.logProb: value outside the support/)
    expect(s.params.entries()).toEqual([])
    expect(() => s.init(model, guide, x)).toThrow(SupportError)
    await expect(s.initAsync(model, guide, x)).rejects.toThrow(SupportError)
    expect(s.params.entries()).toEqual([])
    x.dispose()
  })
})
