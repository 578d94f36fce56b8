/**
 * From traced sites to named log-factors and back: a site's elementwise
 * log-density becomes a {@link Named} tensor whose axes are its plates and the
 * enumerated variables it carries (read from the dims the enumeration handler
 * recorded for the site), and an expected cost with only plate axes left goes
 * back to the positional layout the score-function terms use.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { PlateFrame } from '../dsl/messages.js'
import { showShape } from '../errors.js'
import { applyMask, sampleLogProb } from './log-joint.js'
import { addNamed, alignTo, enumAxis, isEnumAxis, plateAxis, sumOver } from './named-tensor.js'
import type { Named } from './named-tensor.js'
import type { LogFactor } from './enum-contract.js'
import type { PlateTerm } from './plate-costs.js'
import { SiteError } from './site-error.js'
import type { FactorSite, SampleSite, Trace } from './trace.js'
import { latents } from './trace.js'
import type { Warn } from './warnings.js'

/** The vectorised plates of a trace pair, by dim and by name. */
export interface PlateIndex {
  readonly byDim: ReadonlyMap<number, PlateFrame>
  readonly byName: ReadonlyMap<string, PlateFrame>
  /** The plate depth (plates and particles): enumeration dims start at −(depth + 1). */
  readonly depth: number
}

/** The plates of traces, indexed. @example plateIndex([q, p], 1) */
export const plateIndex = (traces: readonly Trace[], depth: number): PlateIndex => {
  const frames = traces.flatMap((t) => t.sites.flatMap((s) => s._tag === 'Deterministic' ? [] : s.plates.filter((p) => p.iteration === undefined)))
  return { byDim: new Map(frames.map((f) => [f.dim, f])), byName: new Map(frames.map((f) => [f.name, f])), depth }
}

/** Names the axis at `dim` of a site's log-density, or throws a {@link SiteError} saying why it cannot be named. */
const axisName = (site: SampleSite | FactorSite, dim: number, size: number, plates: PlateIndex, warn: Warn | undefined): string => {
  if (dim >= -plates.depth) {
    const own = site.plates.find((p) => p.iteration === undefined && p.dim === dim)
    if (own !== undefined) return plateAxis(own.name)
    const other = plates.byDim.get(dim)
    if (other === undefined) throw new SiteError(`site '${site.name}': its log-density has size ${size} at batch dim ${dim}, which no plate holds; a batched site must sit in a plate of that size (or give maxPlateNesting if a plate was missed)`)
    warn?.({ cause: 'outside-plate', message: `site '${site.name}' is not in plate '${other.name}' but its values vary along that plate's dim ${dim} (size ${size}); it depends on a plate it is not in. Put the site in plate '${other.name}'` })
    return plateAxis(other.name)
  }
  const v = site.enumeration?.visible.get(dim)
  if (v === undefined || v.size !== size) {
    throw new SiteError(`site '${site.name}': its log-density has size ${size} at dim ${dim}, left of the plates, where ${v === undefined ? 'no enumerated variable is visible to it' : `the enumerated variable '${v.name}' has ${v.size} values`}; an enumerated value must be used by broadcasting (its enumeration dim kept in place), not reshaped, indexed or summed over. If a value was read beyond its markov history, widen the history`)
  }
  return enumAxis(v.name)
}

/**
 * A site's masked (unscaled) elementwise log-density as a named log-factor, with the plates it sits
 * in; a sample site's own density is `sampleLogProb`, a factor's its log-weight.
 *
 * @example siteFactor(site, index, warn)
 */
export const siteFactor = (site: SampleSite | FactorSite, plates: PlateIndex, warn?: Warn): LogFactor => {
  const lp = applyMask(site._tag === 'Factor' ? site.logWeight : sampleLogProb(site), site.mask)
  const r = lp.rank
  const kept = lp.shape.flatMap((size, i) => size === 1 ? [] : [{ size, name: axisName(site, i - r, size, plates, warn) }])
  const dup = kept.find((a, i) => kept.findIndex((b) => b.name === a.name) !== i)
  if (dup !== undefined) throw new SiteError(`site '${site.name}': its log-density of shape ${showShape(lp.shape)} carries ${dup.name.slice(dup.name.indexOf(':') + 1)} on two dims; a value read beyond its markov history shares a dim with a newer variable: widen the history`)
  const value = kept.length === r ? lp : tf.reshape(lp, kept.map((a) => a.size))
  const ordinal = new Set([...site.plates.filter((p) => p.iteration === undefined).map((p) => p.name), ...kept.filter((a) => !isEnumAxis(a.name)).map((a) => a.name.slice(6))])
  return { name: site.name, named: { value, dims: kept.map((a) => a.name) }, ordinal, scale: site.scale }
}

/**
 * What the model's contraction starts from: a log-factor per sample and factor site of the model's
 * trace, and the axes of its model-enumerated variables (the ones `contractModel` sums out).
 *
 * @example const { factors, sumVars } = modelFactors(p, plates); contractModel(factors, sumVars, new Map())
 */
export const modelFactors = (p: Trace, plates: PlateIndex, warn?: Warn): { readonly factors: LogFactor[]; readonly sumVars: Set<string> } => ({
  factors: p.sites.flatMap((s) => s._tag === 'Deterministic' ? [] : [siteFactor(s, plates, warn)]),
  sumVars: new Set(latents(p).flatMap((s) => s.enumeration?.own?.side === 'model' ? [enumAxis(s.name)] : [])),
})

/**
 * E_q over the guide-enumerated variables a cost holds: Σ over their values of Π q(values) · cost,
 * with q the guide's normalised log-densities (`guideLogQ`, by axis) of those variables and of the
 * enumerated variables their own q depends on. Plate axes stay.
 *
 * @example expectUnderGuide(cost, logQ)
 */
export const expectUnderGuide = (cost: Named, guideLogQ: ReadonlyMap<string, Named>): Named => {
  const needed = new Set(cost.dims.filter((d) => guideLogQ.has(d)))
  for (let grew = true; grew;) {
    grew = false
    for (const w of [...needed]) for (const d of guideLogQ.get(w)!.dims) if (guideLogQ.has(d) && !needed.has(d)) { needed.add(d); grew = true }
  }
  if (needed.size === 0) return cost
  const logw = addNamed([...needed].map((w) => guideLogQ.get(w)!))
  const dims = [...new Set([...cost.dims, ...logw.dims])]
  const weighted = { value: tf.mul(tf.exp(alignTo(logw, dims)), alignTo(cost, dims)), dims }
  return sumOver(weighted, [...needed])
}

/**
 * A cost with only plate axes left, as a {@link PlateTerm}: rank `depth`, each plate's axis at
 * depth + dim (size 1 where the cost does not vary).
 *
 * @example toPlateTerm('x', expected, plates)
 */
export const toPlateTerm = (name: string, cost: Named, plates: PlateIndex): PlateTerm => {
  const frames = cost.dims.map((d) => {
    const f = plates.byName.get(d.slice(6))
    if (!d.startsWith('plate:') || f === undefined) throw new SiteError(`site(s) ${name}: after the expectations a cost still varies along '${d}'; an enumerated variable was used where no expectation or sum can reach it`)
    return f
  })
  const order = Array.from({ length: plates.depth }, (_, i) => i - plates.depth)
  const layout = order.map((dim) => frames.find((f) => f.dim === dim)?.name ?? `_unused${dim}`)
  const value = plates.depth === 0 ? cost.value : alignTo(cost, layout.map((n) => n.startsWith('_unused') ? n : plateAxis(n)))
  return { name, plates: frames, value }
}
