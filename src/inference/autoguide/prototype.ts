/**
 * What an autoguide knows of its model: one traced run (Pyro's prototype
 * trace), reduced to plain data — each latent site's name, shape, event dims,
 * support and plates, and its initial (constrained) value. Nothing here holds
 * a tensor past the trace, so the prototype outlives any `tidy`.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { Constraint } from '../../distributions/constraints.js'
import * as constraints from '../../distributions/constraints.js'
import type { PlateFrame } from '../../dsl/messages.js'
import { InvalidArgumentError } from '../../errors.js'
import { seed } from '../handlers.js'
import type { ProgramFn } from '../loss.js'
import { vectorised } from '../plate-costs.js'
import { traceProgram } from '../trace.js'
import type { SampleSite, Trace } from '../trace.js'
import type { InitStrategy } from './init.js'

/** A tensor as data: its values and shape. */
export interface Values { readonly data: Float32Array; readonly shape: readonly number[] }

/** One latent site of the model, as the autoguide parameterises it. */
export interface LatentProto {
  readonly name: string
  /** The value's shape in one run (batchShape ++ eventShape), plate dims at their subsample sizes. */
  readonly shape: readonly number[]
  readonly eventDims: number
  readonly support: Constraint
  /** The vectorised plates the site is in (outermost first). */
  readonly plates: readonly PlateFrame[]
  /** The initial constrained value, at the plates' full sizes (a subsample's values repeated periodically). */
  readonly init: Values
}

/** A bound as a number: a tensor bound would not outlive the prototype's trace. */
const plainBound = (name: string, b: tf.Tensor | number | undefined): number => {
  if (typeof b === 'number') return b
  if (b !== undefined && b.size === 1) return b.dataSync()[0]!
  throw new InvalidArgumentError(`autoguide: site '${name}' has an interval support whose bounds are tensors of more than one element (${b === undefined ? 'none' : `shape [${b.shape.join(', ')}]`}); the autoguides take intervals with one low and one high bound`)
}

/** Tensor-free supports: interval bounds read back to numbers, through independent wrappers. */
const plainSupport = (name: string, c: Constraint): Constraint => {
  if (c._tag === 'independent' && c.base !== undefined) return constraints.independent(plainSupport(name, c.base), c.eventDims - c.base.eventDims)
  return c._tag === 'interval' ? constraints.interval(plainBound(name, c.low), plainBound(name, c.high)) : c
}

/** `v` repeated periodically along `axis` from its length to `size` (Pyro's periodic_repeat). */
const periodicRepeat = (v: tf.Tensor, axis: number, size: number): tf.Tensor => {
  const n = v.shape[axis]!
  if (n === size) return v
  const reps = Math.ceil(size / n)
  const tiled = tf.concat(Array.from({ length: reps }, () => v), axis)
  return tf.slice(tiled, Array(v.rank).fill(0), tiled.shape.map((d, i) => i === axis ? size : -1))
}

/** The init value of a site, at its plates' full sizes. */
const fullInit = (site: SampleSite, value: tf.Tensor): Values => tf.tidy(() => {
  const batchRank = site.dist.batchShape.length
  const full = vectorised(site.plates).reduce((v, p) => periodicRepeat(v, batchRank + p.dim, p.size), value)
  return { data: full.dataSync() as Float32Array, shape: full.shape }
})

/**
 * Traces `model(...args)` once (prior draws, seed 0, params at their initial values) and returns
 * its latent sites in order, with initial values from `init`.
 *
 * @example const sites = prototypeOf(model, [x], initToMedian())
 */
export const prototypeOf = <Args extends readonly unknown[]>(model: ProgramFn<Args>, args: Args, init: InitStrategy): LatentProto[] => {
  let sites: LatentProto[] = []
  tf.tidy(() => { sites = latentProtos(traceProgram(model(...args), [seed(0)]).trace, init) })
  return sites
}

/** The latent sites of a prototype trace, as data. */
const latentProtos = (trace: Trace, init: InitStrategy): LatentProto[] =>
  trace.sites.flatMap((s): LatentProto[] => {
    if (s._tag !== 'Sample' || s.kind !== 'latent') return []
    const support = plainSupport(s.name, s.dist.support)
    if (support.eventDims > s.dist.eventShape.length && support._tag !== 'independent') {
      throw new InvalidArgumentError(`autoguide: site '${s.name}' has support ${support.describe} over ${support.eventDims} dims but its distribution ${s.dist.name} has ${s.dist.eventShape.length} event dims`)
    }
    return [{
      name: s.name, shape: s.value.shape, eventDims: s.dist.eventShape.length, support,
      plates: vectorised(s.plates), init: fullInit(s, init(s)),
    }]
  })

/** A site's support with its independent wrappers removed (the elementwise or event constraint underneath). */
export const baseSupport = (c: Constraint): Constraint => c._tag === 'independent' && c.base !== undefined ? baseSupport(c.base) : c
