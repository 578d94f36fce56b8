/**
 * Encoding a checkpoint: 4-byte little-endian tensor data, and a store (params,
 * module weights and module buffers) and an optimizer (its slots mapped to
 * variables by position) into a manifest and one buffer. The manifest's codec
 * and checks: `checkpoint-manifest.ts`. Nothing here touches the disk or Node's
 * modules: the digest of the weights is passed in (`node:crypto` by `checkpoint.ts`, which
 * writes the files; `crypto.subtle` by the browser's stores, `checkpoint-digest.ts`).
 */
import * as tf from '@tensorflow/tfjs-core'
import { transformNames } from '../distributions/biject.js'
import type { TransformName } from '../distributions/biject.js'
import * as constraints from '../distributions/constraints.js'
import type { Constraint } from '../distributions/constraints.js'
import { CheckpointError, FORMAT_VERSION } from './checkpoint-manifest.js'
import type { Digest } from './checkpoint-digest.js'
import type { BlobRecord, BufferRecord, EntryRecord, Manifest, OptimizerRecord, ParamRecord } from './checkpoint-manifest.js'
import { moduleBuffers, paramTransform } from './params.js'
import type { ParamStore } from './params.js'

/** Data of one tensor to be written. */
interface Chunk {
  readonly data: Float32Array | Int32Array
  readonly shape: readonly number[]
}


/** A growing little-endian buffer of tensor data. */
interface Packer {
  readonly add: (c: Chunk) => BlobRecord
  readonly bytes: () => Uint8Array
  readonly size: () => number
}

const packer = (): Packer => {
  const parts: Uint8Array[] = []
  let offset = 0
  const add = (c: Chunk): BlobRecord => {
    const part = new Uint8Array(4 * c.data.length)
    const view = new DataView(part.buffer)
    const isInt = c.data instanceof Int32Array
    c.data.forEach((x, i) => { if (isInt) view.setInt32(4 * i, x, true); else view.setFloat32(4 * i, x, true) })
    parts.push(part)
    const blob: BlobRecord = { shape: [...c.shape], dtype: isInt ? 'int32' : 'float32', byteOffset: offset, byteLength: part.length }
    offset += part.length
    return blob
  }
  const bytes = (): Uint8Array => {
    const all = new Uint8Array(offset)
    parts.reduce((at, p) => { all.set(p, at); return at + p.length }, 0)
    return all
  }
  return { add, bytes, size: () => offset }
}

/** Reads one blob out of `weights.bin` (little-endian). @example tf.tensor(unpack(bytes, rec), rec.shape, rec.dtype) */
export const unpack = (bytes: Uint8Array, b: BlobRecord): Float32Array | Int32Array => {
  const view = new DataView(bytes.buffer, bytes.byteOffset + b.byteOffset, b.byteLength)
  const n = b.byteLength / 4
  if (b.dtype === 'int32') return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true))
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true))
}

/**
 * The part of a param store a checkpoint reads (to save) and writes (to load): a `ParamStore` is one.
 *
 * @example const store: CheckpointStore = paramStore()
 */
export type CheckpointStore = Pick<ParamStore, 'entries' | 'variables' | 'insert' | 'setTransform'>

/**
 * The counters of a run a checkpoint saves besides the weights (`svi`'s `SviState` is one).
 *
 * @example const state: CheckpointState = { step: 120, baselines: { z: 3.2 } }
 */
export interface CheckpointState {
  readonly step: number
  /** The decaying-average baseline of each score-function site that has one. */
  readonly baselines: Readonly<Record<string, number>>
}

/** What `saveCheckpoint` writes. @example const c: Checkpoint = { store: s.params, optimizer: s.optimizer, state: s.state, extra: { epoch } } */
export interface Checkpoint {
  readonly store: CheckpointStore
  /** Its weights (`getWeights`) and internal counters are saved, mapped to variables by position. */
  readonly optimizer?: tf.Optimizer
  readonly state?: CheckpointState
  /** Any JSON-serialisable data (epoch number, config…). */
  readonly extra?: Record<string, unknown>
}

/** The param constraints a checkpoint can hold (those with an unconstrained form), by tag. @example CONSTRAINTS.positive === constraints.positive */
export const CONSTRAINTS: Readonly<Record<ParamRecord['constraint'], Constraint>> = {
  real: constraints.real, positive: constraints.positive, unitInterval: constraints.unitInterval, simplex: constraints.simplex,
  lowerCholesky: constraints.lowerCholesky, positiveDefinite: constraints.positiveDefinite,
}

/**
 * The transform a saved param was trained with: its record's, or, for a checkpoint written before
 * params recorded one, the default of that time — softplus for positive params (exp has been the
 * default since), the only map for the others.
 *
 * @example savedTransform({ kind: 'param', name: 's', constraint: 'positive', ...blob })   // 'softplus'
 */
export const savedTransform = (rec: ParamRecord): TransformName =>
  rec.transform ?? (rec.constraint === 'positive' ? 'softplus' : transformNames(CONSTRAINTS[rec.constraint])[0] ?? 'identity')

const isConstraintTag = (tag: string): tag is ParamRecord['constraint'] => Object.hasOwn(CONSTRAINTS, tag)

/**
 * The store's variables in the order a tfjs optimizer keeps its slots: the key
 * order of the gradient map svi hands to `applyGradients` (integer-like names —
 * tfjs's auto-generated ones — ascending, then the others in insertion order).
 *
 * @example optimizerOrder(store.variables()).map((v) => v.name)   // ['12', '13', 'dense_Dense1/kernel', …]
 */
