/**
 * One particle of every variational estimator: trace the guide, replay the
 * model on its draws, and check that the two cover each other's sites. The
 * model also gets the guide's plate subsamples (a local latent and its data
 * point must be the same element; a plate given its own `subsample` keeps it, and
 * it must be the guide's), and each replayed value is checked against the model's
 * site (shape, batch/event split, support) before the model computes with it.
 */
import type * as tf from '@tensorflow/tfjs-core'
import { subSeed } from '../backend/seed.js'
import { SupportError, showShape } from '../errors.js'
import type { Distribution } from '../distributions/distribution.js'
import { checkValue } from '../distributions/validation.js'
import type { PlateFrame } from '../dsl/messages.js'
import { checkCoverage } from './coverage.js'
import { replay, seed } from './handlers.js'
import { SiteError } from './interpreter.js'
import type { Handler } from './interpreter.js'
import type { ProgramFn } from './loss.js'
import { traceProgram } from './trace.js'
import type { Trace } from './trace.js'

/** A plate as one run entered it: its frame and the subsample indices it got. */
export interface PlateDraw { readonly frame: PlateFrame; readonly indices: tf.Tensor }

/** The plates of a run by name, each with the subsample it got (see {@link traceReplayed}). */
export type PlateDraws = ReadonlyMap<string, PlateDraw>

/** Records, by plate name, the subsample each plate of a run got. */
const recordPlates = (sink: Map<string, PlateDraw>): Handler => (msg, next) => {
  const r = next(msg)
  if (r.msg._tag === 'PlateEnter') sink.set(r.msg.frame.name, { frame: r.msg.frame, indices: r.value as tf.Tensor })
  return r
}

const showIndices = (t: tf.Tensor): string => `[${Array.from(t.dataSync()).join(', ')}]`

const sameIndices = (a: tf.Tensor, b: tf.Tensor): boolean => {
  if (a === b) return true
  if (a.size !== b.size) return false
  const [x, y] = [a.dataSync(), b.dataSync()]
  return x.every((v, i) => v === y[i])
}

/** Who a plate's subsample is replayed from, into whom, and what other indices would break, for messages. */
interface ReplayRoles { readonly from: string; readonly into: string; readonly why: string }

const GUIDE_INTO_MODEL: ReplayRoles = { from: "the guide's plate", into: "the model's plate", why: "the guide's local latents would be paired with other data points" }

/**
 * Answers each vectorised plate with the subsample `source` recorded for the plate of that name
 * (sizes must agree): the model's plates get the guide's, so a local latent and its data point
 * are the same element. A plate given its own indices (`subsample`, Pyro's `subsample=`) keeps
 * them; if the source's plate of that name has other indices, that is a {@link SiteError} showing
 * both (the source's local draws would be paired with other data points).
 */
const replayPlates = (source: PlateDraws, roles: ReplayRoles = GUIDE_INTO_MODEL): Handler => (msg, next) => {
  if (msg._tag !== 'PlateEnter') return next(msg)
  const g = source.get(msg.frame.name)
  if (g === undefined) return next(msg)
  const [gf, mf] = [g.frame, msg.frame]
  if (gf.size !== mf.size || gf.subsampleSize !== mf.subsampleSize) {
    throw new SiteError(`plate '${mf.name}': ${roles.into} has size ${mf.size} and subsampleSize ${mf.subsampleSize} but ${roles.from} of that name has size ${gf.size} and subsampleSize ${gf.subsampleSize}; a plate must have the same size and subsampleSize in the model and the guide`)
  }
  if (mf.iteration !== undefined || gf.iteration !== undefined) return next(msg)   // a sequential plate: each iteration is its own element
  if (msg.value === undefined) return next({ ...msg, value: g.indices })
  if (!sameIndices(msg.value, g.indices)) {
    throw new SiteError(`plate '${mf.name}': ${roles.into} has its own subsample ${showIndices(msg.value)} but ${roles.from} of that name has ${showIndices(g.indices)}; ${roles.why}. Give both plates the same subsample, or leave it out in one of them (it then gets the other's)`)
  }
  return next(msg)
}

const showSplit = (d: Distribution): string => `batchShape ${showShape(d.batchShape)} and eventShape ${showShape(d.eventShape)}`

/**
 * Throws if a guide value replayed into a model site does not fit it: a {@link SiteError}
 * unless its shape is the site's batchShape ++ eventShape, or unless the guide's distribution
 * splits that shape into batch and event dims as the model's does (Pyro: "Model and guide
 * event_dims disagree"), and a SupportError (when validating) unless it lies in the site's
 * support — named, before the model computes with the value.
 * The support read-back is skipped when the guide's distribution has the model's support
 * (its draws lie in it by construction; a NaN is still caught by the model's `logProb` check).
 */
