/**
 * Traces: the ordered, read-only record of one run's sites (value,
 * distribution, scale, mask, plates), and the `trace` handler that makes them.
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { Distribution } from '../distributions/distribution.js'
import type { EnumContext, Message, PlateFrame, SampleOptions, SiteKind } from '../dsl/messages.js'
import type { Program } from '../dsl/program.js'
import { interpreter, run } from './interpreter.js'
import type { Handler, Interpret } from './interpreter.js'

/** A sample site in a trace. */
export interface SampleSite {
  readonly _tag: 'Sample'
  readonly name: string
  readonly kind: SiteKind
  readonly dist: Distribution
  readonly value: tf.Tensor
  readonly scale: number | tf.Tensor
  readonly mask: tf.Tensor | undefined
  readonly plates: readonly PlateFrame[]
  readonly options: SampleOptions
  /** The enumerated variables the site sees, and its own if it is enumerated (under `enumElbo`). */
  readonly enumeration?: EnumContext
}

/** A factor site in a trace. */
export interface FactorSite {
  readonly _tag: 'Factor'
  readonly name: string
  readonly logWeight: tf.Tensor
  readonly scale: number | tf.Tensor
  readonly mask: tf.Tensor | undefined
  readonly plates: readonly PlateFrame[]
  readonly enumeration?: EnumContext
}

/** A deterministic site in a trace. */
export interface DeterministicSite {
  readonly _tag: 'Deterministic'
  readonly name: string
  readonly value: tf.Tensor
}

/** One recorded site. */
export type TraceSite = SampleSite | FactorSite | DeterministicSite

/** The sites of one run, in execution order, with lookup by name. */
export interface Trace {
  readonly sites: readonly TraceSite[]
  readonly byName: ReadonlyMap<string, TraceSite>
}

const toSite = (msg: Message, value: unknown): TraceSite | undefined => {
  switch (msg._tag) {
    case 'Sample': return { _tag: 'Sample', name: msg.name, kind: msg.kind, dist: msg.dist, value: value as tf.Tensor, scale: msg.scale, mask: msg.mask, plates: msg.plates, options: msg.options, ...(msg.enumeration !== undefined && { enumeration: msg.enumeration }) }
    case 'Factor': return { _tag: 'Factor', name: msg.name, logWeight: msg.logWeight, scale: msg.scale, mask: msg.mask, plates: msg.plates, ...(msg.enumeration !== undefined && { enumeration: msg.enumeration }) }
    case 'Deterministic': return { _tag: 'Deterministic', name: msg.name, value: value as tf.Tensor }
    default: return undefined
  }
}

/** A trace handler writing into `sink` (one per run). */
const recorder = (sink: TraceSite[]): Handler => (msg, next) => {
  const r = next(msg)
  const site = toSite(r.msg, r.value)
  if (site !== undefined) sink.push(site)
  return r
}

/**
 * Runs `program` with `handlers` (index 0 sees messages first) and records
 * every site as the outermost handler sees it.
 *
 * @example const { value, trace } = traceProgram(guide(x), [seed(1)])
 */
export const traceProgram = <A>(program: Program<Message, A>, handlers: readonly Handler[] = [], base?: Interpret): { readonly value: A; readonly trace: Trace } => {
  const sites: TraceSite[] = []
  const value = run(program, interpreter([...handlers, recorder(sites)], base))
  return { value, trace: { sites, byName: new Map(sites.map((s) => [s.name, s])) } }
}

/** The latent sample sites of a trace. @example latents(trace).map((s) => s.name) */
export const latents = (trace: Trace): SampleSite[] =>
  trace.sites.filter((s): s is SampleSite => s._tag === 'Sample' && s.kind === 'latent')
