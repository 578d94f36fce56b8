/**
 * A checkpoint as one file (`encodeCheckpointFile` / `loadCheckpointFile`): params + Adam state
 * round-trip exactly through bytes and through a Blob; every truncation and every single-bit flip
 * is a CheckpointError and changes nothing; numTensors does not grow.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import { CHECKPOINT_FILE_MAGIC, decodeCheckpointFile, encodeCheckpointFile, loadCheckpointFile } from '../../src/inference/checkpoint-blob.js'
import { CheckpointError } from '../../src/inference/checkpoint-manifest.js'
import { elbo } from '../../src/inference/elbo.js'
import { paramStore } from '../../src/inference/params.js'
import type { ParamStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'
import { read } from '../helpers.js'
import { XS, guide, model } from './conjugate.js'

const snapshot = (store: ParamStore): Record<string, number[]> =>
  Object.fromEntries(store.entries().flatMap((e) => e.kind === 'param' ? [[e.name, read(e.variable)]] : []))

const checkpointErrorOf = async (p: Promise<unknown>): Promise<CheckpointError> => {
  try { await p } catch (e) { if (e instanceof CheckpointError) return e; throw e }
  throw new Error('expected a CheckpointError')
}

const storeWith = (values: number[]): ParamStore => {
  const s = paramStore()
  s.insert('w', tf.tensor1d(values), constraints.real)
  s.insert('s', tf.tensor1d([0.25]), constraints.positive)
  return s
}

describe('encodeCheckpointFile / loadCheckpointFile', () => {
  it('params + Adam state round-trip exactly (bytes and Blob), and the next step is the same', async () => {
    const x = tf.tensor1d(XS)
    const a = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 4 })
    for (let i = 0; i < 7; i++) a.step(model, guide({ loc: 0, scale: 1 }), x)
    const file = await encodeCheckpointFile({ store: a.params, optimizer: a.optimizer, state: a.state, extra: { epoch: 2 } })
    expect(new TextDecoder().decode(file.subarray(0, 8))).toBe(CHECKPOINT_FILE_MAGIC)

    const loaded = []
    for (const source of [file, new Blob([file])]) {
      const b = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 4 })
      const { state, extra } = await loadCheckpointFile(source, { store: b.params, optimizer: b.optimizer })
      expect(state).toEqual({ step: 7, baselines: {} })
      expect(extra).toEqual({ epoch: 2 })
      b.restore(state!)
      expect(snapshot(b.params)).toEqual(snapshot(a.params))
      loaded.push(b)
    }
    const next = [a, ...loaded].map((s) => s.step(model, guide({ loc: 0, scale: 1 }), x))
    expect(next).toEqual([next[0], next[0], next[0]])
    for (const s of [a, ...loaded]) { s.params.dispose(); s.optimizer.dispose() }
    x.dispose()
  })

  it('every truncation is a CheckpointError naming the file, and the store is unchanged', async () => {
    const source = storeWith([1, 2, 3])
    const file = await encodeCheckpointFile({ store: source, state: { step: 1, baselines: {} } })
    source.dispose()
    const target = storeWith([7, 8, 9])
    for (let n = 0; n < file.length; n++) {
      const e = await checkpointErrorOf(loadCheckpointFile(file.slice(0, n), { store: target }, 'run.tfppl'))
      expect(e.message).toMatch(/^checkpoint file 'run\.tfppl'(, manifest)?: /)
    }
    expect(read(target.value('w')!)).toEqual([7, 8, 9])
    expect((await checkpointErrorOf(loadCheckpointFile(file.slice(0, 44), { store: target }, 'run.tfppl'))).message)
      .toMatch(/its header says the manifest has \d+ bytes but only 0 follow the header; the file is truncated or corrupt/)
    expect((await checkpointErrorOf(loadCheckpointFile(file.slice(0, file.length - 4), { store: target }, 'run.tfppl'))).message)
      .toMatch(/its weights section has 12 bytes but its manifest says 16 \(weightsBytes\); the file is truncated or from another checkpoint/)
    target.dispose()
  })

  it('every single-bit flip is a CheckpointError (header, manifest or weights), and the intact file loads', async () => {
    const source = storeWith([1, 2, 3])
    const file = await encodeCheckpointFile({ store: source })
    source.dispose()
    const target = storeWith([7, 8, 9])
    for (let bit = 0; bit < file.length * 8; bit++) {   // every bit of the file
      const flipped = file.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      await checkpointErrorOf(decodeCheckpointFile(flipped, 'f'))
    }
    const flip = (at: number): Uint8Array => { const f = file.slice(); f[at]! ^= 4; return f }
    expect((await checkpointErrorOf(decodeCheckpointFile(flip(0), 'f'))).message).toMatch(/^checkpoint file 'f': it begins with "PFPPLCKP", not "TFPPLCKP"/)
    expect((await checkpointErrorOf(decodeCheckpointFile(flip(60), 'f'))).message).toMatch(/its manifest does not match the SHA-256 in its header; the file is corrupt/)
    expect((await checkpointErrorOf(decodeCheckpointFile(flip(file.length - 1), 'f'))).message).toMatch(/its weights section does not match the SHA-256 in its manifest \(weightsSha256\)/)
    await expect(loadCheckpointFile(file, { store: target })).resolves.toEqual({})
    expect(read(target.value('w')!)).toEqual([1, 2, 3])
    target.dispose()
  })

  it('names a File by its name; rejects what is not a file', async () => {
    const source = storeWith([1])
    const file = await encodeCheckpointFile({ store: source })
    source.dispose()
    const named = Object.assign(new Blob([file.slice(0, 10)]), { name: 'upload.tfppl' })
    expect((await checkpointErrorOf(loadCheckpointFile(named, { store: paramStore() }))).message).toMatch(/^checkpoint file 'upload\.tfppl': it has 10 bytes, fewer than the 44 of the header/)
    expect((await checkpointErrorOf(loadCheckpointFile('run.tfppl' as unknown as Uint8Array, { store: paramStore() }))).message).toMatch(/^loadCheckpointFile: expected a Blob, a File, an ArrayBuffer or a Uint8Array; got \[object String\]/)
  })

  it('numTensors: encoding creates none; loading again into existing params and optimizer creates none', async () => {
    const x = tf.tensor1d(XS)
    const a = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 2 })
    for (let i = 0; i < 3; i++) a.step(model, guide({ loc: 0, scale: 1 }), x)
    let before = tf.memory().numTensors
    const file = await encodeCheckpointFile({ store: a.params, optimizer: a.optimizer, state: a.state })
    expect(tf.memory().numTensors).toBe(before)
    const b = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 2 })
    await loadCheckpointFile(file, { store: b.params, optimizer: b.optimizer })
    for (let i = 0; i < 3; i++) {
      before = tf.memory().numTensors
      await loadCheckpointFile(file, { store: b.params, optimizer: b.optimizer })
      expect(tf.memory().numTensors).toBe(before)
    }
    for (const s of [a, b]) { s.params.dispose(); s.optimizer.dispose() }
    x.dispose()
  })
})
