/**
 * Parallel enumeration (Pyro's `poutine.enum`): a latent site marked
 * `{ enumerate: 'parallel' }` gets its whole finite support as its value, laid
 * along a fresh batch dim left of every plate (and particle) dim, so the program
 * broadcasts over all K values at once. One {@link EnumState} is shared by the
 * guide's run and the model's run of one estimate: the model's enumerated sites
 * take dims the guide's do not hold, and every site records which enumerated
 * variables it sees (by dim), which is what `enumElbo` contracts by.
 */
import * as tf from '@tensorflow/tfjs-core'
import { showShape } from '../errors.js'
import type { EnumContext, EnumVar, Message, SampleMsg } from '../dsl/messages.js'
import type { Handler } from './interpreter.js'
import { SiteError } from './site-error.js'

/** The enumeration dims of one estimate: which variable holds each dim, and which dims are free. */
export interface EnumState {
  /** The rightmost dim enumeration may take: −(plate depth + 1). */
  readonly first: number
  /** Every enumerated variable of the estimate, by site name. */
  readonly vars: Map<string, EnumVar>
  /** The variable each dim holds now. */
  readonly visible: Map<number, EnumVar>
}

/** A fresh state whose first enumeration dim is −(plateDepth + 1). @example enumState(2).first   // −3 */
export const enumState = (plateDepth: number): EnumState => ({ first: -(plateDepth + 1), vars: new Map(), visible: new Map() })

/** Ranks above this fail in tfjs's webgl and webgpu kernels. */
const GPU_MAX_RANK = 6

/** The rightmost dim left of the plates that no visible variable holds. */
const freeDim = (state: EnumState): number => {
  let dim = state.first
  while (state.visible.has(dim)) dim -= 1
  return dim
}

const snapshot = (state: EnumState, own?: EnumVar): EnumContext => ({ visible: new Map(state.visible), ...(own !== undefined && { own }) })

/** The site's support values laid along `dim`: shape [K, 1, …, 1 (−dim − 1 of them), ...event]. */
const supportAlong = (msg: SampleMsg, dim: number): tf.Tensor => {
  const values = msg.dist.enumerateSupport!()
  const event = values.shape.slice(1)
  return tf.reshape(values, [values.shape[0]!, ...Array<number>(-dim - 1).fill(1), ...event])
}

/**
 * Throws a {@link SiteError} unless every batch dim of an enumerated site's distribution of size
 * above 1 is held by one of its plates (right of `state.first`) or by a visible enumerated variable
 * of that size (left of it): Pyro's "expected enumerated site to be in a plate".
 */
const checkBatchDims = (msg: SampleMsg, state: EnumState): void => {
  const b = msg.dist.batchShape
  b.forEach((size, i) => {
    const dim = i - b.length
    if (size === 1) return
    const held = dim > state.first ? msg.plates.some((p) => p.iteration === undefined && p.dim === dim) : state.visible.get(dim)?.size === size
    if (held) return
    throw new SiteError(`site '${msg.name}' is enumerated but its ${msg.dist.name} has batch shape ${showShape(b)}, whose dim ${dim} (size ${size}) ${dim > state.first ? 'no plate around the site holds' : 'no enumerated variable holds'}; put the site inside a plate of that size (plate(name, ${size}, …)), or give maxPlateNesting if a plate of the program was missed`)
  })
}

/** A site's value laid along a fresh dim, recorded as a variable of `side`. */
const enumerateSite = (msg: SampleMsg, side: EnumVar['side'], state: EnumState): SampleMsg => {
  if (msg.dist.enumerateSupport === undefined) {
    throw new SiteError(`site '${msg.name}' asks for enumerate: 'parallel' but its ${msg.dist.name} has no finite support to enumerate; enumerate bernoulli, categorical or oneHotCategorical sites (or a family with enumerateSupport), and use reparameterised or score-function guides for the rest`)
  }
  checkBatchDims(msg, state)
  const dim = freeDim(state)
  const rank = -dim + msg.dist.eventShape.length
  const backend = tf.getBackend()
  if ((backend === 'webgl' || backend === 'webgpu') && rank > GPU_MAX_RANK) {
    throw new SiteError(`site '${msg.name}': enumerating it needs tensors of rank ${rank} (${-state.first - 1} plate/particle dim(s), ${state.first - dim + 1} enumeration dim(s), ${msg.dist.eventShape.length} event dim(s)), but the ${backend} backend handles rank ${GPU_MAX_RANK} at most; use markov to recycle enumeration dims, fewer plates, or the wasm/cpu backend`)
  }
  const value = supportAlong(msg, dim)
  const v: EnumVar = { name: msg.name, dim, size: value.shape[0]!, side }
  state.vars.set(msg.name, v)
  state.visible.set(dim, v)
  return { ...msg, value, enumeration: snapshot(state, v) }
}

/**
 * The enumeration handler of one side of an estimate (place it after `replay`, before the draw).
 * A latent site marked `{ enumerate: 'parallel' }` with no value yet is enumerated; a site whose
 * value the guide enumerated (replayed into the model) makes that variable visible again, and must
 * be discrete in the model too; every sample and factor site records the variables it sees.
 *
 * @example traceProgram(guide(x), [enumerateSites('guide', state)])
 */
export const enumerateSites = (side: EnumVar['side'], state: EnumState): Handler => (msg: Message, next) => {
  if (msg._tag === 'Factor') return next({ ...msg, enumeration: snapshot(state) })
  if (msg._tag !== 'Sample') return next(msg)
  if (msg.kind === 'latent' && msg.value !== undefined && msg.obs === undefined) {
    const v = state.vars.get(msg.name)
    if (v === undefined) return next({ ...msg, enumeration: snapshot(state) })
    if (msg.dist.enumerateSupport === undefined) {
      throw new SiteError(`site '${msg.name}' is enumerated in the guide, but the model's ${msg.dist.name} at that site is not discrete (no finite support); a guide may enumerate only sites the model samples from a finite-support family`)
    }
    state.visible.set(v.dim, v)
    return next({ ...msg, enumeration: snapshot(state, v) })
  }
  if (msg.kind === 'latent' && msg.obs === undefined && msg.options.enumerate === 'parallel') return next(enumerateSite(msg, side, state))
  if (msg.kind === 'latent' && msg.obs === undefined && msg.options.enumerate === 'sequential') {
    throw new SiteError(`site '${msg.name}': enumerate: 'sequential' is not supported by enumElbo yet; use enumerate: 'parallel' (write the program so that it broadcasts over a leading dim of the site's values)`)
  }
  return next({ ...msg, enumeration: snapshot(state) })
}
