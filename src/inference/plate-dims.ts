/**
 * Plates own batch dims, as in Pyro and NumPyro: each active plate holds one dim
 * counted from the right of the batch shape (allocated innermost-free, or `dim: -k`
 * as asked), and a distribution met inside plates is broadcast to them. The runner
 * calls these before any handler sees a message, so every handler (and the trace)
 * sees the broadcast distribution.
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo } from '../backend/numerics.js'
import { sameShape, showShape } from '../errors.js'
import { broadcastsTo } from '../distributions/shape.js'
import type { FactorMsg, PlateFrame, SampleMsg } from '../dsl/messages.js'
import { AUTO_DIM } from '../dsl/messages.js'
import { SiteError } from './site-error.js'

/** The name of the plate vectorised particles run in (see particles.ts); the data may broadcast along its dim. */
export const PARTICLE_PLATE = '_particles'

/**
 * The frame a plate gets on entry: its asked-for dim, or the rightmost dim no active plate holds.
 * A dim already held, a positive dim, or a plate nested in a plate of its own name is a {@link SiteError}.
 *
 * @example allocateDim({ name: 'y', size: 3, subsampleSize: 3, dim: AUTO_DIM }, [xFrame])   // dim −2 if x holds −1
 */
export const allocateDim = (frame: PlateFrame, active: readonly PlateFrame[]): PlateFrame => {
  const same = active.find((p) => p.name === frame.name)
  if (same !== undefined) throw new SiteError(`plate '${frame.name}' is entered inside a plate of the same name; nested plates need distinct names`)
  if (frame.iteration !== undefined) return frame
  if (frame.dim === AUTO_DIM) {
    let dim = -1
    while (active.some((p) => p.iteration === undefined && p.dim === dim)) dim -= 1
    return { ...frame, dim }
  }
  if (!Number.isInteger(frame.dim) || frame.dim > 0) {
    throw new SiteError(`plate '${frame.name}': dim must be a negative integer (counted from the right of the batch shape); got ${frame.dim}`)
  }
  const holder = active.find((p) => p.iteration === undefined && p.dim === frame.dim)
  if (holder !== undefined) {
    throw new SiteError(`plate '${frame.name}' asks for dim ${frame.dim}, which the enclosing plate '${holder.name}' already holds; give the plates distinct dims, or leave dim out to allocate one`)
  }
  return frame
}

/** ⌈the deepest plate dim among `plates`⌉: the number of rightmost batch dims they index. */
export const plateDepth = (plates: readonly PlateFrame[]): number => plates.reduce((m, p) => p.iteration === undefined ? Math.max(m, -p.dim) : m, 0)

/**
 * The batch shape a site of batch shape `actual` takes inside `plates`: each plate's dim set to
 * its (subsample) size, where `actual` has 1 there or is too short; any other size is an error
 * naming the site, the plate, the dim, and the expected and actual shapes.
 *
 * @example plateBatchShape('z', [], [{ name: 'data', size: 100, subsampleSize: 100, dim: -1 }])   // [100]
 */
export const plateBatchShape = (site: string, actual: readonly number[], plates: readonly PlateFrame[]): number[] => {
  const rank = Math.max(actual.length, plateDepth(plates))
  const target = Array.from({ length: rank }, (_, i) => actual[i - (rank - actual.length)] ?? 1)
  for (const p of plates) {
    if (p.iteration !== undefined) continue
    const i = rank + p.dim
    if (target[i] !== 1 && target[i] !== p.subsampleSize) {
      const expected = target.map((d, j) => j === i ? p.subsampleSize : d)
      throw new SiteError(`site '${site}' inside plate '${p.name}' (dim ${p.dim}, ${p.subsampleSize} elements in this run): its batch shape is ${showShape(actual)}, which has ${target[i]} at dim ${p.dim}; expected ${p.subsampleSize} or 1 there (batch shape ${showShape(expected)}), so that each plate element gets its own entry`)
    }
    target[i] = p.subsampleSize
  }
  return target
}


/**
 * A sample site's distribution broadcast to its plates (`expand`), or the message as it is when
 * it already has the plates' shape.
 *
 * @example broadcastSample(msg)   // normal(0, 1) in plate 'data' of size 100 → batchShape [100]
 */
export const broadcastSample = (msg: SampleMsg): SampleMsg => {
  if (msg.plates.length === 0) return msg
  const target = plateBatchShape(msg.name, msg.dist.batchShape, msg.plates)
  return sameShape(target, msg.dist.batchShape) ? msg : { ...msg, dist: msg.dist.expand(target) }
}

/**
 * A factor's log-weight broadcast to its plates: a scalar factor inside a plate counts once per
 * element, as a Pyro `factor` does.
 *
 * @example broadcastFactor(msg)   // tf.scalar(−1) in plate 'data' of size 4 → shape [4]
 */
export const broadcastFactor = (msg: FactorMsg): FactorMsg => {
  if (msg.plates.length === 0) return msg
  const target = plateBatchShape(msg.name, msg.logWeight.shape, msg.plates)
  return sameShape(target, msg.logWeight.shape) ? msg : { ...msg, logWeight: broadcastTo(msg.logWeight, target) }
}

/**
 * The batch shape of a site's elementwise log-density: a factor's log-weight shape; a sample
 * site's distribution batch shape or, for an observation whose data has more leading dims than
 * that (a scalar distribution observing a vector of data), the data's leading dims.
 *
 * @example siteBatchShape(msg)   // observe('x', normal(0, 1), x) with x of shape [4] → [4]
 */
export const siteBatchShape = (msg: SampleMsg | FactorMsg): readonly number[] => {
  if (msg._tag === 'Factor') return msg.logWeight.shape
  const { batchShape, eventShape } = msg.dist
  const obs = msg.obs
  if (obs === undefined || obs.rank - eventShape.length <= batchShape.length) return batchShape
  const lead = obs.shape.slice(0, obs.rank - eventShape.length)
  return broadcastsTo(batchShape, lead) ? lead : batchShape
}

const WEIGHT_SOURCE = {
  mask: 'a mask (from the `mask` handler)',
  scale: 'a tensor factor of `scaled` (each one around the site, and their product)',
} as const

/**
 * Throws a {@link SiteError} unless a site's mask or tensor scale of shape `shape` broadcasts to
 * the site's batch shape `batch` (see {@link siteBatchShape}): the log-density is masked and scaled
 * elementwise, so a weight with other dims would fail inside tfjs, or count the site once per
 * extra element. Shapes only: no data is read.
 *
 * @example checkSiteWeight('x', 'scale', [3], [4])   // throws: site 'x': its scale has shape [3], …
 */
export const checkSiteWeight = (site: string, what: keyof typeof WEIGHT_SOURCE, shape: readonly number[], batch: readonly number[]): void => {
  if (broadcastsTo(shape, batch)) return
  throw new SiteError(`site '${site}': its ${what} has shape ${showShape(shape)}, which does not broadcast to the site's batch shape ${showShape(batch)} (its distribution's, broadcast to its plates); ${WEIGHT_SOURCE[what]} must have the batch shape of the site or broadcast to it (dims of 1, or dims missing on the left)`)
}
