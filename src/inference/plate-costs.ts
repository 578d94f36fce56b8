/**
 * Log-density terms kept along their plates (Pyro's MultiFrameTensor): every
 * estimator reduces a site's log-density to one axis per plate dim, so that a
 * score-function site can sum the cost to its own plates (element i of a plate
 * sees only element i's costs) and IWAE can keep weights apart along plates.
 */
import * as tf from '@tensorflow/tfjs-core'
import { sameShape } from '../errors.js'
import type { PlateFrame } from '../dsl/messages.js'
import { applyMask } from './log-joint.js'
import { plateDepth } from './plate-dims.js'
import type { Trace } from './trace.js'

/**
 * One term of the bound: `value` has rank `depth` (the trace pair's plate depth); its axis
 * `depth + dim` has the plate's size for each vectorised plate of `plates`, and 1 elsewhere.
 */
export interface PlateTerm {
  readonly name: string
  readonly plates: readonly PlateFrame[]
  readonly value: tf.Tensor
}

/** The vectorised plates of a site (a sequential plate's iteration owns no dim). */
export const vectorised = (plates: readonly PlateFrame[]): PlateFrame[] => plates.filter((p) => p.iteration === undefined)

/**
 * The plate depth of traces: the number of rightmost batch dims their vectorised plates index
 * (Pyro's max_plate_nesting).
 *
 * @example plateDepthOf([guideTrace, modelTrace])   // 2 for a plate nested in another
 */
export const plateDepthOf = (traces: readonly Trace[]): number =>
  traces.reduce((m, t) => t.sites.reduce((n, s) => s._tag === 'Deterministic' ? n : Math.max(n, plateDepth(s.plates)), m), 0)

const samePlate = (a: PlateFrame, b: PlateFrame): boolean => a.name === b.name && a.dim === b.dim

/**
 * Sums `t` (…, batch dims) over every axis that is not one of `plates`' dims, leaving rank `depth`.
 *
 * @example keepPlateDims(lp, [dataFrame], 1)   // lp of shape [B, 7] inside plate 'data' at dim −2 … → [B]
 */
export const keepPlateDims = (t: tf.Tensor, plates: readonly PlateFrame[], depth: number): tf.Tensor => {
  const r = t.rank
  const kept = new Set(vectorised(plates).map((p) => r + p.dim).filter((a) => a >= 0))
  const axes = Array.from({ length: r }, (_, a) => a).filter((a) => !kept.has(a))
  const summed = axes.length === 0 ? t : tf.sum(t, axes, true)
  const tail = summed.shape.slice(Math.max(0, r - depth))
  const shape = [...Array<number>(depth - tail.length).fill(1), ...tail]
  return sameShape(shape, summed.shape) ? summed : tf.reshape(summed, shape)
}

/**
 * A site's elementwise log-density, masked (false → 0) and scaled, kept along its plates.
 *
 * @example plateTerm('x', lp, site.scale, site.mask, site.plates, depth)
 */
export const plateTerm = (name: string, lp: tf.Tensor, scale: number | tf.Tensor, mask: tf.Tensor | undefined, plates: readonly PlateFrame[], depth: number): PlateTerm => {
  const masked = applyMask(lp, mask)
  const scaled = scale === 1 ? masked : tf.mul(masked, scale)
  return { name, plates, value: keepPlateDims(scaled, plates, depth) }
}

/** −term. @example negate(term) */
export const negate = (t: PlateTerm): PlateTerm => ({ ...t, value: tf.neg(t.value) })

/**
 * A term summed over the plates not in `target` (their axes kept with size 1), so that it
 * broadcasts against a site of plates `target`: Pyro's `sum_to(cond_indep_stack)`.
 *
 * @example sumToPlates(term, guideSite.plates, depth)
 */
export const sumToPlates = (t: PlateTerm, target: readonly PlateFrame[], depth: number): tf.Tensor => {
  const axes = vectorised(t.plates).filter((p) => !target.some((q) => samePlate(p, q))).map((p) => depth + p.dim)
  return axes.length === 0 ? t.value : tf.sum(t.value, axes, true)
}

/**
 * Σ terms, each summed to the plates `target` (the cost a site of those plates sees): a tensor
 * of rank `depth` with the target plates' sizes on their axes; a scalar 0 for no terms.
 *
 * @example costAt(terms, site.plates, depth)
 */
export const costAt = (terms: readonly PlateTerm[], target: readonly PlateFrame[], depth: number): tf.Tensor =>
  terms.reduce<tf.Tensor | undefined>((acc, t) => {
    const v = sumToPlates(t, target, depth)
    return acc === undefined ? v : tf.add(acc, v)
  }, undefined) ?? tf.scalar(0)
