/**
 * Checkpoints in IndexedDB (fake-indexeddb in Node; hashing through globalThis.crypto.subtle):
 * params + Adam state round-trip exactly and the next step's loss is the same; a save aborted
 * inside its transaction leaves the previous checkpoint loadable; corrupt records are
 * CheckpointErrors naming the key and what is wrong; numTensors does not grow; and `fit` on the
 * portable platform checkpoints to IndexedDB and resumes.
 */
import 'fake-indexeddb/auto'
import * as tf from '@tensorflow/tfjs-core'
import { IDBObjectStore as FDBObjectStore } from 'fake-indexeddb'
import { afterEach, describe, expect, it } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import { CheckpointError } from '../../src/inference/checkpoint-manifest.js'
import { deleteCheckpointIdb, listCheckpointsIdb, loadCheckpointIdb, loadParamsIdb, saveCheckpointIdb, saveParamsIdb } from '../../src/inference/checkpoint-idb.js'
import { elbo } from '../../src/inference/elbo.js'
import { readKey, withDatabase, writeKey } from '../../src/inference/idb.js'
import { paramStore } from '../../src/inference/params.js'
import type { ParamStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'
import { PORTABLE, setPlatform } from '../../src/platform.js'
import { read } from '../helpers.js'
import { XS, guide, model } from './conjugate.js'
import { expectResumeEqualsStraight } from './fit-resume.js'

let n = 0
/** A fresh database per test. */
const fresh = (): { database: string } => ({ database: `test-${++n}` })
const STORES = ['manifests', 'weights']

const snapshot = (store: ParamStore): Record<string, number[]> =>
  Object.fromEntries(store.entries().flatMap((e) => e.kind === 'param' ? [[e.name, read(e.variable)]] : []))

const optimizerValues = async (opt: tf.Optimizer): Promise<number[][]> => {
  const ws = await opt.getWeights()
  const out = ws.map((w) => read(w.tensor))
  tf.dispose(ws.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor))
  return out
}

const checkpointErrorOf = async (p: Promise<unknown>): Promise<CheckpointError> => {
  try { await p } catch (e) { if (e instanceof CheckpointError) return e; throw e }
  throw new Error('expected a CheckpointError')
}

/** A store holding one param 'w' = value. */
const storeWith = (value: number): ParamStore => {
  const s = paramStore()
  tf.tidy(() => { s.insert('w', tf.tensor1d([value, -value, 0.5]), constraints.real) })
  return s
}
const wOf = async (key: string, where: { database: string }): Promise<number> => {
  const s = paramStore()
  await loadParamsIdb(key, s, where)
  const w = read(s.value('w')!)[0]!
  s.dispose()
  return w
}

/** Replaces the raw records of `key` (the test's access to the database, through tfppl's own wrapper). */
const tamper = (where: { database: string }, key: string, records: { manifests?: unknown; weights?: unknown }) =>
  withDatabase('test', undefined, where.database, STORES, (db) =>
    writeKey('test', db, Object.keys(records), Object.values(records), key))
const rawOf = async (where: { database: string }, key: string): Promise<{ text: string; weights: Uint8Array }> => {
  const [text, weights] = await withDatabase('test', undefined, where.database, STORES, (db) => readKey('test', db, STORES, key))
  return { text: text as string, weights: new Uint8Array(weights as ArrayBuffer) }
}