const checkReplayedValue = (name: string, dist: Distribution, value: tf.Tensor, guideDist: Distribution | undefined, enumerated = false): void => {
  const expected = [...dist.batchShape, ...dist.eventShape]
  if (enumerated) return   // the support along an enumeration dim: enumerate.ts checks it against the model's site
  if (value.shape.length !== expected.length || value.shape.some((d, i) => d !== expected[i])) {
    throw new SiteError(`site '${name}': the guide's value has shape ${showShape(value.shape)} but the model's ${dist.name} at that site has batchShape ++ eventShape ${showShape(expected)}; the guide must sample every latent site with the model's shape`)
  }
  if (guideDist !== undefined && guideDist.eventShape.length !== dist.eventShape.length) {
    throw new SiteError(`site '${name}': the model's ${dist.name} has ${showSplit(dist)} but the guide's ${guideDist.name} has ${showSplit(guideDist)}; the model and the guide must agree on which dims are batch and which event dims (${dist.eventShape.length} vs ${guideDist.eventShape.length} event dims): use .toEvent(n) on the one with fewer event dims, or sample the model's site as a batch in the guide too`)
  }
  if (guideDist?.support._tag === dist.support._tag) return
  try {
    checkValue(dist.name, value, dist.batchShape, dist.eventShape, dist.support)
  } catch (err) {
    if (err instanceof SupportError) throw new SupportError(`site '${name}' (latent): ${err.message}; the value is the guide's, replayed into the model: the guide must sample within the model's support`)
    throw err
  }
}

/** Checks every latent value `replay` set from the guide's trace `q` (index it right after `replay`). */
const checkReplayed = (q: Trace): Handler => (msg, next) => {
  if (msg._tag === 'Sample' && msg.kind === 'latent' && msg.value !== undefined) {
    const g = q.byName.get(msg.name)
    const guideSite = g?._tag === 'Sample' && g.kind === 'latent' ? g : undefined
    // A value the guide enumerated, or drew with enumerated variables in view (it may carry their dims): enumeration checks it.
    const enumerated = guideSite?.enumeration !== undefined && (guideSite.enumeration.own !== undefined || guideSite.enumeration.visible.size > 0)
    checkReplayedValue(msg.name, msg.dist, msg.value, guideSite?.dist, enumerated)
  }
  return next(msg)
}

/** Extra handlers around one side's run: `first` before every other handler, `last` after the seed. */
export interface SideHandlers { readonly first?: readonly Handler[]; readonly last?: readonly Handler[] }

/** What a caller of {@link traceReplayed} adds: handlers per side, and whether the guide must cover every model latent (default true). */
export interface ReplayOptions {
  readonly guide?: SideHandlers
  readonly model?: SideHandlers
  /** false: model latents the guide does not sample are drawn from the model (predictive). */
  readonly coverage?: boolean
}

const SHARED_WHY = 'the particles of one estimate would weigh different data points'
const FIRST_INTO_GUIDE: ReplayRoles = { from: "the first particle's plate", into: "the guide's plate", why: SHARED_WHY }
const FIRST_INTO_MODEL: ReplayRoles = { from: "the first particle's plate", into: "the model's plate", why: SHARED_WHY }

/**
 * The guide's trace (seeded with subSeed(s, 0)) and the model's trace replayed on
 * it (subSeed(s, 1)); unseeded when `particleSeed` is undefined. The model's plates
 * get the guide's subsamples. Also returns every plate's subsample in this run (the
 * guide's plates, then the model's own), which a later particle can pass as `plates`
 * so that its guide and model reuse them: particles of one estimate then see the same
 * data points (IWAE's log-sum-exp over particles must compare weights of the same points).
 *
 * @example
 * const first = traceReplayed(model, guide, [x], [store.handler], subSeed(7, 0))
 * const next = traceReplayed(model, guide, [x], [store.handler], subSeed(7, 1), first.plates)   // same subsamples
 */
export const traceReplayed = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, handlers: readonly Handler[], particleSeed: number | undefined,
  plates?: PlateDraws, options: ReplayOptions = {},
): { readonly guide: Trace; readonly model: Trace; readonly plates: PlateDraws } => {
  const seeded = (i: number): Handler[] => {
    const s = subSeed(particleSeed, i)
    return s === undefined ? [] : [seed(s)]
  }
  const shared = (roles: ReplayRoles): Handler[] => plates === undefined ? [] : [replayPlates(plates, roles)]
  const [g, m] = [options.guide ?? {}, options.model ?? {}]
  const guidePlates = new Map<string, PlateDraw>()
  const modelPlates = new Map<string, PlateDraw>()
  const q = traceProgram(guide(...args), [...(g.first ?? []), recordPlates(guidePlates), ...shared(FIRST_INTO_GUIDE), ...handlers, ...seeded(0), ...(g.last ?? [])]).trace
  const p = traceProgram(model(...args), [...(m.first ?? []), replay(q), checkReplayed(q), recordPlates(modelPlates), replayPlates(guidePlates), ...shared(FIRST_INTO_MODEL), ...handlers, ...seeded(1), ...(m.last ?? [])]).trace
  if (options.coverage !== false) checkCoverage(p, q)
  return { guide: q, model: p, plates: new Map([...modelPlates, ...guidePlates]) }
}
