/**
 * Parallel enumeration (Pyro's `poutine.enum`): a latent site marked
 * `{ enumerate: 'parallel' }` gets its whole finite support as its value, laid
 * along a fresh batch dim left of every plate (and particle) dim, so the program
 * broadcasts over all K values at once. One {@link EnumState} is shared by the
 * guide's run and the model's run of one estimate: the model's enumerated sites
 * take dims the guide's do not hold, and every site records which enumerated
 * variables it sees (by dim), which is what `enumElbo` contracts by. Inside `markov`
 * scopes a variable's dim is freed `history + 1` steps after it was made, and reused.
 */
import * as tf from '@tensorflow/tfjs-core'
import { showShape } from '../errors.js'
import type { EnumContext, EnumVar, MarkovEnterMsg, MarkovExitMsg, MarkovStepMsg, Message, SampleMsg } from '../dsl/messages.js'
import type { Handler } from './interpreter.js'
import { SiteError } from './site-error.js'

/** An open markov scope: its variables per step, and (context form) the variables its entry hid. */
interface ChainFrame {
  readonly form: MarkovEnterMsg['form']
  readonly history: number
  readonly keep: boolean
  readonly steps: EnumVar[][]
  readonly hidden: EnumVar[]
}

/** The enumeration dims of one estimate: which variable holds each dim, and which dims are free. */
export interface EnumState {
  /** The rightmost dim enumeration may take: −(plate depth + 1). */
  readonly first: number
  /** Every enumerated variable of the estimate, by site name. */
  readonly vars: Map<string, EnumVar>
  /** The variable each dim holds now. */
  readonly visible: Map<number, EnumVar>
  /** The open markov scopes, innermost last, and the open context scopes by nesting level. */
  readonly chains: ChainFrame[]
  readonly levels: ChainFrame[]
}

/** A fresh state whose first enumeration dim is −(plateDepth + 1). @example enumState(2).first   // −3 */
export const enumState = (plateDepth: number): EnumState => ({ first: -(plateDepth + 1), vars: new Map(), visible: new Map(), chains: [], levels: [] })

/** Makes `v` visible, as a variable of the innermost markov scope's current step. */
const show = (state: EnumState, v: EnumVar): void => {
  state.visible.set(v.dim, v)
  state.chains.at(-1)?.steps.at(-1)?.push(v)
}

/** Hides variables (their dims become free), returning those that were visible. */
const hide = (state: EnumState, vs: readonly EnumVar[]): EnumVar[] =>
  vs.filter((v) => state.visible.get(v.dim) === v && state.visible.delete(v.dim))

/**
 * Follows markov scopes: a scan step hides the variables of the step `history + 1` back; a context
 * scope hides those of the level `history + 1` up, and on exit hides its own and shows those again.
 */
const followMarkov = (msg: MarkovEnterMsg | MarkovStepMsg | MarkovExitMsg, state: EnumState): void => {
  if (msg._tag === 'MarkovEnter') {
    const level = state.levels.length - msg.history - 1
    const hidden = msg.form === 'context' && !msg.keep && level >= 0 ? hide(state, state.levels[level]!.steps[0]!) : []
    const frame: ChainFrame = { form: msg.form, history: msg.history, keep: msg.keep, steps: msg.form === 'context' ? [[]] : [], hidden }
    state.chains.push(frame)
    if (msg.form === 'context') state.levels.push(frame)
    return
  }
  const top = state.chains.at(-1)
  if (top === undefined) return
  if (msg._tag === 'MarkovStep') {
    top.steps.push([])
    const old = top.steps.length - top.history - 2
    if (!top.keep && old >= 0) hide(state, top.steps[old]!)
    return
  }
  state.chains.pop()
  if (top.form !== 'context') return
  state.levels.pop()
  hide(state, top.steps[0]!)
  for (const v of top.hidden) state.visible.set(v.dim, v)
}

/**
 * Ranks above this fail in tfjs's webgl and webgpu kernels, and tfjs-wasm 4.22's broadcasting
 * binary ops silently give wrong values from rank 7 (measured: an `add` of [3,1,1,1,1,1,3] and
 * [3,1,1,1,1,1,1] is off by up to 3.9); only the cpu backend handles any rank.
 */
const MAX_RANK = 6

/** The rightmost dim left of the plates that no visible variable holds (and, for the model, no guide variable ever held). */
const freeDim = (state: EnumState, side: EnumVar['side']): number => {
  const guideDims = side === 'model' ? new Set([...state.vars.values()].filter((v) => v.side === 'guide').map((v) => v.dim)) : new Set<number>()
  let dim = state.first
  while (state.visible.has(dim) || guideDims.has(dim)) dim -= 1
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
    if (dim <= state.first && [...state.vars.values()].some((v) => v.dim === dim)) throw new SiteError(`site '${msg.name}' is enumerated but its ${msg.dist.name} has batch shape ${showShape(b)}, whose dim ${dim} (size ${size}) is an enumeration dim no visible variable holds: the site reads an enumerated value beyond its markov history (an enumeration dim conflict), or reshaped one. Widen markov's history to the steps the site reads`)
    throw new SiteError(`site '${msg.name}' is enumerated but its ${msg.dist.name} has batch shape ${showShape(b)}, whose dim ${dim} (size ${size}) no plate around the site holds (${-state.first - 1} plate dim(s) found); put the site inside a plate of that size (plate(name, ${size}, …)), or give maxPlateNesting if a plate of the program was missed`)
  })
}

