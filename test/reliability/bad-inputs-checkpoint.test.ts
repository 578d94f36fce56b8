/**
 * Bad checkpoints and unwritable output directories (B61–B69): manifests that
 * fail the codec (wrong field types, invalid JSON), weights of the wrong size,
 * checkpoints that do not fit the store or the optimizer, and save targets that
 * cannot be written (tests run as root, so `chmod` blocks nothing: the targets
 * are `<tmp>/afile/…`, whose parent is a regular file, and a path in /proc).
 * Each is a CheckpointError naming the file (and field) or the path and what
 * was expected; the store, the files on disk and the tensor count are unchanged.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, it } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import { CheckpointError, loadCheckpoint, loadParams, saveCheckpoint, saveParams } from '../../src/inference/checkpoint.js'
import { elbo } from '../../src/inference/elbo.js'
import { paramStore } from '../../src/inference/params.js'
import type { ParamStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'
import type { Svi } from '../../src/inference/svi.js'
import { mlp } from '../../src/models/networks.js'
import { module } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { traceProgram } from '../../src/inference/trace.js'
import { guide, model } from '../inference/conjugate.js'
import { expectNamed } from './expect-named.js'
import type { Watched } from './expect-named.js'

const root = mkdtempSync(join(tmpdir(), 'tfppl-bad-ckpt-'))
const good = join(root, 'good')
let s: Svi
let x: tf.Tensor

beforeAll(async () => {
  x = tf.tensor1d([1.2, -0.3, 2.0, 0.7])
  s = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 3 })
  s.step(model, guide({ loc: 0, scale: 1 }), x)
  await saveCheckpoint(good, { store: s.params, optimizer: s.optimizer, state: s.state })
})
afterAll(() => {
  s.params.dispose(); s.optimizer.dispose(); x.dispose()
  rmSync(root, { recursive: true, force: true })
})

/** A copy of the good checkpoint in `root/name`, with `change` applied to it. */
const variant = (name: string, change: (dir: string) => void): string => {
  const dir = join(root, name)
  cpSync(good, dir, { recursive: true })
  change(dir)
  return dir
}
const editManifest = (dir: string, edit: (m: Record<string, unknown>) => void): void => {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>
  edit(m)
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m))
}
const watch = (store: ParamStore = s.params): Watched => ({ store, dirs: [root], values: () => ({ ...s.state }) })

describe('checkpoints that cannot be loaded', () => {
  it('B61 a manifest with wrong field types names the file, the field paths and the expected types', async () => {
    const dir = variant('types', (d) => editManifest(d, (m) => {
      m['weightsBytes'] = 'many'
      ;(m['entries'] as Array<Record<string, unknown>>)[0]!['shape'] = 'abc'
    }))
    const file = join(dir, 'manifest.json')
    await expectNamed(() => loadCheckpoint(dir, { store: s.params, optimizer: s.optimizer }), CheckpointError,
      [`${file}: weightsBytes: expected non-negative integer, got "many"`, `${file}: entries[0].shape: expected number[], got "abc"`], watch())
  })

  it('B62 a manifest that is not valid JSON names the file', async () => {
    const dir = variant('json', (d) => { writeFileSync(join(d, 'manifest.json'), '{"format": "tfppl-checkpoint", ') })
    await expectNamed(() => loadParams(dir, s.params), CheckpointError, [join(dir, 'manifest.json'), 'not valid JSON'], watch())
  })

  it('B63 a weights file of the wrong size names both files and the size the manifest expects', async () => {
    const dir = variant('short', (d) => { truncateSync(join(d, 'weights.bin'), 4) })
    await expectNamed(() => loadParams(dir, s.params), CheckpointError,
      [`'${join(dir, 'weights.bin')}' has 4 bytes`, `'${join(dir, 'manifest.json')}' says`, '(weightsBytes)', 'truncated or from another checkpoint'], watch())
  })

  it('B64 a param of another shape names the param and both shapes, and changes nothing', async () => {
    const other = join(root, 'other-shape')
    const wide = paramStore()
    tf.tidy(() => { wide.insert('loc', tf.zeros([2]), constraints.real) })
    await saveParams(other, wide)
    wide.dispose()
    await expectNamed(() => loadParams(other, s.params), CheckpointError, ["param 'loc' has shape [] (scalar) in the store but [2] in the checkpoint"], watch())
  })

  it('B65 Adam state loaded into an SGD optimizer is refused, naming both optimizers', async () => {
    const sgd = tf.train.sgd(0.1)
    await expectNamed(() => loadCheckpoint(good, { store: s.params, optimizer: sgd }), CheckpointError,
      ['the checkpoint holds Adam optimizer state but the optimizer is SGD'], watch())
    sgd.dispose()
  })

  it('B66 a module the store has not registered names the module and what to run first', async () => {
    const store = paramStore(), net = mlp({ sizes: [1, 2], seed: 1 })
    tf.tidy(() => { traceProgram(gen(function* () { yield* module('net', net) }), [store.handler]) })
    const dir = join(root, 'with-module')
    await saveParams(dir, store)
    const fresh = paramStore()
    await expectNamed(() => loadParams(dir, fresh), CheckpointError, ["module 'net' is not registered in the store", 'run svi.init(...)'], watch(fresh))
    net.dispose(); store.dispose()
  })

  it('B67 a checkpoint directory that does not exist names the path', async () => {
    const dir = join(root, 'missing')
    await expectNamed(() => loadParams(dir, s.params), CheckpointError, [`no checkpoint at '${dir}'`, 'ENOENT'], watch())
  })
})

describe('save targets that cannot be written', () => {
  it('B68 saveParams to <tmp>/afile/ckpt (the parent is a regular file) names the path and ENOTDIR', async () => {
    const afile = join(root, 'afile')
    writeFileSync(afile, 'a regular file')
    await expectNamed(() => saveParams(join(afile, 'ckpt'), s.params), CheckpointError,
      [`saveCheckpoint '${join(afile, 'ckpt')}'`, `the parent '${afile}' is not a directory (ENOTDIR)`], watch())
  })

  it('B69 saveCheckpoint to /proc/tfppl-ckpt (not writable, even by root) names the path and the OS error, and the previous checkpoint is unchanged', async () => {
    await expectNamed(() => saveCheckpoint('/proc/tfppl-ckpt', { store: s.params, optimizer: s.optimizer }), CheckpointError,
      ["saveCheckpoint '/proc/tfppl-ckpt'", 'cannot create', 'ENOENT', 'the previous checkpoint, if any, is unchanged'], watch())
  })
})
