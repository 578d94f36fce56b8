/**
 * Importance log weights kept along plates, as Pyro's RenyiELBO keeps them:
 * log w = Σ_sites scale · (log p − log q), each site's term summed over every
 * plate that is not common to all sites, so one weight remains per element of
 * the plates every site shares (a data plate when nothing is global), and one
 * per particle. Shared by `iwae` and `logMarginal`.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { PlateFrame } from '../dsl/messages.js'
import { sampleLogProb } from './log-joint.js'
import { costAt, negate, plateDepthOf, plateTerm, vectorised } from './plate-costs.js'
import type { PlateTerm } from './plate-costs.js'
import type { Trace } from './trace.js'
import { latents } from './trace.js'
import { contractModel } from './enum-contract.js'
import { modelFactors, plateIndex, toPlateTerm } from './enum-factors.js'
import { SiteError } from './site-error.js'

/** The log weights of a trace pair: `value` has one axis per plate of `plates` (left to right), in that order. */
export interface LogWeights {
  readonly value: tf.Tensor
  /** The plates common to every site, leftmost dim first. */
  readonly plates: readonly PlateFrame[]
}

/**
 * The model's terms with its enumerated sites summed out (enum-contract.ts), kept along their plates:
 * log Σ_y p(x, y, z) in place of log p(x, y, z). A guide-enumerated site has no importance weight.
 */
const contractedModelTerms = (p: Trace, q: Trace, depth: number): PlateTerm[] => {
  const g = latents(q).find((s) => s.enumeration?.own !== undefined)
  if (g !== undefined) throw new SiteError(`guide site '${g.name}' is enumerated; importance weights (iwae, logMarginal) need a draw from the guide there: sample it, or use enumElbo`)
  const plates = plateIndex([q, p], depth)
  const { factors, sumVars } = modelFactors(p, plates)
  return contractModel(factors, sumVars, new Map()).map((f) => toPlateTerm(f.name, f.named, plates))
}

const enumerates = (p: Trace): boolean => p.sites.some((s) => s._tag === 'Sample' && s.enumeration?.own?.side === 'model')

/** Every site's term: model sample and factor sites (+; model-enumerated ones summed out), guide latents (auxiliary ones included) and factors (−), kept along their plates. */
const weightTerms = (p: Trace, q: Trace, depth: number): PlateTerm[] => [
  ...(enumerates(p) ? contractedModelTerms(p, q, depth) : p.sites.flatMap((s): PlateTerm[] =>
    s._tag === 'Sample' ? [plateTerm(s.name, sampleLogProb(s), s.scale, s.mask, s.plates, depth)]
      : s._tag === 'Factor' ? [plateTerm(s.name, s.logWeight, s.scale, s.mask, s.plates, depth)] : [])),
  ...q.sites.flatMap((s): PlateTerm[] =>
    s._tag === 'Factor' ? [negate(plateTerm(s.name, s.logWeight, s.scale, s.mask, s.plates, depth))]
      : s._tag === 'Sample' ? [negate(plateTerm(s.name, sampleLogProb(s), s.scale, s.mask, s.plates, depth))] : []),
]

const key = (p: PlateFrame): string => `${p.name}@${p.dim}`

/** The vectorised plates every term has (by name and dim), leftmost dim first; `keep` filters them. */
const commonPlates = (terms: readonly PlateTerm[], keep: (p: PlateFrame) => boolean): PlateFrame[] => {
  if (terms.length === 0) return []
  const counts = new Map<string, { frame: PlateFrame; n: number }>()
  for (const t of terms) for (const f of vectorised(t.plates)) counts.set(key(f), { frame: f, n: (counts.get(key(f))?.n ?? 0) + 1 })
  return [...counts.values()].filter((c) => c.n === terms.length && keep(c.frame)).map((c) => c.frame).sort((a, b) => a.dim - b.dim)
}

/**
 * The log weights of a guide trace `q` and the model trace `p` replayed on it, one per element of
 * the plates common to all sites (those `keep` accepts; the others are summed like any plate).
 *
 * @example logWeightsOf(p, q, () => true)   // { value: [N], plates: [data] } when every site is in plate 'data'
 */
export const logWeightsOf = (p: Trace, q: Trace, keep: (p: PlateFrame) => boolean): LogWeights => {
  const depth = plateDepthOf([q, p])
  const terms = weightTerms(p, q, depth)
  const plates = commonPlates(terms, keep)
  const summed = costAt(terms, plates, depth)
  return { value: tf.reshape(summed, plates.map((f) => f.subsampleSize)), plates }
}
