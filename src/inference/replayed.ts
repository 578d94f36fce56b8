/**
 * One particle of every variational estimator: trace the guide, replay the
 * model on its draws, and check that the two cover each other's sites. The
 * model also gets the guide's plate subsamples (a local latent and its data
 * point must be the same element), and each replayed value is checked against
 * the model's site (shape, support) before the model computes with it.
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
interface PlateDraw { readonly frame: PlateFrame; readonly indices: tf.Tensor }

/** Records, by plate name, the subsample each plate of a run got. */
const recordPlates = (sink: Map<string, PlateDraw>): Handler => (msg, next) => {
  const r = next(msg)
  if (r.msg._tag === 'PlateEnter') sink.set(r.msg.frame.name, { frame: r.msg.frame, indices: r.value as tf.Tensor })
  return r
}

/** Answers each plate of the model with the guide's subsample of the plate of that name; their sizes must agree. */
const replayPlates = (guidePlates: ReadonlyMap<string, PlateDraw>): Handler => (msg, next) => {
  if (msg._tag !== 'PlateEnter') return next(msg)
  const g = guidePlates.get(msg.frame.name)
  if (g === undefined) return next(msg)
  const [gf, mf] = [g.frame, msg.frame]
  if (gf.size !== mf.size || gf.subsampleSize !== mf.subsampleSize) {
    throw new SiteError(`plate '${mf.name}': the model's plate has size ${mf.size} and subsampleSize ${mf.subsampleSize} but the guide's plate of that name has size ${gf.size} and subsampleSize ${gf.subsampleSize}; a plate must have the same size and subsampleSize in the model and the guide`)
  }
  return next({ ...msg, value: g.indices })
}

/**
 * Throws if a guide value replayed into a model site does not fit it: a {@link SiteError}
 * unless its shape is the site's batchShape ++ eventShape, a SupportError (when validating)
 * unless it lies in the site's support — named, before the model computes with the value.
 * The support read-back is skipped when the guide's distribution has the model's support
 * (its draws lie in it by construction; a NaN is still caught by the model's `logProb` check).
 */
const checkReplayedValue = (name: string, dist: Distribution, value: tf.Tensor, guideDist: Distribution | undefined): void => {
  const expected = [...dist.batchShape, ...dist.eventShape]
  if (value.shape.length !== expected.length || value.shape.some((d, i) => d !== expected[i])) {
    throw new SiteError(`site '${name}': the guide's value has shape ${showShape(value.shape)} but the model's ${dist.name} at that site has batchShape ++ eventShape ${showShape(expected)}; the guide must sample every latent site with the model's shape`)
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
    checkReplayedValue(msg.name, msg.dist, msg.value, g?._tag === 'Sample' && g.kind === 'latent' ? g.dist : undefined)
  }
  return next(msg)
}

/**
 * The guide's trace (seeded with subSeed(s, 0)) and the model's trace replayed on
 * it (subSeed(s, 1)); unseeded when `particleSeed` is undefined. The model's plates
 * get the guide's subsamples.
 *
 * @example const { guide: q, model: p } = traceReplayed(model, guide, [x], [store.handler], 7)
 */
export const traceReplayed = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, handlers: readonly Handler[], particleSeed: number | undefined,
): { readonly guide: Trace; readonly model: Trace } => {
  const seeded = (i: number): Handler[] => {
    const s = subSeed(particleSeed, i)
    return s === undefined ? [] : [seed(s)]
  }
  const plates = new Map<string, PlateDraw>()
  const q = traceProgram(guide(...args), [recordPlates(plates), ...handlers, ...seeded(0)]).trace
  const p = traceProgram(model(...args), [replay(q), checkReplayed(q), replayPlates(plates), ...handlers, ...seeded(1)]).trace
  checkCoverage(p, q)
  return { guide: q, model: p }
}
