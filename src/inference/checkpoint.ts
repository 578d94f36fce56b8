/**
 * Checkpoints: params, module weights and buffers, optimizer state and the SVI counters in
 * `dir/manifest.json` + `dir/weights.bin`, saved so that at every moment either
 * the previous complete checkpoint or the new complete one is on disk: both
 * files go to a fresh temporary directory next to `dir`, are fsynced, and the
 * directories are swapped by renames (`dir` → `dir.backup`, temp → `dir`).
 * Loading validates everything before changing anything.
 */
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { sameShape, showShape } from '../errors.js'
import { transformNames } from '../distributions/biject.js'
import { moduleBuffers, paramTransform } from './params.js'
import type { StoreEntry } from './params.js'
import { CONSTRAINTS, encodeCheckpoint, optimizerInternals, optimizerOrder, savedTransform, unpack } from './checkpoint-codec.js'
import { CheckpointError, decodeCheckpoint, errnoOf } from './checkpoint-manifest.js'
import { MANIFEST, WEIGHTS, backupOf, checkReplaceable, ensureParent, exists, removeStaleTemps, repair, sha256, swap, writeTemp } from './checkpoint-files.js'
import type { SaveHooks } from './checkpoint-files.js'
import type { Checkpoint, CheckpointState, CheckpointStore } from './checkpoint-codec.js'
import type { BlobRecord, BufferRecord, Manifest, ModuleRecord, OptimizerRecord, ParamRecord } from './checkpoint-manifest.js'

export { CheckpointError } from './checkpoint-manifest.js'
export type { Checkpoint, CheckpointState, CheckpointStore } from './checkpoint-codec.js'

export type { SaveHooks, SaveStage } from './checkpoint-files.js'

/**
 * Saves params, module weights and buffers and (optionally) the optimizer, the SVI state and
 * extra JSON into `dir` (created if missing), atomically: a crash at any moment
 * leaves either the previous complete checkpoint or the new one. A directory that
 * cannot be written is a {@link CheckpointError} naming the path and the OS error
 * code, and the previous checkpoint is left as it was.
 *
 * @example
 * await saveCheckpoint('runs/vae', { store: s.params, optimizer: s.optimizer, state: s.state, extra: { epoch: 10 } })
 */
export const saveCheckpoint = async (dir: string, c: Checkpoint, hooks: SaveHooks = {}): Promise<void> => {
  const { manifest, bytes } = await encodeCheckpoint(c, sha256)   // everything is read before the disk is touched
  const target = path.resolve(dir)
  await ensureParent(target)
  await repair(target)
  await checkReplaceable(target, target)
  await removeStaleTemps(target)
  const temp = `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`
  try {
    await writeTemp(target, temp, manifest, bytes, hooks)
    await swap(target, temp, hooks)
  } finally {
    await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined)
  }
}

type Apply = () => void
type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number]

const tensorOf = (bytes: Uint8Array, b: BlobRecord): tf.Tensor => tf.tensor(unpack(bytes, b), b.shape, b.dtype)
const assignFrom = (v: tf.Variable, bytes: Uint8Array, b: BlobRecord): void => { tf.tidy(() => { v.assign(tensorOf(bytes, b)) }) }
const fail = (message: string): never => { throw new CheckpointError(`loadCheckpoint: ${message}`) }

const checkFits = (what: string, v: tf.Tensor, b: BlobRecord): void => {
  if (!sameShape(v.shape, b.shape)) fail(`${what} has shape ${showShape(v.shape)} in the store but ${showShape(b.shape)} in the checkpoint`)
  if (v.dtype !== b.dtype) fail(`${what} has dtype ${v.dtype} in the store but ${b.dtype} in the checkpoint`)
}

/**
 * A saved param is read through the transform it was saved with (`savedTransform`: softplus for a
 * positive param saved before checkpoints recorded one): a param the store already holds with
 * another transform is switched to the saved one, so a run resumes as it was trained.
 */
const planParam = (store: CheckpointStore, e: StoreEntry | undefined, rec: ParamRecord, bytes: Uint8Array): Apply => {
  const transform = savedTransform(rec)
  if (!transformNames(CONSTRAINTS[rec.constraint]).includes(transform)) fail(`param '${rec.name}' has the transform '${transform}' in the checkpoint, which does not map onto its constraint '${rec.constraint}'`)
  if (e === undefined) return () => { tf.tidy(() => { store.insert(rec.name, tensorOf(bytes, rec), CONSTRAINTS[rec.constraint], transform) }) }
  if (e.kind !== 'param') return fail(`'${rec.name}' is a param in the checkpoint but a module in the store`)
  if (e.constraint._tag !== rec.constraint) fail(`param '${rec.name}' has the constraint '${e.constraint._tag}' in the store but '${rec.constraint}' in the checkpoint`)
  checkFits(`param '${rec.name}'${paramTransform(e) === transform ? '' : ` (transform '${paramTransform(e)}' in the store, '${transform}' in the checkpoint)`}`, e.variable, rec)
  return () => {
    if (paramTransform(e) !== transform) store.setTransform(rec.name, transform)
    assignFrom(e.variable, bytes, rec)
  }
}

