/**
 * The manifest of a checkpoint: the io-ts codec of `manifest.json`, the error
 * messages built from io-ts's error context (file, field path, what was
 * expected), and the layout checks of `weights.bin` against it.
 */
import * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'
import { TfpplError, showShape } from '../errors.js'

/** The checkpoint format this module writes (and the only one it reads). */
export const FORMAT_VERSION = 1

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

/** The transform names a param record can hold (`TransformName` of `distributions/biject.ts`). */
const Transform = t.keyof({ identity: null, exp: null, softplus: null, sigmoid: null, softmax: null, stickBreaking: null, lowerCholesky: null, positiveDefinite: null },
  '"identity" | "exp" | "softplus" | "sigmoid" | "softmax" | "stickBreaking" | "lowerCholesky" | "positiveDefinite"')

/**
 * A param: its constraint and the transform its unconstrained value is read through. Checkpoints
 * written before params recorded a transform have none: they load with the default of that time
 * (softplus for positive params; `savedTransform` in checkpoint-codec.ts).
 */
const ParamRecord = t.intersection([t.type({
  kind: t.literal('param'),
  name: t.string,
  constraint: t.keyof({ real: null, positive: null, unitInterval: null, simplex: null, lowerCholesky: null, positiveDefinite: null },
    '"real" | "positive" | "unitInterval" | "simplex" | "lowerCholesky" | "positiveDefinite"'),
}), t.partial({ transform: Transform }), Blob], 'ParamRecord')

/** A module buffer (non-trainable state such as an EMA codebook), by name. */
const BufferRecord = t.intersection([t.type({ name: t.string }), Blob], 'BufferRecord')

/**
 * A module: its trainable variables by position and, when it has any, its buffers by name. Checkpoints
 * written before buffers existed have no `buffers`: loading one leaves the buffers as they are.
 */
const ModuleRecord = t.intersection([
  t.type({ kind: t.literal('module'), name: t.string, variables: t.array(Blob, 'Blob[]') }),
  t.partial({ buffers: t.array(BufferRecord, 'BufferRecord[]') }),
], 'ModuleRecord')

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
  // `baseline` (one number for the whole model) is what checkpoints before per-site baselines hold; it is read and ignored.
  state: t.intersection([t.type({ step: nonNegativeInt }), t.partial({ baselines: t.record(t.string, t.number), baseline: t.number })]),
  extra: t.UnknownRecord,
})], 'Manifest')

/** A decoded `manifest.json`. @example const m: Manifest = decodeCheckpoint(file, text) */
export type Manifest = t.TypeOf<typeof Manifest>
/** Where a tensor lies in `weights.bin`. @example const b: BlobRecord = { shape: [2], dtype: 'float32', byteOffset: 0, byteLength: 8 } */
export type BlobRecord = t.TypeOf<typeof Blob>
/** A saved param or module. @example const e: EntryRecord = manifest.entries[0]! */
export type EntryRecord = Manifest['entries'][number]
/** A saved module. @example const m: ModuleRecord = { kind: 'module', name: 'codebook', variables: [], buffers: [{ name: 'emaCounts', ...blob }] } */
export type ModuleRecord = t.TypeOf<typeof ModuleRecord>
/** A saved module buffer. @example const b: BufferRecord = { name: 'emaCounts', ...blob } */
export type BufferRecord = t.TypeOf<typeof BufferRecord>
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
  ...m.entries.flatMap((e, i): Array<[string, BlobRecord]> => e.kind === 'param' ? [[`entries[${i}]`, e]] : [
    ...e.variables.map((v, j): [string, BlobRecord] => [`entries[${i}].variables[${j}]`, v]),
    ...(e.buffers ?? []).map((b, j): [string, BlobRecord] => [`entries[${i}].buffers[${j}]`, b]),
  ]),
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
