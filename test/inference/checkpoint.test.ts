import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import type { LayersLike } from '../../src/dsl/network.js'
import { module, param } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { CheckpointError, loadCheckpoint, loadParams, saveCheckpoint, saveParams } from '../../src/inference/checkpoint.js'
import type { SaveStage } from '../../src/inference/checkpoint.js'
import { elbo } from '../../src/inference/elbo.js'
import { moduleBuffers, paramStore } from '../../src/inference/params.js'
import type { NetworkWithBuffers, ParamStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'
import type { SviState } from '../../src/inference/svi.js'
import { traceProgram } from '../../src/inference/trace.js'
import { read, t } from '../helpers.js'
import { XS, guide, model } from './conjugate.js'
import { expectResumeEqualsStraight } from './fit-resume.js'

let root = ''
beforeEach(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-ckpt-')) })
afterEach(async () => {
  await fs.chmod(root, 0o700).catch(() => undefined)
  await fs.rm(root, { recursive: true, force: true })
})

const dense = () => tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [2] })] })

/** Registers (and creates) what a program uses in `store`. */
const register = (store: ParamStore, net: tfl.Sequential | undefined, withParams: boolean): void => {
  tf.tidy(() => {
    traceProgram(gen(function* () {
      if (withParams) {
        yield* param('loc', () => t([0.5, -1.25], [2]))
        yield* param('scale', () => t([0.1, 2, 30], [3]), { constraint: constraints.positive })
        yield* param('probs', () => t([0.2, 0.3, 0.5, 0.6, 0.3, 0.1], [2, 3]), { constraint: constraints.simplex })
        yield* param('p', () => tf.scalar(0.25), { constraint: constraints.unitInterval })
      }
      if (net !== undefined) yield* module('net', net as unknown as LayersLike)   // tfjs-layers types read() as returning a Tensor
    }), [store.handler])
  })
}

/** Every stored number (unconstrained params, module weights), by name, as exact float32 values. */
const snapshot = (store: ParamStore): Record<string, number[]> => Object.fromEntries(store.entries().flatMap((e) =>
  e.kind === 'param' ? [[e.name, read(e.variable)]] : e.network.variables.map((v, i) => [`${e.name}/${i}`, read(v)])))

/** The error a promise rejects with; fails if it resolves or throws something else. */
const checkpointErrorOf = async (p: Promise<unknown>): Promise<CheckpointError> => {
  try { await p } catch (e) { if (e instanceof CheckpointError) return e; throw e }
  throw new Error('expected a CheckpointError')
}

