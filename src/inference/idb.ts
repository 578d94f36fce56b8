/**
 * A small IndexedDB wrapper for the browser's checkpoints: open a database (creating its object
 * stores), and read, write, delete or list one key across several stores in ONE transaction, so
 * that a write lands whole or not at all. Callback-style inside each transaction (a transaction
 * commits as soon as no request is pending, so nothing in it may wait on a promise); one promise
 * per transaction outside. The types are the structural part of the DOM's that is used here.
 */
import { CheckpointError } from './checkpoint-manifest.js'

// ---------------------------------------------------------------------------
// model
// ---------------------------------------------------------------------------

/** The part of a DOMException read here. */
interface IdbError { readonly name: string; readonly message: string }

/** An event handler slot: `never` for the event, so the DOM's handler types (which take one) fit. */
type Handler = ((event: never) => unknown) | null

/** An IndexedDB request (`IDBRequest`). */
interface IdbRequest<T> {
  readonly result: T
  readonly error: IdbError | null
  onsuccess: Handler
  onerror: Handler
}

/** The request of `indexedDB.open`. */
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: Handler
  onblocked: Handler
}

/** An object store (`IDBObjectStore`), with out-of-line string keys. */
interface IdbObjectStore {
  readonly put: (value: unknown, key: string) => IdbRequest<unknown>
  readonly get: (key: string) => IdbRequest<unknown>
  readonly delete: (key: string) => IdbRequest<undefined>
  readonly getAllKeys: () => IdbRequest<unknown[]>
}

/** A transaction (`IDBTransaction`). */
interface IdbTransaction {
  readonly error: IdbError | null
  readonly objectStore: (name: string) => IdbObjectStore
  readonly abort: () => void
  oncomplete: Handler
  onabort: Handler
}

/** An open database (`IDBDatabase`), as far as tfppl uses it. @example await withDatabase(who, undefined, name, stores, async (db: IdbDatabase) => keysOf(who, db, stores[0]!)) */
export interface IdbDatabase {
  readonly objectStoreNames: { readonly contains: (name: string) => boolean }
  readonly createObjectStore: (name: string) => unknown
  readonly transaction: (stores: string[], mode: 'readonly' | 'readwrite') => IdbTransaction
  readonly close: () => void
  onversionchange: Handler
}

/**
 * The IndexedDB factory (`window.indexedDB`, a worker's `self.indexedDB`, or a test's fake), as far as tfppl uses it.
 *
 * @example const factory: IdbFactory = globalThis.indexedDB
 */
export interface IdbFactory {
  readonly open: (name: string, version?: number) => IdbOpenRequest
}

/** Runs the requests of one transaction: `abort(reason)` aborts it, and the transaction's promise rejects with `reason`. */
type TransactionBody = (tx: IdbTransaction, abort: (reason: unknown) => void) => void

// ---------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------

const describe = (e: IdbError | null | undefined): string => e === null || e === undefined ? 'no reason given' : `${e.name}: ${e.message}`

/** The host's IndexedDB, or a CheckpointError from `who` saying there is none. */
const factoryOf = (who: string, given: IdbFactory | undefined): IdbFactory => {
  const f = given ?? (globalThis as { indexedDB?: IdbFactory }).indexedDB
  if (f === undefined) throw new CheckpointError(`${who}: there is no IndexedDB here (globalThis.indexedDB is undefined); in Node save checkpoints as files (saveCheckpoint) or as one file's bytes (encodeCheckpointFile)`)
  return f
}

/** Opens database `name` (version 1), creating `stores` when the database is new. */
const open = (who: string, factory: IdbFactory, name: string, stores: readonly string[]): Promise<IdbDatabase> => new Promise((resolve, reject) => {
  let failed = false
  const fail = (why: string): void => { failed = true; reject(new CheckpointError(`${who}: cannot open the IndexedDB database '${name}' (${why})`)) }
  let req: IdbOpenRequest
  try { req = factory.open(name, 1) } catch (e) { fail(e instanceof Error ? e.message : String(e)); return }
  req.onupgradeneeded = () => { for (const s of stores) if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s) }
  req.onblocked = () => { fail('blocked: another tab holds an older version of it open') }
  req.onerror = () => { fail(describe(req.error)) }
  req.onsuccess = () => {
    const db = req.result
    db.onversionchange = () => { db.close() }   // never block another page's upgrade
    if (failed) { db.close(); return }   // opened after it was reported blocked: nobody waits for it
    const missing = stores.filter((s) => !db.objectStoreNames.contains(s))
    if (missing.length === 0) { resolve(db); return }
    db.close()
    fail(`it exists but is not a tfppl checkpoint database: it has no object store ${missing.map((s) => `'${s}'`).join(', ')}`)
  }
})

