/**
 * Restoring a decoded checkpoint (manifest + weights) into a store and an optimizer, wherever it
 * was read from (files in Node, IndexedDB or a single file in a browser): everything is checked
 * against the store before anything changes. Nothing here touches the disk or Node's modules.
 */
import * as tf from '@tensorflow/tfjs-core'
import { sameShape, showShape } from '../errors.js'
import { transformNames } from '../distributions/biject.js'
import { moduleBuffers, paramTransform } from './params.js'
import type { StoreEntry } from './params.js'
import { CONSTRAINTS, optimizerInternals, optimizerOrder, savedTransform, unpack } from './checkpoint-codec.js'
import type { CheckpointState, CheckpointStore } from './checkpoint-codec.js'
import { CheckpointError } from './checkpoint-manifest.js'
import type { BlobRecord, BufferRecord, Manifest, ModuleRecord, OptimizerRecord, ParamRecord } from './checkpoint-manifest.js'

/** What a load restores into: a store and, optionally, an optimizer. @example const into: RestoreTarget = { store: s.params, optimizer: s.optimizer } */
export interface RestoreTarget {
  readonly store: CheckpointStore
  readonly optimizer?: tf.Optimizer
}

/** What a load returns besides the restored weights: the saved SVI state and extra JSON. @example const { state, extra }: Restored = await loadCheckpoint(dir, { store }) */
export interface Restored {
  state?: CheckpointState
  extra?: Record<string, unknown>
}

type Apply = () => void
type Fail = (message: string) => never
type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number]

const tensorOf = (bytes: Uint8Array, b: BlobRecord): tf.Tensor => tf.tensor(unpack(bytes, b), b.shape, b.dtype)
const assignFrom = (v: tf.Variable, bytes: Uint8Array, b: BlobRecord): void => { tf.tidy(() => { v.assign(tensorOf(bytes, b)) }) }

const checkFits = (fail: Fail, what: string, v: tf.Tensor, b: BlobRecord): void => {
  if (!sameShape(v.shape, b.shape)) fail(`${what} has shape ${showShape(v.shape)} in the store but ${showShape(b.shape)} in the checkpoint`)
  if (v.dtype !== b.dtype) fail(`${what} has dtype ${v.dtype} in the store but ${b.dtype} in the checkpoint`)
}

/**
 * A saved param is read through the transform it was saved with (`savedTransform`: softplus for a
 * positive param saved before checkpoints recorded one): a param the store already holds with
 * another transform is switched to the saved one, so a run resumes as it was trained.
 */
const planParam = (fail: Fail, store: CheckpointStore, e: StoreEntry | undefined, rec: ParamRecord, bytes: Uint8Array): Apply => {
  const transform = savedTransform(rec)
  if (!transformNames(CONSTRAINTS[rec.constraint]).includes(transform)) fail(`param '${rec.name}' has the transform '${transform}' in the checkpoint, which does not map onto its constraint '${rec.constraint}'`)
  if (e === undefined) return () => { tf.tidy(() => { store.insert(rec.name, tensorOf(bytes, rec), CONSTRAINTS[rec.constraint], transform) }) }
  if (e.kind !== 'param') return fail(`'${rec.name}' is a param in the checkpoint but a module in the store`)
  if (e.constraint._tag !== rec.constraint) fail(`param '${rec.name}' has the constraint '${e.constraint._tag}' in the store but '${rec.constraint}' in the checkpoint`)
  checkFits(fail, `param '${rec.name}'${paramTransform(e) === transform ? '' : ` (transform '${paramTransform(e)}' in the store, '${transform}' in the checkpoint)`}`, e.variable, rec)
  return () => {
    if (paramTransform(e) !== transform) store.setTransform(rec.name, transform)
    assignFrom(e.variable, bytes, rec)
  }
}

const planModule = (fail: Fail, e: StoreEntry | undefined, rec: ModuleRecord, bytes: Uint8Array): Apply => {
  if (e === undefined) return fail(`module '${rec.name}' is not registered in the store; run svi.init(...) (or one svi.step) before loadCheckpoint so the program registers its modules`)
  if (e.kind !== 'module') return fail(`'${rec.name}' is a module in the checkpoint but a param in the store`)
  const vars = e.network.variables
  if (vars.length !== rec.variables.length) fail(`module '${rec.name}' has ${vars.length} variables in the store but ${rec.variables.length} in the checkpoint`)
  rec.variables.forEach((b, j) => checkFits(fail, `module '${rec.name}' variable ${j} ('${vars[j]!.name}')`, vars[j]!, b))
  const buffers = planBuffers(fail, rec, moduleBuffers(e.network))
  return () => {
    rec.variables.forEach((b, j) => assignFrom(vars[j]!, bytes, b))
    for (const [v, b] of buffers) assignFrom(v, bytes, b)
  }
}

/**
 * Pairs a module's saved buffers with the store's by name. A saved buffer the module does not have is an
 * error; a buffer missing from the checkpoint (one written before the module had it) is left as it is.
 */
