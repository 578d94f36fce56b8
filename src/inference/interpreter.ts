/**
 * Interpreting programs: a handler stack folded over a program's effects.
 *
 * A message travels from the program through the handlers, innermost (index 0)
 * first; each may rewrite it (condition, scale, seed…) or answer it (replay,
 * substitute) and passes it on; `block` can send it straight to the default
 * interpreter. The default interpreter draws samples, initialises params and
 * answers plates. Plate context, plate scaling and the duplicate-name check are
 * the runner's, so every handler sees annotated messages: each plate gets its
 * batch dim on entry, and the sample and factor sites inside are broadcast to
 * their plates.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { FactorMsg, Message, PlateFrame, SampleMsg } from '../dsl/messages.js'
import type { Program } from '../dsl/program.js'
import { allocateDim, broadcastFactor, broadcastSample, checkSiteWeight, siteBatchShape } from './plate-dims.js'
import { SiteError } from './site-error.js'

export { SiteError }

/** A message after interpretation: the final message and the value sent back to the program. */
export interface Resolved {
  readonly msg: Message
  readonly value: unknown
}

/** Interprets one message. */
export type Interpret = (msg: Message) => Resolved

/** A handler: sees `msg`, and may pass it (changed or not) to `next`, or straight to `base`. */
export type Handler = (msg: Message, next: Interpret, base: Interpret) => Resolved

/** Chains handlers (index 0 sees each message first) in front of `base`. */
export const interpreter = (handlers: readonly Handler[], base: Interpret = draw): Interpret =>
  handlers.reduceRight<Interpret>((next, h) => (msg) => h(msg, next, base), base)

const drawSample = (msg: SampleMsg): tf.Tensor => {
  if (msg.value !== undefined) return msg.value
  if (msg.obs !== undefined) return msg.obs
  const d = msg.dist
  return d.rsample !== undefined ? d.rsample([], msg.seed) : d.sample([], msg.seed)
}

const subsample = (frame: PlateFrame, seed: number | undefined): tf.Tensor =>
  frame.subsampleSize === frame.size
    ? tf.range(0, frame.size, 1, 'int32')
    : tf.topk(tf.randomUniform([frame.size], 0, 1, 'float32', seed), frame.subsampleSize).indices

/**
 * The default interpreter: a message's answer if a handler gave one; otherwise
 * draws latents (`rsample` where reparameterised), returns observations, uses a
 * param's initial value, runs a module's forward pass, computes a deterministic
 * site given as a thunk, and gives plate indices.
 *
 * @example run(model(x), interpreter([seed(0)]))
 */
export const draw: Interpret = (msg) => {
  switch (msg._tag) {
    case 'Sample': return { msg, value: drawSample(msg) }
    case 'Param': return { msg, value: msg.value ?? (typeof msg.init === 'function' ? msg.init() : msg.init) }
    case 'Module': return { msg, value: (x: never) => msg.network.apply(x) }
    case 'Deterministic': return { msg, value: msg.value ?? msg.compute?.() }
    case 'PlateEnter': return { msg, value: msg.value ?? (msg.frame.iteration === undefined ? subsample(msg.frame, msg.seed) : msg.frame.iteration) }
    case 'Factor':
    case 'PlateExit':
    case 'ScaleEnter':
    case 'ScaleExit':
    case 'MarkovEnter':
    case 'MarkovStep':
    case 'MarkovExit': return { msg, value: undefined }
  }
}

const plateScale = (plates: readonly PlateFrame[]): number =>
  plates.reduce((s, p) => s * (p.size / p.subsampleSize), 1)

/**
 * Adds the plate context and the scopes' scale to sample and factor sites, and broadcasts
 * them to their plates (a distribution's batch shape, a factor's log-weight). Each tensor factor
 * of the scale must broadcast to the site's batch shape (a {@link SiteError} naming the site and
 * both shapes, checked before the factors are multiplied).
 */