/** A site's value laid along a fresh dim, recorded as a variable of `side`. */
const enumerateSite = (msg: SampleMsg, side: EnumVar['side'], state: EnumState): SampleMsg => {
  if (msg.dist.enumerateSupport === undefined) {
    throw new SiteError(`site '${msg.name}' asks for enumerate: 'parallel' but its ${msg.dist.name} has no finite support to enumerate; enumerate bernoulli, categorical or oneHotCategorical sites (or a family with enumerateSupport), and use reparameterised or score-function guides for the rest`)
  }
  checkBatchDims(msg, state)
  const dim = freeDim(state, side)
  const rank = -dim + msg.dist.eventShape.length
  const backend = tf.getBackend()
  if (backend !== 'cpu' && rank > MAX_RANK) {
    throw new SiteError(`site '${msg.name}': enumerating it needs tensors of rank ${rank} (${-state.first - 1} plate/particle dim(s), ${state.first - dim + 1} enumeration dim(s), ${msg.dist.eventShape.length} event dim(s)), but the ${backend} backend computes rank ${MAX_RANK} at most (tfjs-wasm's broadcasting ops give wrong values above it); use markov to recycle enumeration dims, fewer plates, or the cpu backend`)
  }
  const value = supportAlong(msg, dim)
  const v: EnumVar = { name: msg.name, dim, size: value.shape[0]!, side }
  state.vars.set(msg.name, v)
  show(state, v)
  return { ...msg, value, enumeration: snapshot(state, v) }
}

/**
 * The enumeration handler of one side of an estimate (place it after `replay`, before the draw).
 * A latent site marked `{ enumerate: 'parallel' }` with no value yet is enumerated; a site whose
 * value the guide enumerated (replayed into the model) makes that variable visible again, and must
 * be discrete in the model too; every sample and factor site records the variables it sees. A guide
 * site marked `{ enumerate: 'sequential' }` takes the value `sequential` assigns it (one run per value).
 *
 * @example traceProgram(guide(x), [enumerateSites('guide', state)])
 */
export const enumerateSites = (side: EnumVar['side'], state: EnumState, sequential?: SequentialRun): Handler => (msg: Message, next) => {
  if (msg._tag === 'MarkovEnter' || msg._tag === 'MarkovStep' || msg._tag === 'MarkovExit') followMarkov(msg, state)
  if (msg._tag === 'Factor') return next({ ...msg, enumeration: snapshot(state) })
  if (msg._tag !== 'Sample') return next(msg)
  if (msg.kind === 'latent' && msg.value !== undefined && msg.obs === undefined) {
    const v = state.vars.get(msg.name)
    if (v === undefined) return next({ ...msg, enumeration: snapshot(state) })
    if (msg.dist.enumerateSupport === undefined) {
      throw new SiteError(`site '${msg.name}' is enumerated in the guide, but the model's ${msg.dist.name} at that site is not discrete (no finite support); a guide may enumerate only sites the model samples from a finite-support family`)
    }
    show(state, v)
    return next({ ...msg, enumeration: snapshot(state, v) })
  }
  if (msg.kind === 'latent' && msg.obs === undefined && msg.options.enumerate === 'parallel') return next(enumerateSite(msg, side, state))
  if (msg.kind === 'latent' && msg.obs === undefined && msg.options.enumerate === 'sequential') {
    if (side === 'model' || sequential === undefined) throw new SiteError(`site '${msg.name}' of the model asks for enumerate: 'sequential'; a model's site is enumerated in parallel only (as in Pyro's TraceEnum_ELBO): mark it { enumerate: 'parallel' }, or sample it sequentially in the guide`)
    return next({ ...sequentialValue(msg, sequential), enumeration: snapshot(state) })
  }
  return next({ ...msg, enumeration: snapshot(state) })
}

/** One run of sequential enumeration: the value index given to each sequential guide site, and the sites met without one (name → K; they took index 0). */
export interface SequentialRun {
  readonly assigned: ReadonlyMap<string, number>
  readonly met: Map<string, number>
}

/** A sequential site's value in this run: support value `assigned` (0 for a site met first), of one draw's shape. */
const sequentialValue = (msg: SampleMsg, run: SequentialRun): SampleMsg => {
  const support = msg.dist.enumerateSupport
  if (support === undefined) throw new SiteError(`site '${msg.name}' asks for enumerate: 'sequential' but its ${msg.dist.name} has no finite support to enumerate; enumerate bernoulli, categorical or oneHotCategorical sites`)
  if (msg.dist.batchShape.some((d) => d > 1)) throw new SiteError(`site '${msg.name}' asks for enumerate: 'sequential' but has batch shape ${showShape(msg.dist.batchShape)}; one run per value covers a single draw, not every combination of ${msg.dist.batchShape.reduce((a, b) => a * b, 1)} elements: enumerate it with 'parallel'`)
  const values = support()
  let index = run.assigned.get(msg.name)
  if (index === undefined) { run.met.set(msg.name, values.shape[0]!); index = 0 }
  const one = tf.gather(values, index)
  return { ...msg, value: tf.reshape(one, [...msg.dist.batchShape, ...msg.dist.eventShape]) }
}
