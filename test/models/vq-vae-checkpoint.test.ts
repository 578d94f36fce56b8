/**
 * The VQ-VAE's codebook bookkeeping (EMA statistics, usage windows, step counters) is part of a
 * checkpoint: a run stopped after epoch 2 and resumed by a new model object trains bit for bit like
 * an uninterrupted one; older checkpoints without it still load; a mismatched buffer is named.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../../src/inference/checkpoint.js'
import { elbo } from '../../src/inference/elbo.js'
import type { FitOptions } from '../../src/inference/fit-types.js'
import { moduleBuffers } from '../../src/inference/params.js'
import type { ParamStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'
import { vqVae } from '../../src/models/vq-vae.js'
import type { VqVae, VqVaeOptions } from '../../src/models/vq-vae.js'
import { read } from '../helpers.js'
import { binaryImages } from './fixtures.js'

let root = ''
beforeEach(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-vq-ckpt-')) })
afterEach(async () => { await fs.rm(root, { recursive: true, force: true }) })

/** 6 images in batches of 2: 3 steps per epoch; the restart window of steps 5–8 straddles the checkpoint after step 6. */
const OPTIONS: VqVaeOptions = { imageShape: [28, 28, 1], numCodes: 8, codeDim: 4, codebookUpdate: 'ema', decay: 0.9, restartEvery: 4, restartBelow: 0.9, seed: 11 }

/** A fresh model and SVI driver (keeping the sites the hooks read), as a new process would build them from the same config. */
const fresh = (o: Partial<VqVaeOptions> = {}) => {
  const m = vqVae({ ...OPTIONS, ...o })
  return { m, s: svi({ optimizer: tf.train.adam(1e-2), loss: elbo(), seed: 11, keep: m.keep }) }
}

/** fit with the model's hooks wired as `tfppl train` wires them: the after-step update reads the step's kept sites. */
const fit = (m: VqVae, s: ReturnType<typeof svi>, x: tf.Tensor, opts: FitOptions) =>
  s.fit(m.model, m.guide, x, { batchSize: 2, seed: 3, progress: false, onEpochStart: m.beforeEpoch, onStep: ({ batch }) => { const kept = s.takeKept(); m.afterStep(batch, kept); tf.dispose(Object.values(kept)) }, ...opts })

/** Every stored number by name: params, module weights and module buffers, as exact float32 (or int32) values. */
const snapshot = (store: ParamStore): Record<string, number[]> => Object.fromEntries(store.entries().flatMap((e) => e.kind === 'param'
  ? [[e.name, read(e.variable)]]
  : [...e.network.variables.map((v, i) => [`${e.name}/${i}`, read(v)]), ...Object.entries(moduleBuffers(e.network)).map(([n, v]) => [`${e.name}:${n}`, read(v)])]))

const bufferValues = (m: VqVae): Record<string, number[]> => Object.fromEntries(Object.entries(m.buffers).map(([n, v]) => [n, read(v)]))

const dispose = (...runs: ReadonlyArray<{ m: VqVae; s: ReturnType<typeof svi> }>): void => {
  for (const { m, s } of runs) { s.params.dispose(); s.optimizer.dispose(); m.dispose() }
}