/** A store holding one param 'w' = value. */
const storeWith = (value: number): ParamStore => {
  const s = paramStore()
  tf.tidy(() => { traceProgram(gen(function* () { yield* param('w', () => tf.scalar(value)) }), [s.handler]) })
  return s
}
const wOf = async (dir: string): Promise<number> => {
  const s = paramStore()
  await loadParams(dir, s)
  const w = read(s.value('w')!)[0]!
  s.dispose()
  return w
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round trip: constrained params and a tfjs-layers module are restored exactly, with state and extra', async () => {
    const a = paramStore(), netA = dense()
    register(a, netA, true)
    const dir = path.join(root, 'nested', 'ckpt')
    await saveCheckpoint(dir, { store: a, state: { step: 12, baselines: { k: -3.5 } }, extra: { epoch: 4, note: 'x' } })
    expect((await fs.readdir(dir)).sort()).toEqual(['manifest.json', 'weights.bin'])
    // A fresh store that has only registered a (differently initialised) network: params are created, the module assigned.
    const b = paramStore(), netB = dense()
    register(b, netB, false)
    const out = await loadCheckpoint(dir, { store: b })
    expect(out).toEqual({ state: { step: 12, baselines: { k: -3.5 } }, extra: { epoch: 4, note: 'x' } })
    expect(snapshot(b)).toEqual(snapshot(a))
    for (const name of ['loc', 'scale', 'probs', 'p']) expect(read(b.value(name)!)).toEqual(read(a.value(name)!))
    expect(b.entries().map((e) => e.kind === 'param' ? e.constraint._tag : 'module').sort()).toEqual(['module', 'positive', 'real', 'simplex', 'unitInterval'])
    // A store whose params already exist (other values) gets them assigned; saveParams/loadParams are the same without the rest.
    const c = paramStore(), netC = dense()
    register(c, netC, true)
    tf.tidy(() => { for (const e of c.entries()) if (e.kind === 'param') e.variable.assign(tf.onesLike(e.variable)) })
    await saveParams(path.join(root, 'p'), a)
    await loadParams(path.join(root, 'p'), c)
    expect(snapshot(c)).toEqual(snapshot(a))
    for (const s of [a, b, c]) s.dispose()
    for (const n of [netA, netB, netC]) n.dispose()
  })

  it('modules must be registered before loading, and shapes must match (nothing is changed on error)', async () => {
    const a = paramStore(), net = dense()
    register(a, net, true)
    const dir = path.join(root, 'ckpt')
    await saveCheckpoint(dir, { store: a })
    const b = paramStore()
    await expect(loadCheckpoint(dir, { store: b })).rejects.toThrow(/module 'net' is not registered in the store; run svi.init/)
    expect(b.entries()).toEqual([])
    const c = paramStore()
    tf.tidy(() => { traceProgram(gen(function* () { yield* param('loc', () => tf.zeros([3])) }), [c.handler]) })
    register(c, net, false)
    await expect(loadCheckpoint(dir, { store: c })).rejects.toThrow(/param 'loc' has shape \[3\] in the store but \[2\] in the checkpoint/)
    expect(read(c.value('loc')!)).toEqual([0, 0, 0])
    for (const s of [a, c]) s.dispose()
    net.dispose()
  })

  it('leaks no tensors: save creates none, load only the params and optimizer slots it must create', async () => {
    const a = paramStore(), net = dense()
    register(a, net, true)
    const opt = tf.train.adam(0.1)
    tf.tidy(() => { opt.applyGradients(Object.fromEntries(a.variables().map((v) => [v.name, tf.onesLike(v)]))) })
    const dir = path.join(root, 'ckpt')
    let before = tf.memory().numTensors
    await saveCheckpoint(dir, { store: a, optimizer: opt, state: { step: 1, baselines: {} } })
    expect(tf.memory().numTensors).toBe(before)
    const b = paramStore(), opt2 = tf.train.adam(0.1), net2 = dense()
    register(b, net2, false)
    before = tf.memory().numTensors
    await loadCheckpoint(dir, { store: b, optimizer: opt2 })
    const nVars = a.variables().length   // 4 params + kernel + bias
    expect(tf.memory().numTensors).toBe(before + 4 + 2 * nVars)   // created params + Adam's m and v per variable
    before = tf.memory().numTensors
    await loadCheckpoint(dir, { store: b, optimizer: opt2 })   // again: everything exists, slots are replaced
    expect(tf.memory().numTensors).toBe(before)
    for (const s of [a, b]) s.dispose()
    for (const o of [opt, opt2]) o.dispose()
    for (const n of [net, net2]) n.dispose()
  })
})

