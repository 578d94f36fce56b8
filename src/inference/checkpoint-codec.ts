/**
 * The on-disk format of a checkpoint: the io-ts codec of `manifest.json`, the
 * error messages built from io-ts's error context, the layout checks of
 * `weights.bin`, 4-byte little-endian tensor data, and the encoding of a store
 * and an optimizer into a manifest and one buffer.
 */
import { createHash } from 'node:crypto'
import * as tf from '@tensorflow/tfjs-core'
import * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as constraints from '../distributions/constraints.js'
import type { Constraint } from '../distributions/constraints.js'
import { TfpplError, showShape } from '../errors.js'
import type { ParamStore } from './params.js'
import type { SviState } from './svi.js'

/** The checkpoint format this module writes (and the only one it reads). */
const FORMAT_VERSION = 1

/**
 * A checkpoint that cannot be written or read: the message names the path (or
 * the file and field) and what was wrong; `code` is the OS error code, if any.
 *
 * @example
 * try { await loadCheckpoint('run/ckpt', { store }) } catch (e) { if (e instanceof CheckpointError) console.error(e.path, e.code) }
 */
export class CheckpointError extends TfpplError {
  constructor(message: string, readonly path?: string, readonly code?: string) {
    super(message)
  }
}

/** The OS error code of a Node error, or undefined. @example errnoOf(await fs.stat('nope').catch((e) => e)) // 'ENOENT' */
export const errnoOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

const nonNegativeInt = new t.Type<number, number, unknown>(
  'non-negative integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c),
  t.identity,
)

/** Where one tensor's data lies in `weights.bin`. */
const Blob = t.type({
  shape: t.array(nonNegativeInt, 'number[]'),
  dtype: t.union([t.literal('float32'), t.literal('int32')], '"float32" | "int32"'),
  byteOffset: nonNegativeInt,
  byteLength: nonNegativeInt,
}, 'Blob')

const ParamRecord = t.intersection([t.type({
  kind: t.literal('param'),
  name: t.string,
  constraint: t.union([t.literal('real'), t.literal('positive'), t.literal('unitInterval'), t.literal('simplex')], '"real" | "positive" | "unitInterval" | "simplex"'),
}), Blob], 'ParamRecord')

const ModuleRecord = t.type({ kind: t.literal('module'), name: t.string, variables: t.array(Blob, 'Blob[]') }, 'ModuleRecord')

/** An optimizer weight: its tfjs name and, for a slot of a variable, the variable's index (optimizer order) and the slot suffix. */
const OptimizerWeight = t.intersection([t.type({
  name: t.string,
  slot: t.union([t.null, t.type({ variable: nonNegativeInt, suffix: t.string })], '{ variable, suffix } | null'),
}), Blob], 'OptimizerWeight')

/** A scalar tf.Variable the optimizer keeps outside `getWeights` (Adam's accBeta1/accBeta2), by property name. */
const OptimizerInternal = t.intersection([t.type({ property: t.string }), Blob], 'OptimizerInternal')

/** The codec of `manifest.json`. @example Manifest.decode(JSON.parse(text)) // Either<Errors, Manifest> */
export const Manifest = t.intersection([t.type({
  format: t.literal('tfppl-checkpoint'),
  version: t.literal(FORMAT_VERSION),
  weightsBytes: nonNegativeInt,
  weightsSha256: t.string,
  entries: t.array(t.union([ParamRecord, ModuleRecord], 'ParamRecord | ModuleRecord'), 'Entry[]'),
}), t.partial({
  optimizer: t.type({ className: t.string, weights: t.array(OptimizerWeight), internals: t.array(OptimizerInternal) }),
  state: t.type({ step: nonNegativeInt, baseline: t.number }),
  extra: t.UnknownRecord,
})], 'Manifest')

