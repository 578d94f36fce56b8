/**
 * The evidence lower bound, ELBO = E_q[log p(x, z) − log q(z | x)]:
 * trace the guide, replay the model on it, sum log p − log q over the sites.
 * Pathwise gradients where the guide is reparameterised; where it is not, the
 * score-function surrogate of Pyro's Trace_ELBO (cost summed to each site's
 * plates) or, with `downstream: true`, of its TraceGraph_ELBO (only the costs
 * downstream of the site); the analytic KL from the registry with `kl: 'auto'`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { subSeed } from '../backend/seed.js'
import { kl as klRegistry } from '../distributions/kl.js'
import { InvalidArgumentError, sameShape } from '../errors.js'
import { SiteError } from './interpreter.js'
import { factorTerm, sampleLogProb, scaledSum, siteTerm } from './log-joint.js'
import type { Loss, LossContext, LossEstimate, ProgramFn } from './loss.js'
import { negate, plateDepthOf, plateTerm } from './plate-costs.js'
import { checkParticleOptions, plateDepthMemo, vectorizedTraces } from './particles.js'
import { warnGuideOnlyPlates, warnKlSiteOrder } from './run-checks.js'
import { traceReplayed } from './replayed.js'
import { scoreFunctionTerms } from './score-function.js'
import type { BaselineSeen, CostNode } from './score-function.js'
import { latents } from './trace.js'
import type { SampleSite, Trace } from './trace.js'

/** Options of {@link elbo}. */
export interface ElboOptions {
  /** Particles averaged per estimate (default 1). */
  readonly numParticles?: number
  /** 'auto': analytic KL(q ‖ p) at reparameterised sites where the registry has one; 'mc' (default): Monte Carlo. */
  readonly kl?: 'auto' | 'mc'
  /**
   * Score-function sites see only the costs downstream of them (Pyro's TraceGraph_ELBO: lower
   * variance) instead of every cost in their plates (Trace_ELBO, the default).
   */
  readonly downstream?: boolean
  /** Reject guides with non-reparameterised latent sites instead of using the score function. */
  readonly reparameterizedOnly?: boolean
  /**
   * Run the particles in one pass along a particle dim left of every plate (default true; Pyro's
   * `vectorize_particles`); `false` runs the program once per particle, for programs whose own
   * shape logic cannot broadcast over that dim.
   */
  readonly vectorizeParticles?: boolean
  /** The program's plate nesting (Pyro's max_plate_nesting), where the particle dim goes; default: read from one traced particle. */
  readonly maxPlateNesting?: number
}

/** The largest size of a subsampled plate in a trace (the data size it stands for). */
export const subsampledSize = (trace: Trace): number | undefined =>
  trace.sites.reduce<number | undefined>((n, s) => s._tag === 'Deterministic' ? n
    : s.plates.reduce<number | undefined>((m, f) => f.subsampleSize < f.size ? Math.max(m ?? 0, f.size) : m, n), undefined)

type Resolved = Required<Omit<ElboOptions, 'maxPlateNesting'>>

const ELBO_OPTIONS: ReadonlySet<string> = new Set(['numParticles', 'kl', 'downstream', 'reparameterizedOnly', 'vectorizeParticles', 'maxPlateNesting'])

/** Unknown keys, a kl other than 'auto' | 'mc', or a flag that is not a boolean are errors naming the option. */
const checkElboOptions = (options: ElboOptions): void => {
  if ('baseline' in options) {
    throw new InvalidArgumentError('elbo: the baseline is an option of each score-function site now, not of the estimator: sample(name, dist, { baseline: { useDecayingAverage: true, beta: 0.9 } })')
  }
  const unknown = Object.keys(options).filter((k) => !ELBO_OPTIONS.has(k))
  if (unknown.length > 0) throw new InvalidArgumentError(`elbo: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')}; the options are ${[...ELBO_OPTIONS].map((k) => `'${k}'`).join(', ')}`)
  if (options.kl !== undefined && options.kl !== 'auto' && options.kl !== 'mc') throw new InvalidArgumentError(`elbo: kl must be 'auto' or 'mc'; got ${JSON.stringify(options.kl)}`)
  for (const flag of ['downstream', 'reparameterizedOnly', 'vectorizeParticles'] as const) {
    const v: unknown = options[flag]
    if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError(`elbo: ${flag} must be true or false; got ${JSON.stringify(v)}`)
  }
}

/** Σ terms, in one `AddN` (a lone term as it is; no terms: 0). */
const total = (xs: readonly tf.Scalar[]): tf.Scalar => xs.length === 0 ? tf.scalar(0) : xs.length === 1 ? xs[0]! : tf.addN([...xs]) as tf.Scalar

