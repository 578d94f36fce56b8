/**
 * The contract every bad input is held to: it throws the named `TfpplError`
 * subclass (never a raw tfjs or Node error), its message names what was wrong,
 * where and what was expected, and nothing changed: param store keys and
 * values, watched tensors, files under watched directories, and
 * `tf.memory().numTensors` are exactly as before the call.
 */
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { expect } from 'vitest'
import { TfpplError } from '../../src/errors.js'
import type { ParamStore } from '../../src/inference/params.js'

/** What a bad input must leave alone. */
export interface Watched {
  readonly store?: ParamStore
  readonly tensors?: readonly tf.Tensor[]
  readonly dirs?: readonly string[]
  /** Anything else to compare before and after (e.g. `() => ({ ...s.state })`). */
  readonly values?: () => unknown
}

/** Every entry of a store: a param's unconstrained values, or each module variable's values. */
const storeState = (store: ParamStore): Record<string, number[][]> => Object.fromEntries(store.entries().map((e) =>
  [`${e.kind}:${e.name}`, e.kind === 'param' ? [Array.from(e.variable.dataSync())] : e.network.variables.map((v) => Array.from(v.dataSync()))]))

/** Each file or directory under `dir` (recursively): kind, size, mtime and a SHA-256 of its bytes. */
const dirState = (dir: string): string[] => {
  if (!existsSync(dir)) return [`${dir}: missing`]
  const s = lstatSync(dir)
  if (!s.isDirectory()) return [`${dir}: file ${s.size} ${s.mtimeMs} ${createHash('sha256').update(readFileSync(dir)).digest('hex')}`]
  return [`${dir}: dir`, ...readdirSync(dir).sort().flatMap((n) => dirState(join(dir, n)))]
}

/** A snapshot of everything watched, plus the live tensor count. */
export const snapshot = (w: Watched): unknown => ({
  numTensors: tf.memory().numTensors,
  store: w.store === undefined ? undefined : storeState(w.store),
  tensors: (w.tensors ?? []).map((t) => ({ disposed: t.isDisposed, shape: t.shape, dtype: t.dtype, values: t.isDisposed ? [] : Array.from(t.dataSync()) })),
  dirs: (w.dirs ?? []).flatMap(dirState),
  values: w.values?.(),
})

type ErrorClass = abstract new (...args: never[]) => TfpplError

/**
 * Runs `f` (sync or async), asserts it throws an instance of `Named` (a TfpplError subclass) whose
 * message contains every string of `parts` (or matches every RegExp), and that nothing watched
 * changed. Returns the error for further checks.
 *
 * @example await expectNamed(() => s.step(model, guide, [x]), InvalidArgumentError, ['svi.step', 'argument 0', 'expected'], { store: s.params })
 */
export const expectNamed = async <E extends TfpplError>(
  f: () => unknown, Named: ErrorClass & (abstract new (...args: never[]) => E), parts: ReadonlyArray<string | RegExp>, watched: Watched = {},
): Promise<E> => {
  const before = snapshot(watched)
  let caught: unknown
  let result: unknown
  try { result = await f() } catch (e) { caught = e }
  if (caught === undefined) expect.fail(`expected a ${Named.name}; the call returned ${result instanceof tf.Tensor ? `a tensor ${result.toString()}` : JSON.stringify(result)}`)
  if (!(caught instanceof Named)) expect.fail(`expected a ${Named.name}; got ${caught instanceof Error ? `${caught.constructor.name}: ${caught.message}` : String(caught)}`)
  expect(caught).toBeInstanceOf(TfpplError)
  const message = (caught as Error).message
  for (const p of parts) {
    if (typeof p === 'string') expect(message, 'the message names it').toContain(p)
    else expect(message, 'the message names it').toMatch(p)
  }
  expect(snapshot(watched), 'nothing changed (store, tensors, files, numTensors)').toEqual(before)
  return caught as E
}