/** A decoded `manifest.json`. @example const m: Manifest = decodeCheckpoint(file, text) */
export type Manifest = t.TypeOf<typeof Manifest>
/** Where a tensor lies in `weights.bin`. @example const b: BlobRecord = { shape: [2], dtype: 'float32', byteOffset: 0, byteLength: 8 } */
export type BlobRecord = t.TypeOf<typeof Blob>
type EntryRecord = Manifest['entries'][number]
/** A saved param. @example const p: ParamRecord = { kind: 'param', name: 'loc', constraint: 'real', ...blob } */
export type ParamRecord = t.TypeOf<typeof ParamRecord>
/** Saved optimizer state. @example const o: OptimizerRecord | undefined = manifest.optimizer */
export type OptimizerRecord = NonNullable<Manifest['optimizer']>

const show = (u: unknown): string => {
  if (u === undefined) return 'nothing (missing)'
  const s = JSON.stringify(u) ?? String(u)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/**
 * `entries[2].shape` from an io-ts context (union/intersection member indices are
 * skipped, array indices bracketed), and the type at the end of that path: for a
 * union of literals that is the union, not the member that was tried last.
 */
const pathOf = (context: t.Context): { readonly path: string; readonly expected: string } => {
  let path = '', at = 0
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1]!.type as t.Mixed & { _tag?: string }
    const key = context[i]!.key
    if (parent._tag === 'UnionType' || parent._tag === 'IntersectionType') continue
    path += parent._tag === 'ArrayType' ? `[${key}]` : path === '' ? key : `.${key}`
    at = i
  }
  return { path: path === '' ? '(root)' : path, expected: context[at]?.type.name ?? 'a value' }
}

/** One line per failing field: `manifest.json: entries[2].shape: expected number[], got "abc"`. */
const describeErrors = (file: string, errors: t.Errors): string => {
  const lines = [...new Set(errors.map((e) => { const { path, expected } = pathOf(e.context); return `${file}: ${path}: expected ${expected}, got ${show(e.value)}` }))]
  return lines.slice(0, 3).join('; ') + (lines.length > 3 ? ` (and ${lines.length - 3} more)` : '')
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

/** Every blob of a manifest with its field path (for layout checks). */
const blobsOf = (m: Manifest): Array<[string, BlobRecord]> => [
  ...m.entries.flatMap((e, i): Array<[string, BlobRecord]> => e.kind === 'param' ? [[`entries[${i}]`, e]] : e.variables.map((v, j): [string, BlobRecord] => [`entries[${i}].variables[${j}]`, v])),
  ...(m.optimizer?.weights ?? []).map((w, i): [string, BlobRecord] => [`optimizer.weights[${i}]`, w]),
  ...(m.optimizer?.internals ?? []).map((w, i): [string, BlobRecord] => [`optimizer.internals[${i}]`, w]),
]

/** Checks each blob is 4 bytes per element of its shape and lies inside `weightsBytes`. */
const checkLayout = (file: string, m: Manifest): void => {
  for (const [path, b] of blobsOf(m)) {
    const want = 4 * sizeOf(b.shape)
    if (b.byteLength !== want) throw new CheckpointError(`${file}: ${path}.byteLength: expected ${want} (4 bytes × ${sizeOf(b.shape)} elements of shape ${showShape(b.shape)}), got ${b.byteLength}`, file)
    if (b.byteOffset + b.byteLength > m.weightsBytes) throw new CheckpointError(`${file}: ${path}: bytes ${b.byteOffset}..${b.byteOffset + b.byteLength} lie outside weightsBytes (${m.weightsBytes})`, file)
  }
}

/** Data of one tensor to be written. */
interface Chunk {
  readonly data: Float32Array | Int32Array
  readonly shape: readonly number[]
}

/**
 * Parses and decodes the text of `manifest.json` and checks its layout, or
 * throws a {@link CheckpointError} naming the file, the field path and what was expected.
 *
 * @example decodeCheckpoint('ckpt/manifest.json', '{"format": 1}')   // throws: ckpt/manifest.json: format: expected "tfppl-checkpoint", got 1; …
 */
export const decodeCheckpoint = (file: string, text: string): Manifest => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new CheckpointError(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, file)
  }
  const r = Manifest.decode(json)
  if (isLeft(r)) throw new CheckpointError(describeErrors(file, r.left), file)
  checkLayout(file, r.right)
  return r.right
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