/** Whether two site scales or masks are equal: the same value (numbers), or tensors of one shape and equal elements. */
const sameFactor = (a: number | tf.Tensor | undefined, b: number | tf.Tensor | undefined): boolean => {
  if (a === b) return true
  if (a === undefined || b === undefined || typeof a === 'number' || typeof b === 'number') return false
  return sameShape(a.shape, b.shape) && tf.tidy(() => tf.all(tf.equal(a, b)).dataSync()[0] === 1)
}

/** Whether two sites weigh their log-densities alike: the same scale and the same mask. */
const sameWeighting = (a: SampleSite, b: SampleSite): boolean => sameFactor(a.scale, b.scale) && sameFactor(a.mask, b.mask)

/**
 * KL(q ‖ p) at a latent site when `kl: 'auto'`, the guide's site is reparameterised, both sites carry
 * the same scale and mask (else scale·log p − scale′·log q is no KL), and the registry has the pair.
 */
const analyticKl = (site: SampleSite, guideSite: SampleSite, analytic: boolean): tf.Tensor | undefined =>
  analytic && guideSite.dist.reparameterized && sameWeighting(site, guideSite) ? klRegistry(guideSite.dist, site.dist) : undefined

/** The bound of a trace pair as one scalar: every guide site is reparameterised (the fast path). */
const pathwiseBound = (p: Trace, q: Trace, analytic: boolean): tf.Scalar => {
  const terms: tf.Scalar[] = []
  for (const site of p.sites) {
    if (site._tag === 'Factor') terms.push(factorTerm(site))
    else if (site._tag === 'Sample' && site.kind === 'observed') terms.push(siteTerm(site))
    else if (site._tag === 'Sample') {
      const g = q.byName.get(site.name) as SampleSite
      const d = analyticKl(site, g, analytic)
      terms.push(d !== undefined ? tf.neg(scaledSum(d, site.scale, site.mask)) as tf.Scalar : tf.sub(siteTerm(site), siteTerm(g)) as tf.Scalar)
    }
  }
  // A guide's factor, observation or auxiliary latent (no model site pairs with it) is part of log q (as in Pyro): it enters with a minus sign.
  for (const g of q.sites) {
    if (g._tag === 'Factor') terms.push(tf.neg(factorTerm(g)) as tf.Scalar)
    else if (g._tag === 'Sample' && (g.kind === 'observed' || g.options.auxiliary === true)) terms.push(tf.neg(siteTerm(g)) as tf.Scalar)
  }
  return total(terms)
}

/**
 * Every term of the bound kept along its plates, with its side and position (for the score function),
 * and the guide's latent log-densities by site (the score terms reuse them).
 */
const costNodes = (p: Trace, q: Trace, depth: number, analytic: boolean): { nodes: CostNode[]; guideLogProbs: Map<string, tf.Tensor> } => {
  const nodes: CostNode[] = []
  const guideLogProbs = new Map<string, tf.Tensor>()
  const klSites = new Set<string>()
  p.sites.forEach((site, index) => {
    if (site._tag === 'Deterministic') return
    const at = (lp: tf.Tensor) => plateTerm(site.name, lp, site.scale, site.mask, site.plates, depth)
    if (site._tag === 'Factor') return nodes.push({ side: 'model', index, term: at(site.logWeight) })
    const d = site.kind === 'latent' ? analyticKl(site, q.byName.get(site.name) as SampleSite, analytic) : undefined
    if (d !== undefined) klSites.add(site.name)
    return nodes.push({ side: 'model', index, term: d !== undefined ? negate(at(d)) : at(sampleLogProb(site)) })
  })
  q.sites.forEach((g, index) => {
    if (g._tag === 'Deterministic' || (g._tag === 'Sample' && g.kind === 'latent' && klSites.has(g.name))) return
    const lp = g._tag === 'Factor' ? g.logWeight : sampleLogProb(g)
    if (g._tag === 'Sample' && g.kind === 'latent') guideLogProbs.set(g.name, lp)
    nodes.push({ side: 'guide', index, term: negate(plateTerm(g.name, lp, g.scale, g.mask, g.plates, depth)) })
  })
  return { nodes, guideLogProbs }
}