describe('module buffers', () => {
  /** A network with one weight and two buffers (float32 [2] and an int32 scalar), registered as module 'stats' of a new store. */
  const withBuffers = (w: number[], mean: number[], count: number, extra: Record<string, tf.Variable> = {}) => {
    const net: NetworkWithBuffers = {
      apply: (x) => x, variables: [tf.variable(tf.tensor1d(w))],
      buffers: { mean: tf.variable(tf.tensor1d(mean), false), count: tf.variable(tf.scalar(count, 'int32'), false), ...extra },
    }
    const store = paramStore()
    tf.tidy(() => { traceProgram(gen(function* () { yield* module('stats', net) }), [store.handler]) })
    const dispose = () => { store.dispose(); tf.dispose([...net.variables, ...Object.values(net.buffers)]) }
    return { net, store, dispose }
  }
  const values = (net: NetworkWithBuffers) => ({ w: read(net.variables[0]!), ...Object.fromEntries(Object.entries(net.buffers).map(([n, v]) => [n, read(v)])) })

  it('are saved and restored by name with the module, and are never among the trainable variables', async () => {
    const a = withBuffers([1, 2], [0.5, -0.25], 7), b = withBuffers([0, 0], [0, 0], 0)
    expect(a.store.variables()).toEqual([a.net.variables[0]])
    const dir = path.join(root, 'ckpt')
    await saveParams(dir, a.store)
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { entries: Array<{ buffers?: Array<{ name: string; dtype: string; shape: number[] }> }> }
    expect(manifest.entries[0]!.buffers!.map(({ name, dtype, shape }) => ({ name, dtype, shape }))).toEqual([
      { name: 'mean', dtype: 'float32', shape: [2] }, { name: 'count', dtype: 'int32', shape: [] },
    ])
    await loadParams(dir, b.store)
    expect(values(b.net)).toEqual({ w: [1, 2], mean: [0.5, -0.25], count: [7] })
    const entry = b.store.entries()[0]!
    expect(entry.kind === 'module' && moduleBuffers(entry.network)).toBe(b.net.buffers)
    a.dispose(); b.dispose()
  })

  it('a buffer the module lacks or of another shape is an error naming it; one missing from the checkpoint is left as it is', async () => {
    const dir = path.join(root, 'ckpt')
    const a = withBuffers([1, 2], [0.5, -0.25], 7, { extra: tf.variable(tf.zeros([3]), false) })
    await saveParams(dir, a.store)
    const b = withBuffers([0, 0], [0, 0], 0)
    expect((await checkpointErrorOf(loadParams(dir, b.store))).message).toMatch(/module 'stats' has no buffer 'extra' in the store but one of shape \[3\] in the checkpoint \(its buffers: 'mean', 'count'\)/)
    const c = withBuffers([0, 0], [0, 0, 0], 0, { extra: tf.variable(tf.zeros([3]), false) })
    expect((await checkpointErrorOf(loadParams(dir, c.store))).message).toMatch(/module 'stats' buffer 'mean' has shape \[3\] in the store but \[2\] in the checkpoint/)
    for (const s of [b, c]) expect(values(s.net).w).toEqual([0, 0])   // checked before anything changed
    // Saved before the module had 'extra' (or any buffers): the rest loads, 'extra' keeps its value.
    const d = withBuffers([0, 0], [0, 0], 0, { extra: tf.variable(tf.tensor1d([4, 5, 6]), false) })
    const e = withBuffers([1, 2], [0.5, -0.25], 7)
    await saveParams(dir, e.store)
    await loadParams(dir, d.store)
    expect(values(d.net)).toEqual({ w: [1, 2], mean: [0.5, -0.25], count: [7], extra: [4, 5, 6] })
    for (const s of [a, b, c, d, e]) s.dispose()
  })

  it('their blobs are checked against weights.bin like every other', async () => {
    const a = withBuffers([1, 2], [0.5, -0.25], 7)
    const dir = path.join(root, 'ckpt')
    await saveParams(dir, a.store)
    const file = path.join(dir, 'manifest.json')
    const manifest = JSON.parse(await fs.readFile(file, 'utf8')) as { entries: Array<{ buffers: Array<{ byteLength: number }> }> }
    manifest.entries[0]!.buffers[0]!.byteLength = 4
    await fs.writeFile(file, JSON.stringify(manifest))
    expect((await checkpointErrorOf(loadParams(dir, a.store))).message).toMatch(/entries\[0\]\.buffers\[0\]\.byteLength: expected 8 \(4 bytes × 2 elements of shape \[2\]\), got 4/)
    a.dispose()
  })
})