/** The hex SHA-256 of `weights.bin`, recorded in the manifest. @example sha256(await fs.readFile('ckpt/weights.bin')) === manifest.weightsSha256 */
export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** Reads one blob out of `weights.bin` (little-endian). @example tf.tensor(unpack(bytes, rec), rec.shape, rec.dtype) */
export const unpack = (bytes: Uint8Array, b: BlobRecord): Float32Array | Int32Array => {
  const view = new DataView(bytes.buffer, bytes.byteOffset + b.byteOffset, b.byteLength)
  const n = b.byteLength / 4
  if (b.dtype === 'int32') return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true))
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true))
}

/** What `saveCheckpoint` writes. @example const c: Checkpoint = { store: s.params, optimizer: s.optimizer, state: s.state, extra: { epoch } } */
export interface Checkpoint {
  readonly store: ParamStore
  /** Its weights (`getWeights`) and internal counters are saved, mapped to variables by position. */
  readonly optimizer?: tf.Optimizer
  readonly state?: Readonly<SviState>
  /** Any JSON-serialisable data (epoch number, config…). */
  readonly extra?: Record<string, unknown>
}

/** The param constraints a checkpoint can hold (those with an unconstrained form), by tag. @example CONSTRAINTS.positive === constraints.positive */
export const CONSTRAINTS: Readonly<Record<ParamRecord['constraint'], Constraint>> = {
  real: constraints.real, positive: constraints.positive, unitInterval: constraints.unitInterval, simplex: constraints.simplex,
}

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

const encodeOptimizer = async (opt: tf.Optimizer, store: ParamStore, p: Packer): Promise<OptimizerRecord> => {
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

const encodeEntries = async (store: ParamStore, p: Packer): Promise<EntryRecord[]> => {
  const out: EntryRecord[] = []
  for (const e of store.entries()) {
    if (e.kind === 'param') {
      const tag = e.constraint._tag
      if (!isConstraintTag(tag)) throw new CheckpointError(`saveCheckpoint: param '${e.name}' has the constraint '${tag}', which has no unconstrained form`)
      out.push({ kind: 'param', name: e.name, constraint: tag, ...p.add(await chunkOf(`param '${e.name}'`, e.variable)) })
    } else {
      const variables: BlobRecord[] = []
      for (const [i, v] of e.network.variables.entries()) variables.push(p.add(await chunkOf(`module '${e.name}' variable ${i}`, v)))
      out.push({ kind: 'module', name: e.name, variables })
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

/** Reads every tensor of a checkpoint into a manifest and one buffer (nothing touches the disk). @example const { manifest, bytes } = await encodeCheckpoint({ store }) */
export const encodeCheckpoint = async (c: Checkpoint): Promise<{ manifest: Manifest; bytes: Uint8Array }> => {
  const p = packer()
  const entries = await encodeEntries(c.store, p)
  const optimizer = c.optimizer === undefined ? undefined : await encodeOptimizer(c.optimizer, c.store, p)
  const bytes = p.bytes()
  if (c.state !== undefined && !(Number.isSafeInteger(c.state.step) && c.state.step >= 0 && Number.isFinite(c.state.baseline))) {
    throw new CheckpointError(`saveCheckpoint: state must have a non-negative integer step and a finite baseline; got ${JSON.stringify(c.state)}`)
  }
  const manifest: Manifest = {
    format: 'tfppl-checkpoint', version: FORMAT_VERSION, weightsBytes: p.size(), weightsSha256: sha256(bytes), entries,
    ...(optimizer && { optimizer }),
    ...(c.state && { state: { step: c.state.step, baseline: c.state.baseline } }),
    ...(c.extra && { extra: jsonCopy('extra', c.extra) }),
  }
  return { manifest, bytes }
}