const annotate = (msg: Message, plates: readonly PlateFrame[], scales: readonly (number | tf.Tensor)[]): Message => {
  if ((msg._tag !== 'Sample' && msg._tag !== 'Factor') || (plates.length === 0 && scales.length === 0)) return msg
  const inPlates = { ...msg, plates: [...msg.plates, ...plates] } as SampleMsg | FactorMsg
  const broadcast = inPlates._tag === 'Sample' ? broadcastSample(inPlates) : broadcastFactor(inPlates)
  const batch = siteBatchShape(broadcast)
  for (const f of [msg.scale, ...scales]) if (typeof f !== 'number') checkSiteWeight(msg.name, 'scale', f.shape, batch)
  const scale = scales.reduce<number | tf.Tensor>((s, f) => mulScale(s, f), mulScale(msg.scale, plateScale(plates)))
  return { ...broadcast, scale }
}

/** Checks the mask the handlers gave a sample or factor site against the site's batch shape. */
const checkMask = (msg: Message): void => {
  if ((msg._tag === 'Sample' || msg._tag === 'Factor') && msg.mask !== undefined) checkSiteWeight(msg.name, 'mask', msg.mask.shape, siteBatchShape(msg))
}

/** Multiplies two site scales, staying a number when both are. */
export const mulScale = (a: number | tf.Tensor, b: number | tf.Tensor): number | tf.Tensor =>
  typeof a === 'number' && typeof b === 'number' ? a * b : tf.mul(a, b)

const NAMED_ONCE = new Set(['Sample', 'Factor', 'Deterministic'])

/**
 * Site names are unique within one run, and no site shares its name with a param (a param may be
 * read several times): Pyro's "already in the trace" check.
 */
const checkNameOf = (msg: Message, names: { readonly sites: Set<string>; readonly params: Set<string> }): void => {
  if (msg._tag === 'Param') {
    if (names.sites.has(msg.name)) throw new SiteError(`param '${msg.name}' has the name of a site that already ran in this program; a param and a sample, factor or deterministic site must have different names`)
    names.params.add(msg.name)
    return
  }
  if (!NAMED_ONCE.has(msg._tag) || !('name' in msg)) return
  const kind = msg._tag.toLowerCase()
  if (names.sites.has(msg.name)) throw new SiteError(`duplicate site name '${msg.name}': a ${kind} site of that name already ran in this program; site names must be unique within one run`)
  if (names.params.has(msg.name)) throw new SiteError(`${kind} site '${msg.name}' has the name of a param of this program; a param and a site must have different names`)
  names.sites.add(msg.name)
}

/**
 * Runs a program under an interpreter and returns its result. Sample, factor
 * and deterministic names must be unique within one run, and the mask the handlers
 * give a site must broadcast to its batch shape (a {@link SiteError} naming the site).
 *
 * @example const z = run(model(x), interpreter([seed(1)]))
 */
export const run = <M extends Message, A>(program: Program<M, A>, interpret: Interpret): A => {
  const it = program.run()
  const plates: PlateFrame[] = []
  const scales: Array<number | tf.Tensor> = []
  const names = { sites: new Set<string>(), params: new Set<string>() }
  let step = it.next()
  while (step.done !== true) {
    let msg: Message = step.value
    checkNameOf(msg, names)
    if (msg._tag === 'PlateEnter') {
      msg = { ...msg, frame: allocateDim(msg.frame, plates) }
      plates.push(msg.frame)
    }
    if (msg._tag === 'PlateExit') plates.pop()
    if (msg._tag === 'ScaleEnter') scales.push(msg.factor)
    if (msg._tag === 'ScaleExit') scales.pop()
    const r = interpret(annotate(msg, plates, scales))
    checkMask(r.msg)   // here, not in `mask`: a handler applied inside a program sees its sites before they are broadcast to their plates
    step = it.next(r.value)
  }
  return step.value
}
