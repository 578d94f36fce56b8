/**
 * The param store: named tf.Variables created on first use, stored
 * unconstrained, handed to programs constrained; and the networks registered
 * with `module`. It is one of the three owners of tfjs memory (with svi and
 * predictive): `dispose()` frees every variable it created. Saving and loading
 * a store is `saveParams(dir, store)` / `loadParams(dir, store)` (`checkpoint.ts`):
 * the store itself knows nothing of files. A module's network may also carry
 * *buffers* ({@link NetworkWithBuffers}): state it updates itself between steps
 * (an EMA codebook, running statistics), saved and restored with its weights
 * but never handed to an optimizer.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { NoTransformError, transformNames, transformTo } from '../distributions/biject.js'
import type { TransformName } from '../distributions/biject.js'
import type { Transform } from '../distributions/bijector-core.js'
import type { Constraint } from '../distributions/constraints.js'
import { checkParam } from '../distributions/validation.js'
import type { Network, ParamMsg, SampleMsg } from '../dsl/messages.js'
import type { Handler } from './interpreter.js'

/** A learnable param: its unconstrained variable, its constraint, and the transform between them. */
export interface ParamEntry {
  readonly kind: 'param'
  readonly name: string
  readonly variable: tf.Variable
  readonly constraint: Constraint
  /** The map from the variable onto the constraint (`transformTo(constraint, transform)`); absent: the constraint's default. */
  readonly transform?: TransformName
}

/**
 * The transform a param's variable is read through: its own, or its constraint's default
 * (`transformTo`'s: exp for positive, softmax for simplex).
 *
 * @example paramTransform(store.entries()[0] as ParamEntry)   // 'exp'
 */
export const paramTransform = (e: Pick<ParamEntry, 'constraint' | 'transform'>): TransformName =>
  e.transform ?? transformNames(e.constraint)[0] ?? 'identity'

/** The map of a param entry (a named error for a constraint with none). */
const mapOf = (e: Pick<ParamEntry, 'name' | 'constraint' | 'transform'>): Transform => {
  try {
    return transformTo(e.constraint, e.transform)
  } catch (err) {
    if (err instanceof NoTransformError) throw new NoTransformError(`param '${e.name}': ${err.message}`)
    throw err
  }
}

/**
 * A network with buffers: non-trainable variables that it (or its model's hooks) updates between steps,
 * such as an EMA codebook or running statistics. A module's buffers are saved and restored with its
 * weights by checkpoints (matched by name) but are not among {@link ParamStore.variables}, so no
 * optimizer sees them. Their names must be stable across runs; their variables are owned by the network.
 *
 * @example
 * const counts = tf.variable(tf.zeros([k]), false)
 * const book: NetworkWithBuffers<undefined, tf.Tensor> = { apply: () => codebook, variables: [], buffers: { codebook, counts } }
 * yield* module('codebook', book)
 */
export interface NetworkWithBuffers<I = tf.Tensor, O = tf.Tensor> extends Network<I, O> {
  /** Non-trainable state by name, saved with checkpoints. */
  readonly buffers: Readonly<Record<string, tf.Variable>>
}

const NO_BUFFERS: Readonly<Record<string, tf.Variable>> = Object.freeze({})

/**
 * The buffers of a registered network (see {@link NetworkWithBuffers}), or none. A `buffers` field
 * that is not a record of tf.Variables is an InvalidArgumentError naming the offending entry.
 *
 * @example Object.keys(moduleBuffers(entry.network))   // ['codebook', 'emaCounts', …]
 */
export const moduleBuffers = (network: Network<never, unknown>): Readonly<Record<string, tf.Variable>> => {
  const buffers = (network as Partial<NetworkWithBuffers<never, unknown>>).buffers
  if (buffers === undefined) return NO_BUFFERS
  if (buffers === null || typeof buffers !== 'object') throw new InvalidArgumentError(`module buffers must be a record of tf.Variables by name; got ${buffers === null ? 'null' : typeof buffers}`)
  for (const [name, v] of Object.entries(buffers as Record<string, unknown>)) {
    if (!(v instanceof tf.Variable)) throw new InvalidArgumentError(`module buffer '${name}' must be a tf.Variable; got ${v instanceof tf.Tensor ? 'a tensor that is not a variable' : typeof v}`)
  }
  return buffers
}

/** A registered network (its buffers, if any: {@link moduleBuffers}). */
export interface ModuleEntry {
  readonly kind: 'module'
  readonly name: string
  readonly network: Network<never, unknown>
}

/** Everything a store holds. */
export type StoreEntry = ParamEntry | ModuleEntry

/**
 * Named params and modules; see {@link paramStore}. Files are not its business: save and load one
 * with `saveParams(dir, store)` / `loadParams(dir, store)`.
 *
 * @example const store: ParamStore = svi({ optimizer: tf.train.adam(1e-3), loss: elbo() }).params
 */
export interface ParamStore {
  /** Answers `param` and `module` effects: creates on first use, then reuses. */
  readonly handler: Handler
  /** Entries in creation order. */
  readonly entries: () => readonly StoreEntry[]
  /** Every trainable variable (param variables, then each module's); module buffers are not among them. */
  readonly variables: () => tf.Variable[]
  /** The constrained value of a param, as a new tensor the caller owns (disposing it leaves the param intact), or undefined. */
  readonly value: (name: string) => tf.Tensor | undefined
  /** Adds a param from its unconstrained value (a copy), e.g. when loading a checkpoint; `transform` defaults to the constraint's. */
  readonly insert: (name: string, unconstrained: tf.Tensor, constraint: Constraint, transform?: TransformName) => ParamEntry
  /** Reads an existing param's variable through another transform from now on (a checkpoint saved with it is being loaded); the variable is kept. */
  readonly setTransform: (name: string, transform: TransformName) => ParamEntry
  /** Frees the variables of every param (module weights belong to their networks). */
  readonly dispose: () => void
  /** Runs `f`; if it throws, the entries created meanwhile are removed (their variables freed), so the store is as it was. */
  readonly transaction: <A>(f: () => A) => A
  /** {@link ParamStore.transaction} for an asynchronous `f`: a rejection removes the entries it created. */
  readonly transactionAsync: <A>(f: () => Promise<A>) => Promise<A>
}