describe('resume', () => {
  it('fit 2 epochs + save + load into a new store/optimizer/svi + 1 epoch is bit-identical to 3 epochs straight', async () => {
    // 12 data points, batches of 1: 24 steps before the checkpoint, enough for tfjs's own Adam.setWeights (which sets
    // accBeta to pow(β, t + 1)) to differ in the last bit from the product the straight run accumulated; the checkpoint
    // restores accBeta1/accBeta2 themselves.
    const x = tf.tensor1d([...XS, ...XS, ...XS])
    const opts = { batchSize: 1, progress: false } as const
    const straight = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 7 })
    await straight.fit(model, guide({ loc: 0, scale: 1 }), x, { ...opts, epochs: 3, seed: 3 })

    const first = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 7 })
    await first.fit(model, guide({ loc: 0, scale: 1 }), x, { ...opts, epochs: 2, seed: 3 })
    const dir = path.join(root, 'run')
    await saveCheckpoint(dir, { store: first.params, optimizer: first.optimizer, state: first.state, extra: { epoch: 2 } })
    first.params.dispose(); first.optimizer.dispose()

    const resumed = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 7 })
    const { state, extra } = await loadCheckpoint(dir, { store: resumed.params, optimizer: resumed.optimizer })
    resumed.restore(state!)
    expect(state).toEqual({ step: 24, baselines: {} })
    // Slots are renamed after this run's variables (tfjs names variables by a process-wide counter).
    const names = (await resumed.optimizer.getWeights()).map((w) => w.name)
    const vars = resumed.params.variables().map((v) => v.name)
    expect(names).toEqual(['iter', ...vars.map((v) => `${v}/m`), ...vars.map((v) => `${v}/v`)])
    await resumed.fit(model, guide({ loc: 0, scale: 1 }), x, { ...opts, epochs: 1, seed: 3, initialEpoch: Number(extra?.epoch) })

    expect(resumed.state.step).toBe(36)
    expect(snapshot(resumed.params)).toEqual(snapshot(straight.params))
    for (const s of [straight, resumed]) { s.params.dispose(); s.optimizer.dispose() }
    x.dispose()
  })

  it('fit with checkpoint + resume: 2 epochs, then a new run resuming for 1 more, equals 3 epochs straight', async () => {
    await expectResumeEqualsStraight(path.join(root, 'fit-run'))
  })
})

describe('fit with an AbortSignal (Ctrl-C)', () => {
  it('stops after the current step mid-epoch, saves the params of that step under the last complete epoch, and resume repeats the epoch', async () => {
    const x = tf.tensor1d([...XS, ...XS, ...XS])   // 12 points, batches of 2: 6 steps per epoch
    const dir = path.join(root, 'abort-run')
    const opts = { batchSize: 2, progress: false, seed: 5, checkpoint: { dir } } as const
    const stop = new AbortController()
    const first = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 9 })
    const h = await first.fit(model, guide({ loc: 0, scale: 1 }), x, {
      ...opts, epochs: 3, signal: stop.signal, onStep: ({ step }) => { if (step === 8) stop.abort() },   // step 2 of epoch 2
    })
    expect(h).toMatchObject({ steps: 8, stoppedEarly: true, aborted: true })
    expect(h.epochs.map((e) => e.epoch)).toEqual([1])
    const atStop = snapshot(first.params)
    first.params.dispose(); first.optimizer.dispose()

    const resumed = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 9 })
    const steps: number[] = []
    const firstBatch = tf.slice(x, 0, 2)
    resumed.init(model, guide({ loc: 0, scale: 1 }), firstBatch)
    firstBatch.dispose()
    const { state, extra } = await loadCheckpoint(dir, { store: resumed.params, optimizer: resumed.optimizer })
    expect(state?.step).toBe(8)
    expect(extra?.['epoch']).toBe(1)
    expect(snapshot(resumed.params)).toEqual(atStop)   // nothing of the 2 steps into epoch 2 was lost
    resumed.params.dispose(); resumed.optimizer.dispose()

    const again = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 9 })
    const h2 = await again.fit(model, guide({ loc: 0, scale: 1 }), x, { ...opts, epochs: 2, resume: true, onStep: ({ step }) => { steps.push(step) } })
    expect(h2.epochs.map((e) => e.epoch)).toEqual([1, 2, 3])   // epoch 2 again from its first batch, then 3
    expect(steps[0]).toBe(9)
    expect(h2.aborted).toBe(false)
    again.params.dispose(); again.optimizer.dispose()
    x.dispose()
  })
})

