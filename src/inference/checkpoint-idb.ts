/**
 * Checkpoints in a browser's IndexedDB: the same manifest and weights as `manifest.json` +
 * `weights.bin` on disk (`checkpoint-codec.ts`), under one key in two object stores (`manifests`:
 * the manifest's JSON text; `weights`: an ArrayBuffer), written in ONE transaction so a failed or
 * aborted save leaves the previous checkpoint whole. Loading reads both in one transaction, checks
 * the manifest (`checkpoint-manifest.ts`), the size and SHA-256 of the weights (`crypto.subtle`)
 * and the store (`checkpoint-restore.ts`) before anything changes.
 */
import { encodeCheckpoint } from './checkpoint-codec.js'
import type { Checkpoint, CheckpointStore } from './checkpoint-codec.js'
import { sha256Web, weightsProblem } from './checkpoint-digest.js'
import { CheckpointError, decodeCheckpoint } from './checkpoint-manifest.js'
import type { Manifest } from './checkpoint-manifest.js'
import { restoreCheckpoint } from './checkpoint-restore.js'
import type { Restored, RestoreTarget } from './checkpoint-restore.js'
import { deleteKey, keysOf, readKey, withDatabase, writeKey } from './idb.js'
import type { IdbDatabase, IdbFactory } from './idb.js'

export type { IdbFactory } from './idb.js'

// ---------------------------------------------------------------------------
// model
// ---------------------------------------------------------------------------

/** The database checkpoints go to unless `database` names another. @example await listCheckpointsIdb({ database: DEFAULT_DATABASE }) */
export const DEFAULT_DATABASE = 'tfppl-checkpoints'
const MANIFESTS = 'manifests'
const WEIGHTS = 'weights'
const STORES = [MANIFESTS, WEIGHTS] as const

/**
 * Where browser checkpoints live.
 *
 * @example const where: IdbOptions = { database: 'my-app' }
 */
export interface IdbOptions {
  /** The IndexedDB database (default `'tfppl-checkpoints'`; created on first use). */
  readonly database?: string
  /** The IndexedDB factory (default `globalThis.indexedDB`: a page's or a worker's). */
  readonly indexedDB?: IdbFactory
}

/** The stages of an IndexedDB save, inside its transaction (for {@link IdbSaveOptions.onStage}). @example const s: IdbSaveStage = 'weights-written' */
export type IdbSaveStage = 'weights-written' | 'manifest-written'

/**
 * Options of {@link saveCheckpointIdb}: where, and a test hook.
 *
 * @example await saveCheckpointIdb('run', { store }, { onStage: (s) => { if (s === 'weights-written') throw new Error('crash') } })
 */
export interface IdbSaveOptions extends IdbOptions {
  /** Called inside the transaction after each record is written (synchronously); throwing aborts the save, which then rejects with what was thrown. */
  readonly onStage?: (stage: IdbSaveStage) => void
}

// ---------------------------------------------------------------------------
// utils
// ---------------------------------------------------------------------------

const databaseOf = (options: IdbOptions): string => options.database ?? DEFAULT_DATABASE

const checkKey = (who: string, key: unknown): void => {
  if (typeof key !== 'string' || key === '') throw new CheckpointError(`${who}: the key must be a non-empty string; got ${JSON.stringify(key) ?? String(key)}`)
}

/** The weights record as bytes, or undefined when it is not an ArrayBuffer or a view of one. */
const bytesOf = (x: unknown): Uint8Array | undefined => {
  if (Object.prototype.toString.call(x) === '[object ArrayBuffer]') return new Uint8Array(x as ArrayBuffer)
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength)
  return undefined
}

const kindOf = (x: unknown): string => x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x

/** Reads and checks the two records of `key` (one transaction: they are always from the same save). */
const readRecords = async (who: string, db: IdbDatabase, database: string, key: string): Promise<{ manifest: Manifest; bytes: Uint8Array }> => {
  const [text, weights] = await readKey(who, db, [...STORES], key)
  if (text === undefined && weights === undefined) throw new CheckpointError(`${who}: no checkpoint '${key}' in the IndexedDB database '${database}' (ENOENT)`, key, 'ENOENT')
  const corrupt = (what: string): CheckpointError => new CheckpointError(`${who}: the checkpoint '${key}' in the IndexedDB database '${database}' is corrupt: ${what}`, key)
  if (typeof text !== 'string') throw corrupt(text === undefined ? 'its manifest record is missing' : `its manifest record is ${kindOf(text)}, not JSON text`)
  const manifest = decodeCheckpoint(`IndexedDB '${database}', checkpoint '${key}', manifest record`, text)
  const bytes = bytesOf(weights) ?? (() => { throw corrupt(weights === undefined ? 'its weights record is missing' : `its weights record is ${kindOf(weights)}, not bytes (an ArrayBuffer)`) })()
  const problem = await weightsProblem(manifest, bytes, sha256Web, { weights: 'the weights record', manifest: 'the manifest record', kind: 'record' })
  if (problem !== undefined) throw corrupt(problem)
  return { manifest, bytes }
}