const planModule = (e: StoreEntry | undefined, rec: ModuleRecord, bytes: Uint8Array): Apply => {
  if (e === undefined) return fail(`module '${rec.name}' is not registered in the store; run svi.init(...) (or one svi.step) before loadCheckpoint so the program registers its modules`)
  if (e.kind !== 'module') return fail(`'${rec.name}' is a module in the checkpoint but a param in the store`)
  const vars = e.network.variables
  if (vars.length !== rec.variables.length) fail(`module '${rec.name}' has ${vars.length} variables in the store but ${rec.variables.length} in the checkpoint`)
  rec.variables.forEach((b, j) => checkFits(`module '${rec.name}' variable ${j} ('${vars[j]!.name}')`, vars[j]!, b))
  const buffers = planBuffers(rec, moduleBuffers(e.network))
  return () => {
    rec.variables.forEach((b, j) => assignFrom(vars[j]!, bytes, b))
    for (const [v, b] of buffers) assignFrom(v, bytes, b)
  }
}

/**
 * Pairs a module's saved buffers with the store's by name. A saved buffer the module does not have is an
 * error; a buffer missing from the checkpoint (one written before the module had it) is left as it is.
 */
const planBuffers = (rec: ModuleRecord, have: Readonly<Record<string, tf.Variable>>): Array<readonly [tf.Variable, BufferRecord]> =>
  (rec.buffers ?? []).map((b) => {
    const v = Object.hasOwn(have, b.name) ? have[b.name]! : fail(`module '${rec.name}' has no buffer '${b.name}' in the store but one of shape ${showShape(b.shape)} in the checkpoint${Object.keys(have).length === 0 ? '' : ` (its buffers: ${Object.keys(have).map((n) => `'${n}'`).join(', ')})`}`)
    checkFits(`module '${rec.name}' buffer '${b.name}'`, v, b)
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

const planOptimizer = (opt: tf.Optimizer, rec: OptimizerRecord | undefined, shapes: ReadonlyArray<readonly number[]>): OptimizerRecord => {
  if (rec === undefined) return fail('an optimizer was given but the checkpoint holds no optimizer state (it was saved without one)')
  if (rec.className !== opt.getClassName()) fail(`the checkpoint holds ${rec.className} optimizer state but the optimizer is ${opt.getClassName()}`)
  for (const w of rec.weights) {
    if (w.slot === null) continue
    const s = shapes[w.slot.variable] ?? fail(`optimizer weight '${w.name}' belongs to variable #${w.slot.variable} but the store has ${shapes.length} variables`)
    if (!sameShape(s, w.shape)) fail(`optimizer weight '${w.name}' has shape ${showShape(w.shape)} but variable #${w.slot.variable} has shape ${showShape(s)}`)
  }
  const internals = optimizerInternals(opt)
  for (const r of rec.internals) checkFits(`optimizer.${r.property}`, internals.get(r.property) ?? fail(`the optimizer has no variable '${r.property}'`), r)
  return rec
}

/** setWeights with the slots renamed after the current variables (tfjs matches slots by position); then the internal counters. */
const applyOptimizer = async (opt: tf.Optimizer, rec: OptimizerRecord, bytes: Uint8Array, store: CheckpointStore): Promise<void> => {
  const order = optimizerOrder(store.variables())
  const given = rec.weights.map((w): NamedTensor => ({ name: w.slot === null ? w.name : `${order[w.slot.variable]!.name}/${w.slot.suffix}`, tensor: tensorOf(bytes, w) }))
  const before = await opt.getWeights()
  try {
    await opt.setWeights(given)
  } catch (e) {
    throw new CheckpointError(`loadCheckpoint: the ${opt.getClassName()} optimizer rejected the saved weights (${e instanceof Error ? e.message : String(e)})`)
  } finally {
    tf.dispose(given.map((g) => g.tensor))
  }
  const after = await opt.getWeights()
  const kept = new Set<tf.Tensor>(after.map((w) => w.tensor))
  tf.dispose([...before, ...after].map((w) => w.tensor).filter((x) => !(x instanceof tf.Variable) || !kept.has(x)))   // `iter` scalars and replaced slots
  const internals = optimizerInternals(opt)
  for (const r of rec.internals) assignFrom(internals.get(r.property)!, bytes, r)
}

/** Checks the whole checkpoint against the store (and optimizer), then applies it. */
const restore = async (m: Manifest, bytes: Uint8Array, store: CheckpointStore, opt: tf.Optimizer | undefined): Promise<void> => {
  const byName = new Map(store.entries().map((e) => [e.name, e]))
  const applies = m.entries.map((r) => r.kind === 'param' ? planParam(store, byName.get(r.name), r, bytes) : planModule(byName.get(r.name), r, bytes))
  const optRec = opt === undefined ? undefined : planOptimizer(opt, m.optimizer, projectedShapes(store, m))
  applies.forEach((f) => f())
  if (opt !== undefined && optRec !== undefined) await applyOptimizer(opt, optRec, bytes, store)
}

/** The directory to read: `target`, or the backup an interrupted save left when `target` is missing. */
const sourceOf = async (target: string): Promise<string> => {
  if (await exists(target)) return target
  if (await exists(backupOf(target))) return backupOf(target)
  throw new CheckpointError(`loadCheckpoint: no checkpoint at '${target}' (ENOENT)`, target, 'ENOENT')
}

const readFile = async (file: string): Promise<Buffer> => {
  try {
    return await fs.readFile(file)
  } catch (e) {
    const code = errnoOf(e) ?? 'EUNKNOWN'
    throw new CheckpointError(`loadCheckpoint: cannot read '${file}': ${e instanceof Error ? e.message : String(e)}`, file, code)
  }
}

/**
 * Reads the manifest and the weights it describes. If they do not match (size or
 * SHA-256) they are read once more, in case a concurrent save swapped the
 * directory between the two reads; a second mismatch is a corrupt checkpoint.
 */
const readCheckpoint = async (target: string, attempt = 1): Promise<{ manifest: Manifest; bytes: Uint8Array }> => {
  const source = await sourceOf(target)
  const manifestFile = path.join(source, MANIFEST), weightsFile = path.join(source, WEIGHTS)
  const manifest = decodeCheckpoint(manifestFile, (await readFile(manifestFile)).toString('utf8'))
  const bytes = new Uint8Array(await readFile(weightsFile))
  const problem = bytes.length !== manifest.weightsBytes
    ? `'${weightsFile}' has ${bytes.length} bytes but '${manifestFile}' says ${manifest.weightsBytes} (weightsBytes); the file is truncated or from another checkpoint`
    : sha256(bytes) !== manifest.weightsSha256 ? `'${weightsFile}' does not match the SHA-256 in '${manifestFile}' (weightsSha256); the file is corrupt or from another checkpoint` : undefined
  if (problem === undefined) return { manifest, bytes }
  if (attempt < 2) return readCheckpoint(target, attempt + 1)
  throw new CheckpointError(`loadCheckpoint: ${problem}`, weightsFile)
}

/**
 * Restores a checkpoint into `c.store` (and `c.optimizer`): existing params are
 * assigned (shapes must match), missing params are created, modules must already
 * be registered (run `svi.init(...)` or one step first). Module buffers (see
 * `NetworkWithBuffers`) are restored by name; a checkpoint saved before a module
 * had buffers (e.g. a VQ-VAE's EMA codebook before tfppl saved it) loads, leaving
 * those buffers as they are (a fresh model's: as initialised). Everything is checked
 * before anything changes. Returns the saved SVI state and extra JSON.
 *
 * @example
 * const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 1 })
 * const { state, extra } = await loadCheckpoint('runs/vae', { store: s.params, optimizer: s.optimizer })
 */
export const loadCheckpoint = async (dir: string, c: { readonly store: CheckpointStore; readonly optimizer?: tf.Optimizer }): Promise<{ state?: CheckpointState; extra?: Record<string, unknown> }> => {
  const { manifest, bytes } = await readCheckpoint(path.resolve(dir))
  await restore(manifest, bytes, c.store, c.optimizer)
  return { ...(manifest.state && { state: { step: manifest.state.step, baselines: { ...manifest.state.baselines } } }), ...(manifest.extra && { extra: manifest.extra }) }
}

/**
 * Saves only the params and module weights (and buffers) of a store (atomically, like {@link saveCheckpoint}).
 *
 * @example await saveParams('models/guide', s.params)
 */
export const saveParams = (dir: string, store: CheckpointStore): Promise<void> => saveCheckpoint(dir, { store })

/**
 * Loads params and module weights (and buffers) into a store (see {@link loadCheckpoint}); optimizer data, if any, is ignored.
 *
 * @example await loadParams('models/guide', paramStore())
 */
export const loadParams = async (dir: string, store: CheckpointStore): Promise<void> => { await loadCheckpoint(dir, { store }) }