// ---------------------------------------------------------------------------
// utils
// ---------------------------------------------------------------------------

/**
 * Opens database `name` (from `factory`, else `globalThis.indexedDB`), runs `f` on it and closes it;
 * `who` begins every error message.
 *
 * @example const keys = await withDatabase('listCheckpointsIdb', undefined, 'tfppl', ['manifests'], (db) => keysOf('listCheckpointsIdb', db, 'manifests'))
 */
export const withDatabase = async <A>(who: string, factory: IdbFactory | undefined, name: string, stores: readonly string[], f: (db: IdbDatabase) => Promise<A>): Promise<A> => {
  const db = await open(who, factoryOf(who, factory), name, stores)
  try { return await f(db) } finally { db.close() }
}

/**
 * One transaction over `stores`: resolves when it has committed, rejects when it aborts (with the
 * reason given to `abort`, else a CheckpointError from `who` with the transaction's error).
 *
 * @example await transaction(who, db, ['weights'], 'readwrite', (tx) => { tx.objectStore('weights').put(bytes, 'run') })
 */
export const transaction = (who: string, db: IdbDatabase, stores: string[], mode: 'readonly' | 'readwrite', body: TransactionBody): Promise<void> => new Promise((resolve, reject) => {
  let reason: { readonly value: unknown } | undefined
  let tx: IdbTransaction
  try { tx = db.transaction(stores, mode) } catch (e) { reject(new CheckpointError(`${who}: cannot start an IndexedDB transaction (${e instanceof Error ? e.message : String(e)})`)); return }
  const abort = (value: unknown): void => {
    reason ??= { value }
    try { tx.abort() } catch { /* already finished or aborting */ }
  }
  tx.oncomplete = () => { resolve() }
  tx.onabort = () => { reject(reason !== undefined ? reason.value : new CheckpointError(`${who}: the IndexedDB transaction was aborted (${describe(tx.error)})${mode === 'readwrite' ? '; nothing was written: the previous checkpoint, if any, is unchanged' : ''}`)) }
  try { body(tx, abort) } catch (e) { abort(e instanceof CheckpointError ? e : new CheckpointError(`${who}: IndexedDB refused a request (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)})${mode === 'readwrite' ? '; nothing was written: the previous checkpoint, if any, is unchanged' : ''}`)) }
})

/**
 * The value under `key` in each of `stores` (undefined where there is none), read in one transaction.
 *
 * @example const [manifest, weights] = await readKey(who, db, ['manifests', 'weights'], 'run')
 */
export const readKey = async (who: string, db: IdbDatabase, stores: string[], key: string): Promise<unknown[]> => {
  const values: unknown[] = stores.map(() => undefined)
  await transaction(who, db, stores, 'readonly', (tx) => {
    stores.forEach((s, i) => { const r = tx.objectStore(s).get(key); r.onsuccess = () => { values[i] = r.result } })
  })
  return values
}

/**
 * Writes `values[i]` under `key` in `stores[i]`, all in one transaction: all land or none does.
 * `onWritten(store)` runs after each put succeeds, inside the transaction (it must not wait; if it
 * throws, the transaction aborts and the save rejects with what it threw).
 *
 * @example await writeKey(who, db, ['weights', 'manifests'], [bytes, text], 'run')
 */
export const writeKey = (who: string, db: IdbDatabase, stores: string[], values: readonly unknown[], key: string, onWritten?: (store: string) => void): Promise<void> =>
  transaction(who, db, stores, 'readwrite', (tx, abort) => {
    stores.forEach((s, i) => {
      const r = tx.objectStore(s).put(values[i], key)
      r.onsuccess = () => { try { onWritten?.(s) } catch (e) { abort(e) } }
    })
  })

/**
 * Deletes `key` from every one of `stores` in one transaction.
 *
 * @example await deleteKey(who, db, ['manifests', 'weights'], 'run')
 */
export const deleteKey = (who: string, db: IdbDatabase, stores: string[], key: string): Promise<void> =>
  transaction(who, db, stores, 'readwrite', (tx) => { for (const s of stores) tx.objectStore(s).delete(key) })

/**
 * The keys of `store` (strings only), in IndexedDB's order.
 *
 * @example await keysOf(who, db, 'manifests')   // ['run-a', 'run-b']
 */
export const keysOf = async (who: string, db: IdbDatabase, store: string): Promise<string[]> => {
  let keys: unknown[] = []
  await transaction(who, db, [store], 'readonly', (tx) => { const r = tx.objectStore(store).getAllKeys(); r.onsuccess = () => { keys = r.result } })
  return keys.filter((k): k is string => typeof k === 'string')
}