/** The estimate of a traced pair; the scored sites' own log q terms carry no pathwise gradient (their score term does). */
const fromTraces = (p: Trace, q: Trace, ctx: LossContext, opts: Resolved): LossEstimate => {
  const analytic = opts.kl === 'auto'
  if (ctx.warn !== undefined) {
    warnGuideOnlyPlates(p, q, ctx.warn)
    if (analytic) warnKlSiteOrder(p, q, ctx.warn)
  }
  const scored = latents(q).filter((g) => !g.dist.reparameterized)
  if (opts.reparameterizedOnly && scored.length > 0) {
    throw new SiteError(`guide site '${scored[0]!.name}' (${scored[0]!.dist.name}) is not reparameterised, but this ELBO was built with reparameterizedOnly: true; use a reparameterised or relaxed distribution, or drop the option to use the score function`)
  }
  if (scored.length === 0) {
    const bound = pathwiseBound(p, q, analytic)
    return { surrogate: bound, bound, baselines: [], dataSize: subsampledSize(p) }
  }
  const depth = plateDepthOf([q, p])
  const { nodes, guideLogProbs } = costNodes(p, q, depth, analytic)
  const sums = nodes.map((n) => tf.sum(n.term.value) as tf.Scalar)
  const scoredNames = new Set(scored.map((g) => g.name))
  const pathwise = sums.filter((_, k) => !(nodes[k]!.side === 'guide' && scoredNames.has(nodes[k]!.term.name)))
  const score = scoreFunctionTerms(scored, nodes, q, p, { downstream: opts.downstream, depth, averages: ctx.baselines, logProbOf: (g) => guideLogProbs.get(g.name)! })
  return { surrogate: total([...pathwise, ...score.terms]), bound: total(sums), baselines: score.seen, dataSize: subsampledSize(p) }
}

/** One particle of the loop: its own seed, subSeed(seed, i). */
const particle = <Args extends readonly unknown[]>(model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, ctx: LossContext, opts: Resolved, i: number): LossEstimate => {
  const { guide: q, model: p } = traceReplayed(model, guide, args, ctx.handlers, subSeed(ctx.seed, i) ?? 0)
  return fromTraces(p, q, ctx, opts)
}

const mean = (xs: readonly tf.Scalar[]): tf.Scalar => xs.length === 1 ? xs[0]! : tf.div(total(xs), xs.length) as tf.Scalar

/** The particles' baseline observations averaged per site. */
const meanSeen = (parts: readonly LossEstimate[]): BaselineSeen[] =>
  parts[0]!.baselines.map((b, k) => ({ ...b, meanCost: mean(parts.map((r) => r.baselines[k]!.meanCost)) }))

/**
 * The ELBO estimator.
 *
 * ELBO = E_q[Σ_sites scale · (log p − log q)] (+ model factors, − guide factors and auxiliary sites' log q), with −KL(q ‖ p) in place of
 * log p − log q at a reparameterised latent site when `kl: 'auto'` and the registry has the pair.
 * Each non-reparameterised guide site s adds the score-function surrogate (Pyro's Trace_ELBO)
 * Σ_i log q_s[i] · ⟂(cost_s[i] − b_s), ⟂ = stop-gradient, where cost_s[i] is the bound's terms summed
 * to s's plates (element i of s's plates sees its own terms and the terms outside those plates) —
 * or, with `downstream: true`, only the terms downstream of s (TraceGraph_ELBO) — and b_s is the
 * site's baseline (`sample(name, d, { baseline })`; none by default). Its value is the ELBO's; only
 * its gradient differs.
 *
 * @example
 * const loss = elbo({ kl: 'auto', numParticles: 2 })
 * await svi({ optimizer: tf.train.adam(1e-3), loss }).fit(model, guide, data)
 */
export const elbo = (options: ElboOptions = {}): Loss => {
  const opts: Resolved = { numParticles: 1, kl: 'mc', downstream: false, reparameterizedOnly: false, vectorizeParticles: true, ...options }
  checkElboOptions(options)
  checkParticleOptions('elbo', opts.numParticles, options.maxPlateNesting)
  const k = opts.numParticles
  const depthOf = plateDepthMemo(options.maxPlateNesting)
  return {
    _tag: 'Loss', name: `elbo(${opts.kl === 'auto' ? 'analytic KL' : 'Monte Carlo'}${opts.downstream ? ', downstream costs' : ''}${k > 1 ? `, ${k} particles${opts.vectorizeParticles ? '' : ' in a loop'}` : ''})`,
    estimate: (model, guide, args, ctx) => {
      if (k > 1 && opts.vectorizeParticles) {
        const { guide: q, model: p } = vectorizedTraces(model, guide, args, ctx, { k, depth: depthOf(model, guide, args, ctx), estimator: 'elbo' })
        const r = fromTraces(p, q, ctx, opts)
        const bound = tf.div(r.bound, k) as tf.Scalar
        return { ...r, bound, surrogate: r.surrogate === r.bound ? bound : tf.div(r.surrogate, k) as tf.Scalar }
      }
      const parts = Array.from({ length: k }, (_, i) => particle(model, guide, args, ctx, opts, i))
      const bound = mean(parts.map((r) => r.bound))
      const pathwise = parts.every((r) => r.surrogate === r.bound)
      return { surrogate: pathwise ? bound : mean(parts.map((r) => r.surrogate)), bound, baselines: meanSeen(parts), dataSize: parts[0]!.dataSize }
    },
  }
}