describe('VQ-VAE checkpoints', () => {
  it.each(['ema', 'loss'] as const)('2 epochs with checkpoints, then a new model resuming for a 3rd, equals 3 epochs straight bit for bit (%s codebook)', async (codebookUpdate) => {
    const x = binaryImages(6, 21)
    const dir = path.join(root, 'run')
    const straight = fresh({ codebookUpdate })
    const h3 = await fit(straight.m, straight.s, x, { epochs: 3 })

    const first = fresh({ codebookUpdate })
    await fit(first.m, first.s, x, { epochs: 2, checkpoint: { dir } })
    dispose(first)

    const resumed = fresh({ codebookUpdate })
    const h = await fit(resumed.m, resumed.s, x, { epochs: 1, checkpoint: { dir }, resume: true })

    expect(h.epochs.map((r) => r.epoch)).toEqual([1, 2, 3])
    expect(h.epochs.map((r) => r.trainLoss)).toEqual(h3.epochs.map((r) => r.trainLoss))
    expect(resumed.s.state.step).toBe(9)
    expect(read(resumed.m.codebook)).toEqual(read(straight.m.codebook))
    expect(snapshot(resumed.s.params)).toEqual(snapshot(straight.s.params))
    expect(bufferValues(resumed.m)).toEqual(bufferValues(straight.m))
    expect(resumed.m.usage()).toEqual(straight.m.usage())
    // The buffers are saved and restored with the params but never trained.
    const trainable = new Set(resumed.s.params.variables())
    expect(Object.values(resumed.m.buffers).some((v) => trainable.has(v))).toBe(false)
    // Loaded for pictures only, as `tfppl report` does: the EMA codebook and the last epoch's usage come back too.
    const viewer = fresh({ codebookUpdate })
    const [hh, ww, cc] = OPTIONS.imageShape
    tf.tidy(() => viewer.s.init(viewer.m.model, viewer.m.guide, tf.zeros([1, hh, ww, cc])))
    await loadCheckpoint(dir, { store: viewer.s.params })
    expect(read(viewer.m.codebook)).toEqual(read(straight.m.codebook))
    expect(viewer.m.usage()).toEqual(straight.m.usage())
    expect(viewer.m.perplexity()).toBeGreaterThan(1)
    const bookkeeping = ['epochSteps', 'epochUsage', 'lastUsage', 'steps', 'windowUsage']
    expect(Object.keys(resumed.m.buffers).sort()).toEqual(codebookUpdate === 'ema' ? ['codebook', 'emaCounts', 'emaSums', ...bookkeeping] : bookkeeping)
    dispose(straight, resumed, viewer)
    x.dispose()
  }, 300_000)

  it.each(['ema', 'loss'] as const)('a checkpoint without buffers (saved before they existed) loads, leaving them as initialised (%s codebook)', async (codebookUpdate) => {
    const x = binaryImages(4, 22)
    const dir = path.join(root, 'old')
    const trained = fresh({ codebookUpdate })
    await fit(trained.m, trained.s, x, { epochs: 1, checkpoint: { dir } })
    // What an older tfppl wrote: the same entries, with no buffers on the modules.
    const file = path.join(dir, 'manifest.json')
    const manifest = JSON.parse(await fs.readFile(file, 'utf8')) as { entries: Array<Record<string, unknown>> }
    expect(manifest.entries.some((e) => e['buffers'] !== undefined)).toBe(true)
    for (const e of manifest.entries) delete e['buffers']
    await fs.writeFile(file, JSON.stringify(manifest))

    const loaded = fresh({ codebookUpdate, restartEvery: 50 })
    const initial = bufferValues(loaded.m)
    const [h, w, c] = OPTIONS.imageShape
    tf.tidy(() => loaded.s.init(loaded.m.model, loaded.m.guide, tf.zeros([1, h, w, c])))
    await loadCheckpoint(dir, { store: loaded.s.params, optimizer: loaded.s.optimizer })
    expect(bufferValues(loaded.m)).toEqual(initial)
    expect(read(loaded.m.networks.encoder.variables[0]!)).toEqual(read(trained.m.networks.encoder.variables[0]!))
    // Resuming at epoch 2: a loss-mode codebook is a restored param and is kept; an EMA one (not in the file) is set from the batch.
    const restored = read(loaded.m.codebook)
    expect(restored).toEqual(codebookUpdate === 'loss' ? read(trained.m.codebook) : read(loaded.m.buffers['codebook']!))
    loaded.m.beforeEpoch!(2); loaded.m.afterStep!([x])
    if (codebookUpdate === 'loss') expect(read(loaded.m.codebook)).toEqual(restored)
    else expect(read(loaded.m.codebook)).not.toEqual(restored)
    dispose(trained, loaded)
    x.dispose()
  }, 120_000)

  it('a buffer of another shape is a CheckpointError naming the module, the buffer and both shapes; nothing changes', async () => {
    const dir = path.join(root, 'k8')
    const [h, w, c] = OPTIONS.imageShape
    const small = fresh()
    tf.tidy(() => small.s.init(small.m.model, small.m.guide, tf.zeros([1, h, w, c])))
    await saveCheckpoint(dir, { store: small.s.params })
    const big = fresh({ numCodes: 16 })
    tf.tidy(() => big.s.init(big.m.model, big.m.guide, tf.zeros([1, h, w, c])))
    const before = snapshot(big.s.params)
    const err = await loadCheckpoint(dir, { store: big.s.params }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(CheckpointError)
    expect((err as Error).message).toMatch(/module 'codebook' buffer 'codebook' has shape \[16, ?4\] in the store but \[8, ?4\] in the checkpoint/)
    expect(snapshot(big.s.params)).toEqual(before)
    dispose(small, big)
  }, 120_000)
})