/** Creates the variable of a param on first use (outside any tidy's reach: variables survive tidy). */
const createParam = (msg: ParamMsg): ParamEntry => {
  const init = typeof msg.init === 'function' ? msg.init() : msg.init
  if (!(init instanceof tf.Tensor)) {
    throw new InvalidArgumentError(`param '${msg.name}': init must be a tensor or a function returning one; got ${typeof init}`)
  }
  checkParam(`param '${msg.name}'`, 'init', init, msg.constraint)
  const spec = { name: msg.name, constraint: msg.constraint, transform: paramTransform(msg) }
  const u = tf.tidy(() => mapOf(spec).inverse(tf.cast(init, 'float32')))
  return { kind: 'param', ...spec, variable: tf.variable(u, true) }
}

/** Removes the entries whose names are not in `keep`, freeing their param variables. */
const removeAllBut = (byName: Map<string, StoreEntry>, keep: ReadonlySet<string>): void => {
  for (const [name, e] of [...byName]) {
    if (keep.has(name)) continue
    if (e.kind === 'param') e.variable.dispose()
    byName.delete(name)
  }
}

/**
 * A new, empty param store.
 *
 * @example
 * const store = paramStore()
 * traceProgram(guide(x), [store.handler])   // creates the guide's params
 * store.value('loc')?.print()
 * await saveParams('runs/guide', store)      // later: await loadParams('runs/guide', paramStore())
 */
export const paramStore = (): ParamStore => {
  const byName = new Map<string, StoreEntry>()
  const handler: Handler = (msg, next) => {
    if (msg._tag === 'Param') {
      if (msg.value !== undefined) return next(msg)
      let entry = byName.get(msg.name)
      if (entry === undefined) byName.set(msg.name, entry = createParam(msg))
      if (entry.kind !== 'param') throw new InvalidArgumentError(`param '${msg.name}': the name is already used by a module`)
      return next({ ...msg, value: mapOf(entry).forward(entry.variable) })
    }
    if (msg._tag === 'Module') {
      const entry = byName.get(msg.name)
      if (entry === undefined) byName.set(msg.name, { kind: 'module', name: msg.name, network: msg.network })
      else if (entry.kind !== 'module') throw new InvalidArgumentError(`module '${msg.name}': the name is already used by a param`)
      return next(msg)
    }
    if (msg._tag === 'Sample') registerBaselineNet(msg)
    return next(msg)
  }
  /** A score-function site's baseline network is trained with the rest: registered as module '<site>.baseline' unless some module already holds it. */
  const registerBaselineNet = (msg: SampleMsg): void => {
    const b = msg.options.baseline
    if (b === undefined || !('net' in b)) return
    if ([...byName.values()].some((e) => e.kind === 'module' && e.network === b.net)) return
    const name = `${msg.name}.baseline`
    if (byName.has(name)) throw new InvalidArgumentError(`sample '${msg.name}': its baseline network would be registered as module '${name}', but the store holds another entry of that name; register the network yourself with module(name, net)`)
    byName.set(name, { kind: 'module', name, network: b.net })
  }
  const entries = () => [...byName.values()]
  const insert = (name: string, unconstrained: tf.Tensor, constraint: Constraint, transform?: TransformName): ParamEntry => {
    if (byName.has(name)) throw new InvalidArgumentError(`param '${name}': the store already holds an entry of that name`)
    const spec = { name, constraint, transform: paramTransform({ constraint, transform }) }
    mapOf(spec)   // a transform that does not map onto the constraint is an error before any variable exists
    const entry: ParamEntry = { kind: 'param', ...spec, variable: tf.variable(tf.cast(unconstrained, 'float32'), true) }
    byName.set(name, entry)
    return entry
  }
  const setTransform = (name: string, transform: TransformName): ParamEntry => {
    const e = byName.get(name)
    if (e?.kind !== 'param') throw new InvalidArgumentError(`param '${name}': the store holds no param of that name`)
    const entry: ParamEntry = { ...e, transform }
    mapOf(entry)
    byName.set(name, entry)   // same key: the creation order (and the optimizer's variable order) is kept
    return entry
  }
  return {
    handler,
    insert,
    setTransform,
    entries,
    variables: () => entries().flatMap((e) => e.kind === 'param' ? [e.variable] : [...e.network.variables]),
    value: (name) => {
      const e = byName.get(name)
      if (e?.kind !== 'param') return undefined
      // Always a new tensor (for a real param the constrained value is the variable itself): disposing it leaves the param intact.
      return tf.tidy(() => { const v = mapOf(e).forward(e.variable); return v === e.variable ? tf.clone(v) : v })
    },
    dispose: () => {
      for (const e of byName.values()) if (e.kind === 'param') e.variable.dispose()
      byName.clear()
    },
    transaction: (f) => {
      const before = new Set(byName.keys())
      try { return f() } catch (err) { removeAllBut(byName, before); throw err }
    },
    transactionAsync: async (f) => {
      const before = new Set(byName.keys())
      try { return await f() } catch (err) { removeAllBut(byName, before); throw err }
    },
  }
}