export const optimizerOrder = (vars: readonly tf.Variable[]): tf.Variable[] => {
  const byName = new Map(vars.map((v) => [v.name, v]))
  return Object.keys(Object.fromEntries(vars.map((v) => [v.name, 0]))).map((k) => byName.get(k)!)
}

/** tf.Variables an optimizer keeps as own properties outside `getWeights`. @example [...optimizerInternals(tf.train.adam(0.1)).keys()] // ['accBeta1', 'accBeta2'] */
export const optimizerInternals = (opt: tf.Optimizer): Map<string, tf.Variable> =>
  new Map(Object.entries(opt as unknown as Record<string, unknown>).filter((e): e is [string, tf.Variable] => e[1] instanceof tf.Variable))

const chunkOf = async (what: string, x: tf.Tensor): Promise<Chunk> => {
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new CheckpointError(`saveCheckpoint: ${what} has dtype ${x.dtype}; only float32 and int32 tensors can be saved`)
  const data = await x.data()
  return { data: data instanceof Int32Array ? data : Float32Array.from(data), shape: x.shape }
}

/** `'<variable name>/<suffix>'` → the variable's index in optimizer order and the suffix; null for other weights (`iter`). */
const slotOf = (name: string, order: readonly string[]): { variable: number; suffix: string } | null => {
  const k = name.lastIndexOf('/')
  const i = k < 0 ? -1 : order.indexOf(name.slice(0, k))
  return i < 0 ? null : { variable: i, suffix: name.slice(k + 1) }
}

const encodeOptimizer = async (opt: tf.Optimizer, store: CheckpointStore, p: Packer): Promise<OptimizerRecord> => {
  const weights = await opt.getWeights().catch((e: unknown) => {
    throw new CheckpointError(`saveCheckpoint: the ${opt.getClassName()} optimizer cannot report its weights (${e instanceof Error ? e.message : String(e)})`)
  })
  try {
    const order = optimizerOrder(store.variables()).map((v) => v.name)
    const records: OptimizerRecord['weights'] = []
    for (const w of weights) records.push({ name: w.name, slot: slotOf(w.name, order), ...p.add(await chunkOf(`optimizer weight '${w.name}'`, w.tensor)) })
    const internals: OptimizerRecord['internals'] = []
    for (const [property, v] of optimizerInternals(opt)) internals.push({ property, ...p.add(await chunkOf(`optimizer.${property}`, v)) })
    return { className: opt.getClassName(), weights: records, internals }
  } finally {
    tf.dispose(weights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor))   // the fresh `iter` scalar
  }
}

const encodeEntries = async (store: CheckpointStore, p: Packer): Promise<EntryRecord[]> => {
  const out: EntryRecord[] = []
  for (const e of store.entries()) {
    if (e.kind === 'param') {
      const tag = e.constraint._tag
      if (!isConstraintTag(tag)) throw new CheckpointError(`saveCheckpoint: param '${e.name}' has the constraint '${tag}', which has no unconstrained form`)
      out.push({ kind: 'param', name: e.name, constraint: tag, transform: paramTransform(e), ...p.add(await chunkOf(`param '${e.name}'`, e.variable)) })
    } else {
      const variables: BlobRecord[] = []
      for (const [i, v] of e.network.variables.entries()) variables.push(p.add(await chunkOf(`module '${e.name}' variable ${i}`, v)))
      const buffers: BufferRecord[] = []
      for (const [name, v] of Object.entries(moduleBuffers(e.network))) buffers.push({ name, ...p.add(await chunkOf(`module '${e.name}' buffer '${name}'`, v)) })
      out.push({ kind: 'module', name: e.name, variables, ...(buffers.length > 0 && { buffers }) })
    }
  }
  return out
}

const jsonCopy = (what: string, x: object): Record<string, unknown> => {
  try {
    return JSON.parse(JSON.stringify(x)) as Record<string, unknown>
  } catch (e) {
    throw new CheckpointError(`saveCheckpoint: ${what} is not JSON-serialisable (${e instanceof Error ? e.message : String(e)})`)
  }
}

/**
 * Reads every tensor of a checkpoint into a manifest and one buffer (nothing touches the disk);
 * `digest` hashes the buffer for the manifest's `weightsSha256` (synchronously, or asynchronously as `crypto.subtle` does).
 *
 * @example const { manifest, bytes } = await encodeCheckpoint({ store }, sha256Web)
 */
export const encodeCheckpoint = async (c: Checkpoint, digest: Digest): Promise<{ manifest: Manifest; bytes: Uint8Array }> => {
  const p = packer()
  const entries = await encodeEntries(c.store, p)
  const optimizer = c.optimizer === undefined ? undefined : await encodeOptimizer(c.optimizer, c.store, p)
  const bytes = p.bytes()
  if (c.state !== undefined && !(Number.isSafeInteger(c.state.step) && c.state.step >= 0 && Object.values(c.state.baselines).every(Number.isFinite))) {
    throw new CheckpointError(`saveCheckpoint: state must have a non-negative integer step and finite baselines; got ${JSON.stringify(c.state)}`)
  }
  const manifest: Manifest = {
    format: 'tfppl-checkpoint', version: FORMAT_VERSION, weightsBytes: p.size(), weightsSha256: await digest(bytes), entries,
    ...(optimizer && { optimizer }),
    ...(c.state && { state: { step: c.state.step, baselines: { ...c.state.baselines } } }),
    ...(c.extra && { extra: jsonCopy('extra', c.extra) }),
  }
  return { manifest, bytes }
}