// ---------------------------------------------------------------------------
// functions
// ---------------------------------------------------------------------------

/**
 * Saves params, module weights and buffers and (optionally) the optimizer, the SVI state and extra
 * JSON under `key` in IndexedDB, in one transaction: a failed or aborted save (quota exceeded, tab
 * closed) leaves the previous checkpoint under `key` as it was.
 *
 * @example
 * await saveCheckpointIdb('vae', { store: s.params, optimizer: s.optimizer, state: s.state, extra: { epoch: 10 } })
 */
export const saveCheckpointIdb = async (key: string, c: Checkpoint, options: IdbSaveOptions = {}): Promise<void> => {
  const who = `saveCheckpointIdb '${key}'`
  checkKey(who, key)
  const { manifest, bytes } = await encodeCheckpoint(c, sha256Web)   // everything is read and hashed before the database is touched
  const weights = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  const stageOf = (store: string): IdbSaveStage => store === WEIGHTS ? 'weights-written' : 'manifest-written'
  await withDatabase(who, options.indexedDB, databaseOf(options), STORES, (db) =>
    writeKey(who, db, [WEIGHTS, MANIFESTS], [weights, JSON.stringify(manifest)], key, (store) => options.onStage?.(stageOf(store))))
}

/**
 * Restores the checkpoint saved under `key` into `c.store` (and `c.optimizer`), as
 * `loadCheckpoint` does from files: everything is checked before anything changes; a missing key
 * is a {@link CheckpointError} with code `'ENOENT'`, a corrupt record one naming the key and what
 * is wrong. Returns the saved SVI state and extra JSON.
 *
 * @example
 * const { state, extra } = await loadCheckpointIdb('vae', { store: s.params, optimizer: s.optimizer })
 */
export const loadCheckpointIdb = async (key: string, c: RestoreTarget, options: IdbOptions = {}): Promise<Restored> => {
  const who = `loadCheckpointIdb '${key}'`
  checkKey(who, key)
  const database = databaseOf(options)
  const { manifest, bytes } = await withDatabase(who, options.indexedDB, database, STORES, (db) => readRecords(who, db, database, key))
  return restoreCheckpoint(who, manifest, bytes, c)
}

/**
 * Saves only the params and module weights (and buffers) of a store under `key` (see {@link saveCheckpointIdb}).
 *
 * @example await saveParamsIdb('guide', s.params)
 */
export const saveParamsIdb = (key: string, store: CheckpointStore, options: IdbSaveOptions = {}): Promise<void> => saveCheckpointIdb(key, { store }, options)

/**
 * Loads params and module weights (and buffers) saved under `key` into a store; optimizer data, if any, is ignored.
 *
 * @example await loadParamsIdb('guide', paramStore())
 */
export const loadParamsIdb = async (key: string, store: CheckpointStore, options: IdbOptions = {}): Promise<void> => { await loadCheckpointIdb(key, { store }, options) }

/**
 * The keys of the checkpoints in the database, in IndexedDB's (sorted) order.
 *
 * @example await listCheckpointsIdb()   // ['guide', 'vae']
 */
export const listCheckpointsIdb = (options: IdbOptions = {}): Promise<string[]> =>
  withDatabase('listCheckpointsIdb', options.indexedDB, databaseOf(options), STORES, (db) => keysOf('listCheckpointsIdb', db, MANIFESTS))

/**
 * Deletes the checkpoint under `key` (both records, in one transaction); nothing happens when there is none.
 *
 * @example await deleteCheckpointIdb('vae')
 */
export const deleteCheckpointIdb = async (key: string, options: IdbOptions = {}): Promise<void> => {
  const who = `deleteCheckpointIdb '${key}'`
  checkKey(who, key)
  await withDatabase(who, options.indexedDB, databaseOf(options), STORES, (db) => deleteKey(who, db, [...STORES], key))
}
