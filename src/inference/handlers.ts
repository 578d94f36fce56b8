/**
 * Effect handlers: plain functions over messages, composed as an array (index 0
 * sees each message first). None holds global state.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, showShape } from '../errors.js'
import type { Message } from '../dsl/messages.js'
import type { Handler } from './interpreter.js'
import { SiteError } from './site-error.js'
import type { Trace } from './trace.js'

/**
 * Replays latent sample sites from `trace`, and deterministic sites given as a thunk
 * (`deterministic(name, () => …)`): the program gets the traced values (a deterministic site only
 * from a deterministic site of its name). A deterministic site given a value keeps it, as in Pyro,
 * where a deterministic site is observed and replay passes it by.
 *
 * @example traceProgram(model(x), [replay(guideTrace)])
 */
export const replay = (trace: Trace): Handler => (msg, next) => {
  const replayable = msg._tag === 'Deterministic' ? msg.compute !== undefined : msg._tag === 'Sample' && msg.obs === undefined
  if (!replayable || (msg._tag !== 'Sample' && msg._tag !== 'Deterministic')) return next(msg)
  const site = trace.byName.get(msg.name)
  return site !== undefined && site._tag === (msg._tag === 'Sample' ? 'Sample' : 'Deterministic') ? next({ ...msg, value: site.value }) : next(msg)
}

/** A handler that gives values to sites by name (`condition`, `substitute`): the names it was given, to check against a run's sites. */
export interface NamingHandler extends Handler {
  readonly givesNames: { readonly by: 'condition' | 'substitute'; readonly names: readonly string[] }
}

const givingNames = (by: 'condition' | 'substitute', values: Readonly<Record<string, tf.Tensor>>, h: Handler): NamingHandler =>
  Object.assign(h, { givesNames: { by, names: Object.keys(values) } })

/**
 * Conditions sample sites on values: each named latent becomes an observation.
 *
 * @example traceProgram(model(), [condition({ z: tf.scalar(0.3) })])
 */
export const condition = (values: Readonly<Record<string, tf.Tensor>>): Handler => givingNames('condition', values, (msg, next) => {
  if (msg._tag !== 'Sample') return next(msg)
  const v = values[msg.name]
  return v === undefined ? next(msg) : next({ ...msg, kind: 'observed', obs: v, value: v })
})

/**
 * Substitutes values for params and latent samples (they stay latent).
 *
 * @example run(model(), interpreter([substitute({ loc: tf.scalar(1) })]))
 */
export const substitute = (values: Readonly<Record<string, tf.Tensor>>): Handler => givingNames('substitute', values, (msg, next) => {
  if (msg._tag !== 'Param' && msg._tag !== 'Sample') return next(msg)
  const v = values[msg.name]
  return v === undefined ? next(msg) : next({ ...msg, value: v } as Message)
})

/** Which sites `block` hides: the named ones, or all but the named ones. */
export type BlockSpec = { readonly hide: readonly string[] } | { readonly expose: readonly string[] }

/**
 * Hides sites from the handlers after it (they go straight to the default
 * interpreter): hidden sites are not traced, replayed or conditioned.
 *
 * @example traceProgram(model(), [block({ hide: ['noise'] })])
 */
export const block = (spec: BlockSpec): Handler => (msg, next, base) => {
  if (!('name' in msg)) return next(msg)
  const hidden = 'hide' in spec ? spec.hide.includes(msg.name) : !spec.expose.includes(msg.name)
  return hidden ? base(msg) : next(msg)
}

/** Whether shapes `a` and `b` broadcast together (NumPy rules). */
const broadcastTogether = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const [x, y] = [a[a.length - i]!, b[b.length - i]!]
    if (x !== y && x !== 1 && y !== 1) return false
  }
  return true
}

/**
 * Masks the log-probability of sample and factor sites: where `mask` is false
 * a site contributes nothing. `m` must be a bool tensor (an {@link InvalidArgumentError} here
 * otherwise) that broadcasts to each site's batch shape (a `SiteError` naming the site, from
 * the runner once the site is broadcast to its plates); a second mask on a site is combined
 * with the first by logical and, so their shapes must broadcast together.
 *
 * @example traceProgram(model(x), [mask(tf.greater(lengths, t))])
 */
export const mask = (m: tf.Tensor): Handler => {
  if (m.dtype !== 'bool') {
    throw new InvalidArgumentError(`mask: the mask must be a bool tensor; got dtype ${m.dtype}, shape ${showShape(m.shape)}. Make one with a comparison, e.g. tf.greater(lengths, t), or tf.cast(m, 'bool')`)
  }
  return (msg, next) => {
    if (msg._tag !== 'Sample' && msg._tag !== 'Factor') return next(msg)
    if (msg.mask === undefined) return next({ ...msg, mask: m })
    if (!broadcastTogether(msg.mask.shape, m.shape)) {
      throw new SiteError(`site '${msg.name}': the mask of shape ${showShape(m.shape)} cannot be combined with the site's earlier mask of shape ${showShape(msg.mask.shape)} (the shapes do not broadcast together); every mask of a site must broadcast to its batch shape`)
    }
    return next({ ...msg, mask: tf.logicalAnd(msg.mask, m) })
  }
}

/** FNV-1a hash of a site name, for order-free per-site seeds. */
const hashName = (name: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0
  return h
}

/**
 * Seeds every draw: a site's seed depends on `seed` and its name only, so runs
 * are repeatable whatever the order of sites.
 *
 * @example run(guide(x), interpreter([seed(42)]))
 */
export const seed = (s: number): Handler => (msg, next) =>
  msg._tag === 'Sample' || msg._tag === 'PlateEnter'
    ? next({ ...msg, seed: (Math.imul(s | 0, 0x9e3779b1) ^ hashName(msg._tag === 'Sample' ? msg.name : msg.frame.name)) >>> 0 })
    : next(msg)