const planBuffers = (fail: Fail, rec: ModuleRecord, have: Readonly<Record<string, tf.Variable>>): Array<readonly [tf.Variable, BufferRecord]> =>
  (rec.buffers ?? []).map((b) => {
    const v = Object.hasOwn(have, b.name) ? have[b.name]! : fail(`module '${rec.name}' has no buffer '${b.name}' in the store but one of shape ${showShape(b.shape)} in the checkpoint${Object.keys(have).length === 0 ? '' : ` (its buffers: ${Object.keys(have).map((n) => `'${n}'`).join(', ')})`}`)
    checkFits(fail, `module '${rec.name}' buffer '${b.name}'`, v, b)
    return [v, b] as const
  })

/** Shapes of the store's variables in optimizer order, as they will be once the missing params are created (tfjs names new variables with larger ids). */
const projectedShapes = (store: CheckpointStore, m: Manifest): Array<readonly number[]> => {
  const vars = store.variables()
  const known = new Set(store.entries().map((e) => e.name))
  const maxId = Math.max(-1, ...vars.map((v) => /^\d+$/.test(v.name) ? Number(v.name) : -1))
  const created = m.entries.filter((r): r is ParamRecord => r.kind === 'param' && !known.has(r.name))
  const keyed = [...vars.map((v): [string, readonly number[]] => [v.name, v.shape]), ...created.map((r, k): [string, readonly number[]] => [String(maxId + 1 + k), r.shape])]
  const shapes = new Map(keyed)
  return Object.keys(Object.fromEntries(keyed)).map((k) => shapes.get(k)!)
}

const planOptimizer = (fail: Fail, opt: tf.Optimizer, rec: OptimizerRecord | undefined, shapes: ReadonlyArray<readonly number[]>): OptimizerRecord => {
  if (rec === undefined) return fail('an optimizer was given but the checkpoint holds no optimizer state (it was saved without one)')
  if (rec.className !== opt.getClassName()) fail(`the checkpoint holds ${rec.className} optimizer state but the optimizer is ${opt.getClassName()}`)
  for (const w of rec.weights) {
    if (w.slot === null) continue
    const s = shapes[w.slot.variable] ?? fail(`optimizer weight '${w.name}' belongs to variable #${w.slot.variable} but the store has ${shapes.length} variables`)
    if (!sameShape(s, w.shape)) fail(`optimizer weight '${w.name}' has shape ${showShape(w.shape)} but variable #${w.slot.variable} has shape ${showShape(s)}`)
  }
  const internals = optimizerInternals(opt)
  for (const r of rec.internals) checkFits(fail, `optimizer.${r.property}`, internals.get(r.property) ?? fail(`the optimizer has no variable '${r.property}'`), r)
  return rec
}

/** setWeights with the slots renamed after the current variables (tfjs matches slots by position); then the internal counters. */
const applyOptimizer = async (who: string, opt: tf.Optimizer, rec: OptimizerRecord, bytes: Uint8Array, store: CheckpointStore): Promise<void> => {
  const order = optimizerOrder(store.variables())
  const given = rec.weights.map((w): NamedTensor => ({ name: w.slot === null ? w.name : `${order[w.slot.variable]!.name}/${w.slot.suffix}`, tensor: tensorOf(bytes, w) }))
  const before = await opt.getWeights()
  try {
    await opt.setWeights(given)
  } catch (e) {
    throw new CheckpointError(`${who}: the ${opt.getClassName()} optimizer rejected the saved weights (${e instanceof Error ? e.message : String(e)})`)
  } finally {
    tf.dispose(given.map((g) => g.tensor))
  }
  const after = await opt.getWeights()
  const kept = new Set<tf.Tensor>(after.map((w) => w.tensor))
  tf.dispose([...before, ...after].map((w) => w.tensor).filter((x) => !(x instanceof tf.Variable) || !kept.has(x)))   // `iter` scalars and replaced slots
  const internals = optimizerInternals(opt)
  for (const r of rec.internals) assignFrom(internals.get(r.property)!, bytes, r)
}

/**
 * Checks the whole checkpoint against the store (and optimizer), then applies it; returns the saved
 * SVI state and extra JSON. `who` begins each error message (`loadCheckpoint`, `loadCheckpointIdb 'run'`…).
 *
 * @example const { state } = await restoreCheckpoint('loadCheckpoint', manifest, bytes, { store, optimizer })
 */
export const restoreCheckpoint = async (who: string, m: Manifest, bytes: Uint8Array, into: RestoreTarget): Promise<Restored> => {
  const fail: Fail = (message) => { throw new CheckpointError(`${who}: ${message}`) }
  const { store, optimizer: opt } = into
  const byName = new Map(store.entries().map((e) => [e.name, e]))
  const applies = m.entries.map((r) => r.kind === 'param' ? planParam(fail, store, byName.get(r.name), r, bytes) : planModule(fail, byName.get(r.name), r, bytes))
  const optRec = opt === undefined ? undefined : planOptimizer(fail, opt, m.optimizer, projectedShapes(store, m))
  applies.forEach((f) => f())
  if (opt !== undefined && optRec !== undefined) await applyOptimizer(who, opt, optRec, bytes, store)
  return { ...(m.state && { state: { step: m.state.step, baselines: { ...m.state.baselines } } }), ...(m.extra && { extra: m.extra }) }
}