describe('corrupt checkpoints are named errors', () => {
  const saved = async (): Promise<{ dir: string; manifest: Record<string, unknown> & { entries: Array<Record<string, unknown>> } }> => {
    const s = paramStore()
    register(s, undefined, true)
    const dir = path.join(root, 'ckpt')
    await saveCheckpoint(dir, { store: s })
    s.dispose()
    return { dir, manifest: JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) }
  }
  const loadWith = async (dir: string, manifest: unknown): Promise<CheckpointError> => {
    await fs.writeFile(path.join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest))
    return checkpointErrorOf(loadCheckpoint(dir, { store: paramStore() }))
  }

  it('a manifest failing the codec names the file, the field path and what was expected', async () => {
    const { dir, manifest } = await saved()
    const wrong = structuredClone(manifest)
    wrong.entries[2]!.shape = 'abc'
    expect((await loadWith(dir, wrong)).message).toMatch(/manifest\.json: entries\[2\]\.shape: expected number\[\], got "abc"/)
    const missing = structuredClone(manifest)
    delete missing.entries[1]!.dtype
    expect((await loadWith(dir, missing)).message).toMatch(/manifest\.json: entries\[1\]\.dtype: expected "float32" \| "int32", got nothing \(missing\)/)
    const dim = structuredClone(manifest)
    dim.entries[0]!.shape = [2, -1]
    expect((await loadWith(dir, dim)).message).toMatch(/entries\[0\]\.shape\[1\]: expected non-negative integer, got -1/)
    expect((await loadWith(dir, { ...manifest, version: 2 })).message).toMatch(/manifest\.json: version: expected 1, got 2/)
    const size = structuredClone(manifest)
    size.entries[0]!.byteLength = 4
    expect((await loadWith(dir, size)).message).toMatch(/entries\[0\]\.byteLength: expected 8 \(4 bytes × 2 elements of shape \[2\]\), got 4/)
    expect((await loadWith(dir, '{"format": ')).message).toMatch(/manifest\.json: not valid JSON/)
  })

  it('a truncated weights.bin names both sizes, a corrupted one fails its SHA-256; a missing checkpoint is ENOENT', async () => {
    const { dir } = await saved()
    const file = path.join(dir, 'weights.bin')
    const bytes = await fs.readFile(file)
    await fs.writeFile(file, bytes.subarray(0, bytes.length - 4))
    const e = await checkpointErrorOf(loadCheckpoint(dir, { store: paramStore() }))
    expect(e.message).toContain(`has ${bytes.length - 4} bytes but`)
    expect(e.message).toContain(`says ${bytes.length} (weightsBytes)`)
    const flipped = Buffer.from(bytes)
    flipped[5] = flipped[5]! ^ 1
    await fs.writeFile(file, flipped)
    expect((await checkpointErrorOf(loadCheckpoint(dir, { store: paramStore() }))).message).toMatch(/weights\.bin' does not match the SHA-256 in .*manifest\.json' \(weightsSha256\)/)
    expect((await checkpointErrorOf(loadCheckpoint(path.join(root, 'none'), { store: paramStore() }))).code).toBe('ENOENT')
  })
})

