import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TransformName } from '../../src/distributions/biject.js'
import * as constraints from '../../src/distributions/constraints.js'
import { param } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { CheckpointError, loadParams, saveParams } from '../../src/inference/checkpoint.js'
import { paramStore, paramTransform } from '../../src/inference/params.js'
import type { ParamEntry, ParamStore } from '../../src/inference/params.js'
import { traceProgram } from '../../src/inference/trace.js'
import { expectClose, read, softplus64, t } from '../helpers.js'

let root = ''
beforeEach(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-transform-')) })
afterEach(async () => { await fs.rm(root, { recursive: true, force: true }) })

const INIT = [0.05, 1, 7]

/** Runs a program declaring positive param 's' (init INIT) with `transform` in `store`. */
const declare = (store: ParamStore, transform?: TransformName): void => {
  tf.tidy(() => {
    traceProgram(gen(function* () {
      yield* param('s', () => t(INIT, [3]), { constraint: constraints.positive, ...(transform && { transform }) })
    }), [store.handler])
  })
}

const entryOf = (store: ParamStore, name: string): ParamEntry => {
  const e = store.entries().find((x) => x.name === name)
  if (e?.kind !== 'param') throw new Error(`no param '${name}'`)
  return e
}

const valueOf = (store: ParamStore, name: string): number[] => { const v = store.value(name)!; const r = read(v); v.dispose(); return r }

const manifestOf = async (dir: string): Promise<{ entries: Array<Record<string, unknown>> }> =>
  JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { entries: Array<Record<string, unknown>> }

describe('the transform of a constrained param', () => {
  it('defaults to exp for positive (as Pyro); exp and softplus give the same constrained initial value', () => {
    const byExp = paramStore(), bySoftplus = paramStore()
    declare(byExp)
    declare(bySoftplus, 'softplus')
    expect(paramTransform(entryOf(byExp, 's'))).toBe('exp')
    expect(entryOf(bySoftplus, 's').transform).toBe('softplus')
    expectClose(valueOf(byExp, 's'), INIT, 1e-6)
    expectClose(valueOf(bySoftplus, 's'), INIT, 1e-6)
    expectClose(read(entryOf(byExp, 's').variable), INIT.map(Math.log), 1e-6, 1e-6)
    expectClose(read(entryOf(bySoftplus, 's').variable), INIT.map((y) => Math.log(Math.expm1(y))), 1e-5, 1e-6)
    byExp.dispose()
    bySoftplus.dispose()
  })

  it('a transform that does not map onto the constraint is an InvalidArgumentError at the param', () => {
    expect(() => param('w', tf.zeros([2]), { transform: 'softplus' })).toThrow(InvalidArgumentError)
    expect(() => param('p', tf.ones([2]), { constraint: constraints.simplex, transform: 'exp' }))
      .toThrow(/param 'p': the transform "exp" does not map onto the constraint 'simplex' \(.*\); choose 'softmax' or 'stickBreaking'/)
  })

  it('a param in the store keeps its transform when a later run names another (as it keeps its constraint)', () => {
    const s = paramStore()
    declare(s, 'softplus')
    declare(s, 'exp')
    expect(entryOf(s, 's').transform).toBe('softplus')
    s.dispose()
  })
})

describe('checkpoints record the transform', () => {
  const saved = async (transform?: TransformName): Promise<string> => {
    const s = paramStore()
    declare(s, transform)
    tf.tidy(() => { entryOf(s, 's').variable.assign(tf.add(entryOf(s, 's').variable, 0.25)) })   // trained away from the init
    const dir = path.join(root, `ckpt-${transform ?? 'default'}`)
    await saveParams(dir, s)
    s.dispose()
    return dir
  }

  it('the manifest holds each param\'s transform, and a fresh store reloads it as saved', async () => {
    for (const transform of ['exp', 'softplus'] as const) {
      const dir = await saved(transform)
      expect((await manifestOf(dir)).entries[0]).toMatchObject({ kind: 'param', name: 's', constraint: 'positive', transform })
      const s = paramStore()
      await loadParams(dir, s)
      expect(entryOf(s, 's').transform).toBe(transform)
      const u = INIT.map((y) => (transform === 'exp' ? Math.log(y) : Math.log(Math.expm1(y))) + 0.25)
      expectClose(valueOf(s, 's'), u.map(transform === 'exp' ? Math.exp : softplus64), 1e-5, 1e-6)
      s.dispose()
    }
  })

  it('loading into a store whose param has another transform switches it to the saved one, keeping the variable', async () => {
    const dir = await saved('exp')
    const s = paramStore()
    declare(s, 'softplus')
    const variable = entryOf(s, 's').variable
    await loadParams(dir, s)
    expect(entryOf(s, 's').transform).toBe('exp')
    expect(entryOf(s, 's').variable).toBe(variable)
    expect(s.variables()).toEqual([variable])
    expectClose(valueOf(s, 's'), INIT.map((y) => y * Math.exp(0.25)), 1e-5)
    s.dispose()
  })

  it('a checkpoint written before transforms were recorded loads its positive params as softplus (the default then)', async () => {
    const dir = await saved('softplus')
    const manifest = await manifestOf(dir)
    for (const e of manifest.entries) delete e.transform
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest))
    const fresh = paramStore(), declared = paramStore()
    declare(declared)   // today's default: exp
    await loadParams(dir, fresh)
    await loadParams(dir, declared)
    const want = INIT.map((y) => softplus64(Math.log(Math.expm1(y)) + 0.25))
    for (const s of [fresh, declared]) {
      expect(entryOf(s, 's').transform).toBe('softplus')
      expectClose(valueOf(s, 's'), want, 1e-5)
      s.dispose()
    }
  })

  it('a transform that does not fit the constraint, or an unknown one, is a CheckpointError naming it', async () => {
    const dir = await saved('exp')
    const manifest = await manifestOf(dir)
    manifest.entries[0]!.transform = 'sigmoid'
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest))
    await expect(loadParams(dir, paramStore())).rejects.toThrow(/param 's' has the transform 'sigmoid' in the checkpoint, which does not map onto its constraint 'positive'/)
    manifest.entries[0]!.transform = 'cube'
    await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest))
    await expect(loadParams(dir, paramStore())).rejects.toThrow(CheckpointError)
    await expect(loadParams(dir, paramStore())).rejects.toThrow(/entries\[0\]\.transform: expected "identity" \| "exp" \| "softplus"/)
  })

  it('lower-Cholesky and simplex (stick-breaking) params save and load', async () => {
    const s = paramStore()
    tf.tidy(() => {
      traceProgram(gen(function* () {
        yield* param('L', () => t([2, 0, 0.5, 1], [2, 2]), { constraint: constraints.lowerCholesky })
        yield* param('p', () => t([0.2, 0.3, 0.5], [3]), { constraint: constraints.simplex, transform: 'stickBreaking' })
      }), [s.handler])
    })
    expect(entryOf(s, 'L').variable.shape).toEqual([3])
    expect(entryOf(s, 'p').variable.shape).toEqual([2])
    const dir = path.join(root, 'structured')
    await saveParams(dir, s)
    const back = paramStore()
    await loadParams(dir, back)
    expectClose(valueOf(back, 'L'), [2, 0, 0.5, 1], 1e-5, 1e-6)
    expectClose(valueOf(back, 'p'), [0.2, 0.3, 0.5], 1e-5, 1e-6)
    expect(entryOf(back, 'p').transform).toBe('stickBreaking')
    s.dispose()
    back.dispose()
  })
})