describe('saveCheckpointIdb / loadCheckpointIdb', () => {
  it('params + Adam state round-trip exactly, with state and extra, and the next step is the same', async () => {
    const where = fresh()
    const x = tf.tensor1d(XS)
    const a = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 7 })
    for (let i = 0; i < 10; i++) a.step(model, guide({ loc: 0, scale: 1 }), x)
    await saveCheckpointIdb('run', { store: a.params, optimizer: a.optimizer, state: a.state, extra: { epoch: 3, note: 'x' } }, where)

    const b = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 7 })
    const { state, extra } = await loadCheckpointIdb('run', { store: b.params, optimizer: b.optimizer }, where)
    expect(state).toEqual({ step: 10, baselines: {} })
    expect(extra).toEqual({ epoch: 3, note: 'x' })
    b.restore(state!)
    expect(snapshot(b.params)).toEqual(snapshot(a.params))
    expect(await optimizerValues(b.optimizer)).toEqual(await optimizerValues(a.optimizer))
    const lossA = a.step(model, guide({ loc: 0, scale: 1 }), x), lossB = b.step(model, guide({ loc: 0, scale: 1 }), x)
    expect(lossB).toBe(lossA)
    expect(snapshot(b.params)).toEqual(snapshot(a.params))
    for (const s of [a, b]) { s.params.dispose(); s.optimizer.dispose() }
    x.dispose()
  })

  it('the records are the disk format: the manifest as JSON text, the weights as bytes with their SHA-256', async () => {
    const where = fresh()
    const s = storeWith(2)
    await saveParamsIdb('p', s, where)
    const { text, weights } = await rawOf(where, 'p')
    const manifest = JSON.parse(text) as { format: string; version: number; weightsBytes: number; weightsSha256: string }
    expect(manifest).toMatchObject({ format: 'tfppl-checkpoint', version: 1, weightsBytes: 12 })
    const { createHash } = await import('node:crypto')
    expect(createHash('sha256').update(weights).digest('hex')).toBe(manifest.weightsSha256)
    expect(Array.from(new Float32Array(weights.slice().buffer))).toEqual([2, -2, 0.5])
    s.dispose()
  })

  it('a save aborted inside its transaction (after either record) leaves the previous checkpoint whole and loadable', async () => {
    const where = fresh()
    const one = storeWith(1), two = storeWith(2)
    await saveParamsIdb('k', one, where)
    for (const at of ['weights-written', 'manifest-written'] as const) {
      const crash = new Error(`crash at ${at}`)
      await expect(saveParamsIdb('k', two, { ...where, onStage: (s) => { if (s === at) throw crash } })).rejects.toBe(crash)
      expect(await wOf('k', where)).toBe(1)
    }
    // A save into a key with no checkpoint, aborted: there is still none.
    await expect(saveParamsIdb('new', two, { ...where, onStage: () => { throw new Error('crash') } })).rejects.toThrow('crash')
    expect(await listCheckpointsIdb(where)).toEqual(['k'])
    await saveParamsIdb('k', two, where)
    expect(await wOf('k', where)).toBe(2)
    for (const s of [one, two]) s.dispose()
  })

  it('a save the database aborts or refuses (quota, a closing tab) is a CheckpointError naming the key; the previous checkpoint is whole', async () => {
    const where = fresh()
    const one = storeWith(1), two = storeWith(2)
    await saveParamsIdb('q', one, where)
    const proto = FDBObjectStore.prototype as unknown as { put: (this: { name: string; transaction: { abort: () => void } }, v: unknown, k: unknown) => unknown }
    const put = proto.put
    try {
      proto.put = function (v, k) { const r = put.call(this, v, k); if (this.name === 'manifests') this.transaction.abort(); return r }
      expect((await checkpointErrorOf(saveParamsIdb('q', two, where))).message)
        .toMatch(/^saveCheckpointIdb 'q': the IndexedDB transaction was aborted \(.*\); nothing was written: the previous checkpoint, if any, is unchanged$/)
      proto.put = function (v, k) {
        if (this.name === 'manifests') throw Object.assign(new Error('the quota is exceeded'), { name: 'QuotaExceededError' })
        return put.call(this, v, k)
      }
      expect((await checkpointErrorOf(saveParamsIdb('q', two, where))).message)
        .toMatch(/^saveCheckpointIdb 'q': IndexedDB refused a request \(QuotaExceededError: the quota is exceeded\); nothing was written/)
    } finally {
      proto.put = put
    }
    expect(await wOf('q', where)).toBe(1)
    for (const s of [one, two]) s.dispose()
  })

  it('corrupt records are CheckpointErrors naming the key and what is wrong; the store is left unchanged', async () => {
    const where = fresh()
    const s = storeWith(3)
    await saveParamsIdb('c', s, where)
    const { text, weights } = await rawOf(where, 'c')
    const target = storeWith(9)
    const loadErr = async (): Promise<string> => (await checkpointErrorOf(loadParamsIdb('c', target, where))).message

    const flipped = weights.slice()
    flipped[5]! ^= 0x10
    await tamper(where, 'c', { weights: flipped.buffer })
    expect(await loadErr()).toMatch(/^loadCheckpointIdb 'c': the checkpoint 'c' in the IndexedDB database 'test-\d+' is corrupt: the weights record does not match the SHA-256 in the manifest record \(weightsSha256\)/)
    await tamper(where, 'c', { weights: weights.slice(0, 8).buffer })
    expect(await loadErr()).toMatch(/is corrupt: the weights record has 8 bytes but the manifest record says 12 \(weightsBytes\); the record is truncated/)
    await tamper(where, 'c', { weights: 'not bytes' })
    expect(await loadErr()).toMatch(/is corrupt: its weights record is string, not bytes/)
    await tamper(where, 'c', { weights: weights.slice().buffer, manifests: text.replace('"version":1', '"version":7') })
    expect(await loadErr()).toMatch(/^IndexedDB 'test-\d+', checkpoint 'c', manifest record: version: expected 1, got 7/)
    await tamper(where, 'c', { manifests: text.slice(0, 20) })
    expect(await loadErr()).toMatch(/^IndexedDB 'test-\d+', checkpoint 'c', manifest record: not valid JSON/)
    expect(read(target.value('w')!)).toEqual([9, -9, 0.5])

    const missing = await checkpointErrorOf(loadParamsIdb('nothing', target, where))
    expect(missing.message).toMatch(/^loadCheckpointIdb 'nothing': no checkpoint 'nothing' in the IndexedDB database 'test-\d+' \(ENOENT\)/)
    expect(missing.code).toBe('ENOENT')
    expect((await checkpointErrorOf(loadParamsIdb('', target, where))).message).toMatch(/the key must be a non-empty string; got ""/)
    for (const x of [s, target]) x.dispose()
  })

  it('numTensors: save creates none; loading again into existing params and optimizer creates none', async () => {
    const where = fresh()
    const x = tf.tensor1d(XS)
    const a = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 1 })
    for (let i = 0; i < 3; i++) a.step(model, guide({ loc: 0, scale: 1 }), x)
    let before = tf.memory().numTensors
    await saveCheckpointIdb('m', { store: a.params, optimizer: a.optimizer, state: a.state }, where)
    expect(tf.memory().numTensors).toBe(before)
    const b = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 1 })
    await loadCheckpointIdb('m', { store: b.params, optimizer: b.optimizer }, where)
    for (let i = 0; i < 3; i++) {
      before = tf.memory().numTensors
      await loadCheckpointIdb('m', { store: b.params, optimizer: b.optimizer }, where)
      expect(tf.memory().numTensors).toBe(before)
      await saveCheckpointIdb('m', { store: b.params, optimizer: b.optimizer, state: b.state }, where)
      expect(tf.memory().numTensors).toBe(before)
    }
    for (const s of [a, b]) { s.params.dispose(); s.optimizer.dispose() }
    x.dispose()
  })

  it('list and delete', async () => {
    const where = fresh()
    const s = storeWith(1)
    expect(await listCheckpointsIdb(where)).toEqual([])
    await saveParamsIdb('b', s, where)
    await saveParamsIdb('a', s, where)
    expect(await listCheckpointsIdb(where)).toEqual(['a', 'b'])
    await deleteCheckpointIdb('b', where)
    await deleteCheckpointIdb('no-such', where)
    expect(await listCheckpointsIdb(where)).toEqual(['a'])
    expect((await checkpointErrorOf(loadParamsIdb('b', s, where))).code).toBe('ENOENT')
    s.dispose()
  })

  it('where there is no IndexedDB, a CheckpointError saying so', async () => {
    const g = globalThis as { indexedDB?: unknown }
    const saved = g.indexedDB
    delete g.indexedDB
    try {
      const s = storeWith(1)
      expect((await checkpointErrorOf(saveParamsIdb('k', s))).message).toMatch(/^saveCheckpointIdb 'k': there is no IndexedDB here/)
      s.dispose()
    } finally {
      g.indexedDB = saved
    }
  })
})

describe('fit on the portable platform checkpoints to IndexedDB', () => {
  let restore: (() => void) | undefined
  afterEach(() => { restore?.(); restore = undefined })

  it('fit with checkpoint + resume: 2 epochs, then a new run resuming for 1 more, equals 3 epochs straight', async () => {
    const previous = setPlatform({ ...PORTABLE, progress: () => undefined })
    restore = () => { setPlatform(previous) }
    const key = `fit-run-${++n}`
    await expectResumeEqualsStraight(key, async () => { expect(await listCheckpointsIdb()).toContain(key) })
    await deleteCheckpointIdb(key)
  })
})