describe('atomic saves', () => {
  it('an output directory that cannot be written is a CheckpointError naming the path and code; the previous checkpoint still loads', async () => {
    const file = path.join(root, 'afile')
    await fs.writeFile(file, 'not a directory')
    const e = await checkpointErrorOf(saveParams(path.join(file, 'ckpt'), storeWith(1)))
    expect([e.code, e.path]).toEqual(['ENOTDIR', path.join(file, 'ckpt')])
    expect(e.message).toContain(file)
    // A previous checkpoint in a directory we then cannot write to. Root ignores permissions, so there we make the
    // OS refuse the temporary directory another way: its name (the checkpoint's name + ".tmp-…") is too long.
    const asRoot = process.getuid?.() === 0
    const parent = path.join(root, 'out')
    const dir = path.join(parent, asRoot ? 'c'.repeat(240) : 'ckpt')
    await saveParams(path.join(parent, 'short'), storeWith(1))
    await fs.rename(path.join(parent, 'short'), dir)
    if (!asRoot) await fs.chmod(parent, 0o500)
    const e2 = await checkpointErrorOf(saveParams(dir, storeWith(2)))
    expect(e2.code).toBe(asRoot ? 'ENAMETOOLONG' : 'EACCES')
    expect(e2.message).toContain(dir)
    expect(e2.message).toContain('the previous checkpoint, if any, is unchanged')
    expect(await wOf(dir)).toBe(1)
    expect(await fs.readdir(parent)).toEqual([path.basename(dir)])
  })

  const STAGES: readonly SaveStage[] = ['temp-created', 'files-written', 'old-moved-aside', 'swapped', 'done']
  const AFTER_SWAP: ReadonlySet<SaveStage> = new Set(['swapped', 'done'])

  it('a crash at any stage leaves the old or the new checkpoint loadable, and the next save repairs it', async () => {
    const parent = path.join(root, 'out'), dir = path.join(parent, 'ckpt')
    await saveParams(dir, storeWith(1))
    const images = path.join(root, 'images')
    // What the disk holds if the process dies right after each stage: a copy of the whole directory at that moment.
    await saveCheckpoint(dir, { store: storeWith(2) }, { onStage: (stage) => fs.cp(parent, path.join(images, stage), { recursive: true }) })
    for (const stage of STAGES) {
      const image = path.join(images, stage, 'ckpt')
      expect(await wOf(image)).toBe(AFTER_SWAP.has(stage) ? 2 : 1)
      await saveParams(image, storeWith(3))
      expect(await wOf(image)).toBe(3)
      expect((await fs.readdir(path.dirname(image))).filter((n) => n.endsWith('.backup'))).toEqual([])
    }
  })

  it('a failure injected at any stage leaves the old or the new checkpoint and no temporary or backup directory', async () => {
    const parent = path.join(root, 'out'), dir = path.join(parent, 'ckpt')
    for (const [i, stage] of STAGES.entries()) {
      await saveParams(dir, storeWith(10 * i))
      const failing = saveCheckpoint(dir, { store: storeWith(10 * i + 1) }, { onStage: (s) => { if (s === stage) throw new Error(`injected at ${s}`) } })
      await expect(failing).rejects.toThrow(`injected at ${stage}`)
      expect(await wOf(dir)).toBe(AFTER_SWAP.has(stage) ? 10 * i + 1 : 10 * i)
      expect(await fs.readdir(parent)).toEqual(['ckpt'])
    }
  })

  it('temporary directories of processes that no longer run are removed; a directory holding other files is never replaced', async () => {
    const parent = path.join(root, 'out'), ckpt = path.join(parent, 'ckpt')
    const dead = `ckpt.tmp-${2 ** 22 + 1}-0123456789ab`, mine = `ckpt.tmp-${process.pid}-0123456789ab`   // above Linux's largest pid_max
    for (const n of [dead, mine]) await fs.mkdir(path.join(parent, n), { recursive: true })
    await saveParams(ckpt, storeWith(1))
    expect((await fs.readdir(parent)).sort()).toEqual(['ckpt', mine])
    const dir = path.join(root, 'mine')
    await fs.mkdir(dir)
    await fs.writeFile(path.join(dir, 'notes.txt'), 'keep me')
    const e = await checkpointErrorOf(saveParams(dir, storeWith(1)))
    expect(e.message).toMatch(/holds files that are not part of a checkpoint \(notes\.txt\); refusing to replace it/)
    expect(await fs.readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe('keep me')
  })
})
