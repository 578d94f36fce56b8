/**
 * The score-function surrogate of non-reparameterised guide sites, as Pyro's
 * Trace_ELBO and TraceGraph_ELBO build it: for each such site s,
 * Σ log q_s · ⟂(cost_s − b_s), where cost_s is the bound's terms summed to s's
 * plates (element i of a plate sees only element i's costs) — every term
 * (Trace_ELBO) or only the terms downstream of s (TraceGraph_ELBO). Scale enters
 * once, in the cost; log q_s is masked but not scaled.
 */
import * as tf from '@tensorflow/tfjs-core'
import { stopGradient } from '../backend/gradient.js'
import type { PlateFrame } from '../dsl/messages.js'
import { costAt, plateTerm } from './plate-costs.js'
import type { PlateTerm } from './plate-costs.js'
import { showShape } from '../errors.js'
import { SiteError } from './site-error.js'
import type { SampleSite, Trace } from './trace.js'

/** A term of the bound with where it came from: the trace and the site's position in it. */
export interface CostNode {
  readonly side: 'model' | 'guide'
  readonly index: number
  readonly term: PlateTerm
}

/** What a decaying-average baseline saw this step: the site's mean cost per plate element. */
export interface BaselineSeen {
  readonly site: string
  readonly beta: number
  readonly meanCost: tf.Scalar
}

/**
 * Whether a site of plates `later` depends on one of plates `earlier` that ran before it: not when
 * the two sit in different iterations of one sequential plate (Pyro's dense-graph rule).
 */
const dependent = (earlier: readonly PlateFrame[], later: readonly PlateFrame[]): boolean =>
  !earlier.some((e) => e.iteration !== undefined && later.some((l) => l.name === e.name && l.iteration !== undefined && l.iteration !== e.iteration))

const platesAt = (trace: Trace, index: number): readonly PlateFrame[] => {
  const s = trace.sites[index]!
  return s._tag === 'Deterministic' ? [] : s.plates
}

/** The sites downstream of a guide site: guide sites (both their terms count) and model-only children (their log p counts). */
interface Downstream { readonly guide: ReadonlySet<string>; readonly model: ReadonlySet<string> }

/**
 * The sites downstream of guide site `s` (itself included): the guide sites after it that depend on
 * it or on one of its downstream sites, then the model sites after one of those in the model's order
 * that depend on it — Pyro's TraceGraph_ELBO downstream costs.
 */
const downstreamOf = (s: SampleSite, q: Trace, p: Trace): Downstream => {
  const start = q.sites.indexOf(s)
  const inGuide: number[] = [start]
  for (let j = start + 1; j < q.sites.length; j++) {
    if (q.sites[j]!._tag === 'Deterministic') continue
    if (inGuide.some((k) => dependent(platesAt(q, k), platesAt(q, j)))) inGuide.push(j)
  }
  const guide = new Set(inGuide.map((k) => q.sites[k]!.name))
  const modelIndex = new Map(p.sites.map((site, i) => [site.name, i]))
  const roots = [...guide].flatMap((n) => modelIndex.has(n) ? [modelIndex.get(n)!] : [])
  const model = new Set(p.sites.flatMap((site, j) =>
    site._tag !== 'Deterministic' && !guide.has(site.name) && roots.some((k) => k < j && dependent(platesAt(p, k), site.plates)) ? [site.name] : []))
  return { guide, model }
}

const isDownstream = (d: Downstream) => (n: CostNode): boolean =>
  d.guide.has(n.term.name) || (n.side === 'model' && d.model.has(n.term.name))

/** A network baseline's output at `s`, checked to broadcast to the site's cost (one entry per plate element at most). */
const netBaseline = (s: SampleSite, net: { apply: (x: tf.Tensor) => tf.Tensor }, input: tf.Tensor, cost: tf.Tensor): tf.Tensor => {
  const b = net.apply(input)
  const fits = b.rank <= cost.rank && b.shape.every((d, i) => d === 1 || d === cost.shape[cost.rank - b.rank + i])
  if (!fits) throw new SiteError(`site '${s.name}': the baseline network's output has shape ${showShape(b.shape)}, which does not broadcast to the site's cost of shape ${showShape(cost.shape)} (one entry per element of its plates, 1 elsewhere); give at most one baseline per plate element`)
  return b
}

/**
 * The baseline subtracted from `cost` at `s` (no gradient), what a decaying average saw (its mean
 * cost), and a network baseline's regression term −Σ (b − ⟂cost)² (its gradient trains the network).
 */
const baselineOf = (s: SampleSite, cost: tf.Tensor, averages: ReadonlyMap<string, number>): { readonly b: number | tf.Tensor; readonly seen?: BaselineSeen; readonly fit?: tf.Scalar } => {
  const spec = s.options.baseline
  if (spec === undefined) return { b: 0 }
  if ('value' in spec) return { b: spec.value }
  if ('net' in spec) {
    const b = netBaseline(s, spec.net, spec.input, cost)
    return { b: stopGradient(b), fit: tf.neg(tf.sum(tf.square(tf.sub(b, stopGradient(cost))))) as tf.Scalar }
  }
  const seen = { site: s.name, beta: spec.beta ?? 0.9, meanCost: tf.mean(stopGradient(cost)) as tf.Scalar }
  return { b: averages.get(s.name) ?? 0, seen }
}

/** Options of {@link scoreFunctionTerms}. */
export interface ScoreOptions {
  /** Only the costs downstream of each site (TraceGraph_ELBO) instead of all (Trace_ELBO). */
  readonly downstream: boolean
  /** The plate depth of the trace pair. */
  readonly depth: number
  /** Decaying-average baselines by site, as `svi` keeps them. */
  readonly averages: ReadonlyMap<string, number>
  /** log q of a scored site, elementwise (already computed for the bound). */
  readonly logProbOf: (site: SampleSite) => tf.Tensor
}

/**
 * The surrogate terms Σ_i log q_s[i] · ⟂(cost_s[i] − b_s) of the score-function sites `scored`,
 * given every term of the bound (`nodes`), and what their decaying-average baselines saw.
 *
 * @example const { terms } = scoreFunctionTerms(scored, nodes, q, p, { downstream: false, depth, averages, logProbOf })
 */
export const scoreFunctionTerms = (scored: readonly SampleSite[], nodes: readonly CostNode[], q: Trace, p: Trace, opts: ScoreOptions): { readonly terms: tf.Scalar[]; readonly seen: BaselineSeen[] } => {
  const terms: tf.Scalar[] = []
  const seen: BaselineSeen[] = []
  for (const s of scored) {
    const costs = (opts.downstream ? nodes.filter(isDownstream(downstreamOf(s, q, p))) : nodes).map((n) => n.term)
    const cost = costAt(costs, s.plates, opts.depth)
    const logq = plateTerm(s.name, opts.logProbOf(s), 1, s.mask, s.plates, opts.depth).value
    const base = baselineOf(s, cost, opts.averages)
    if (base.seen !== undefined) seen.push(base.seen)
    if (base.fit !== undefined) terms.push(base.fit)
    terms.push(tf.sum(tf.mul(logq, stopGradient(base.b === 0 ? cost : tf.sub(cost, base.b)))) as tf.Scalar)
  }
  return { terms, seen }
}
