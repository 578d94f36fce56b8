/**
 * The ELBO with discrete latents summed out exactly (Pyro's TraceEnum_ELBO):
 * sites marked `{ enumerate: 'parallel' }` get their whole support along fresh
 * dims; model-enumerated variables are summed out of log p along the plate
 * structure (enum-contract.ts), guide-enumerated ones are averaged exactly under
 * q, and the remaining latents are Monte Carlo as in `elbo` (pathwise where
 * reparameterised, the score function otherwise).
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { contractModel } from './enum-contract.js'
import type { GuidePlates, LogFactor } from './enum-contract.js'
import { expectUnderGuide, modelFactors, plateIndex, siteFactor, toPlateTerm } from './enum-factors.js'
import type { PlateIndex } from './enum-factors.js'
import { enumState, enumerateSites } from './enumerate.js'
import type { SequentialRun } from './enumerate.js'
import type { Loss, LossContext, LossEstimate, ProgramFn } from './loss.js'
import { enumAxis } from './named-tensor.js'
import type { Named } from './named-tensor.js'
import { checkParticleOptions, plateDepthMemo, vectorizedTraces } from './particles.js'
import { traceReplayed } from './replayed.js'
import type { ReplayOptions } from './replayed.js'
import { subsampledSize } from './elbo.js'
import { scoreFunctionTerms } from './score-function.js'
import type { CostNode } from './score-function.js'
import { SiteError } from './site-error.js'
import { sampleLogProb } from './log-joint.js'
import { latents } from './trace.js'
import type { TfpplWarning } from './warnings.js'
import type { SampleSite, Trace } from './trace.js'
import { subSeed } from '../backend/seed.js'

/** Options of {@link enumElbo}. */
export interface EnumElboOptions {
  /** Particles averaged per estimate for the Monte Carlo sites (default 1). */
  readonly numParticles?: number
  /** Run the particles in one pass along a particle dim (default true), or one at a time. */
  readonly vectorizeParticles?: boolean
  /** The program's plate nesting (Pyro's max_plate_nesting): enumeration dims start left of it; default: read from one traced run. */
  readonly maxPlateNesting?: number
  /**
   * Warn ('no-enumerated-site') when an estimate meets no enumerated site (default true, as Pyro's
   * `strict_enumeration_warning`); false where that is expected, e.g. a semi-supervised model's
   * labelled batches, whose label is observed (Pyro's ss_vae example turns it off too).
   */
  readonly strictEnumerationWarning?: boolean
}

const OPTIONS: ReadonlySet<string> = new Set(['numParticles', 'vectorizeParticles', 'maxPlateNesting', 'strictEnumerationWarning'])

/** The guide's and model's traces of one estimate, with one enumeration state for both. */
const enumTraces = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, ctx: LossContext, at: { k: number; depth: number; vectorize: boolean; seed: number | undefined }, sequential: SequentialRun,
): { q: Trace; p: Trace; plates: PlateIndex } => {
  const particleDepth = at.k > 1 && at.vectorize ? at.depth + 1 : at.depth
  const state = enumState(particleDepth)
  const options: ReplayOptions = { guide: { last: [enumerateSites('guide', state, sequential)] }, model: { last: [enumerateSites('model', state)] } }
  const { guide: q, model: p } = at.k > 1 && at.vectorize
    ? vectorizedTraces(model, guide, args, ctx, { k: at.k, depth: at.depth, estimator: 'enumElbo' }, options)
    : traceReplayed(model, guide, args, ctx.handlers, at.seed, undefined, options)
  return { q, p, plates: plateIndex([q, p], particleDepth) }
}

/** Σ over every element of a cost. */
const total = (xs: readonly tf.Tensor[]): tf.Scalar => xs.length === 0 ? tf.scalar(0) : tf.addN(xs.map((x) => tf.sum(x))) as tf.Scalar

/** The guide's enumerated variables: normalised log q by axis, and the plates each lives in. */
const guideVariables = (q: Trace, plates: PlateIndex): { logQ: Map<string, Named>; livesIn: GuidePlates } => {
  const logQ = new Map<string, Named>()
  const livesIn = new Map<string, ReadonlySet<string>>()
  for (const g of latents(q)) {
    if (g.enumeration?.own === undefined) continue
    const f = siteFactor({ ...g, mask: undefined }, plates)
    logQ.set(enumAxis(g.name), f.named)
    livesIn.set(enumAxis(g.name), f.ordinal)
  }
  return { logQ, livesIn }
}

/** The guide's cost terms: −scale · log q of every sample site (enumerated, Monte Carlo, observed, auxiliary) and −scale · each factor. */
const guideCosts = (q: Trace, plates: PlateIndex): LogFactor[] =>
  q.sites.flatMap((g) => {
    if (g._tag === 'Deterministic') return []
    const f = siteFactor(g, plates)
    const s = f.scale
    return [{ ...f, named: { ...f.named, value: typeof s === 'number' ? tf.mul(f.named.value, -s) : tf.neg(tf.mul(f.named.value, s)) } }]
  })

/** One estimate from a traced pair: expected costs along their plates, and the score-function terms of Monte Carlo guide sites that are not reparameterised. */
const fromTraces = (q: Trace, p: Trace, plates: PlateIndex, ctx: LossContext): LossEstimate => {
  const guideVars = guideVariables(q, plates)
  const { factors, sumVars } = modelFactors(p, plates, ctx.warn)
  if (sumVars.size === 0 && guideVars.logQ.size === 0) {
    ctx.warn?.({ cause: 'no-enumerated-site', message: 'enumElbo found no site marked { enumerate: \'parallel\' } in the model or the guide; it is then the plain ELBO. Mark discrete sites sample(name, d, { enumerate: \'parallel\' }), or use elbo()' })
  }
  const model = contractModel(factors, sumVars, guideVars.livesIn)
  const costs = [...model.map((f) => ({ side: 'model' as const, f })), ...guideCosts(q, plates).map((f) => ({ side: 'guide' as const, f }))]
  const nodes: CostNode[] = costs.map(({ side, f }, index) => ({ side, index, term: toPlateTerm(f.name, expectUnderGuide(f.named, guideVars.logQ), plates) }))
  const scored = latents(q).filter((g) => g.enumeration?.own === undefined && !g.dist.reparameterized && g.options.auxiliary !== true && g.options.enumerate !== 'sequential')
  const bound = total(nodes.map((n) => n.term.value))
  if (scored.length === 0) return { surrogate: bound, bound, baselines: [], dataSize: subsampledSize(p) }
  const scoredNames = new Set(scored.map((g) => g.name))
  const pathwise = total(nodes.filter((n) => !(n.side === 'guide' && scoredNames.has(n.term.name))).map((n) => n.term.value))
  const score = scoreFunctionTerms(scored, nodes, q, p, { downstream: false, depth: plates.depth, averages: ctx.baselines, logProbOf: (g) => scoredLogProb(g, plates) })
  return { surrogate: tf.add(pathwise, total(score.terms)) as tf.Scalar, bound, baselines: score.seen, dataSize: subsampledSize(p) }
}

/** log q of a Monte Carlo score-function site, which must not vary with an enumerated variable. */
const scoredLogProb = (g: SampleSite, plates: PlateIndex): tf.Tensor => {
  const f = siteFactor({ ...g, mask: undefined }, plates)
  const e = f.named.dims.find((d) => d.startsWith('enum:'))
  if (e !== undefined) throw new SiteError(`guide site '${g.name}' is not reparameterised and its distribution depends on the enumerated variable '${e.slice(5)}'; enumElbo's score function covers sites outside enumeration only: enumerate '${g.name}' too, or make it reparameterised`)
  return toPlateTerm(g.name, f.named, plates).value
}

/** Runs of sequential enumeration above this are refused (each is a full run of the guide and the model). */
const MAX_SEQUENTIAL_RUNS = 1024

/** q of this run's sequentially enumerated guide values (1 when there are none): the weight of its estimate. */
const sequentialWeight = (q: Trace): tf.Scalar | undefined => {
  const sites = latents(q).filter((g) => g.options.enumerate === 'sequential')
  return sites.length === 0 ? undefined : tf.exp(tf.addN(sites.map((g) => tf.sum(sampleLogProb(g))))) as tf.Scalar
}

/**
 * Σ over every assignment of the guide's sequentially enumerated sites of q(assignment) · estimate:
 * the first run gives each site met its first value; each site met adds the runs for its other
 * values (Pyro's iter_discrete_traces). Without sequential sites, one run.
 */
const sequentially = (once: (run: SequentialRun) => { estimate: LossEstimate; weight: tf.Scalar | undefined }): LossEstimate => {
  const queue: ReadonlyMap<string, number>[] = [new Map()]
  const done: { estimate: LossEstimate; weight: tf.Scalar | undefined }[] = []
  while (queue.length > 0) {
    const assigned = queue.shift()!
    const run: SequentialRun = { assigned, met: new Map() }
    done.push(once(run))
    const met = [...run.met]
    met.forEach(([name, size], j) => {
      for (let value = 1; value < size; value++) queue.push(new Map([...assigned, ...met.slice(0, j).map(([n]) => [n, 0] as const), [name, value]]))
    })
    if (done.length + queue.length > MAX_SEQUENTIAL_RUNS) throw new SiteError(`enumElbo: sequential enumeration of ${[...assigned.keys(), ...run.met.keys()].map((n) => `'${n}'`).join(', ')} needs more than ${MAX_SEQUENTIAL_RUNS} runs of the model and guide; enumerate those sites with 'parallel'`)
  }
  if (done.length === 1 && done[0]!.weight === undefined) return done[0]!.estimate
  const weighted = (pick: (e: LossEstimate) => tf.Scalar): tf.Scalar => tf.addN(done.map((d) => tf.mul(d.weight!, pick(d.estimate)))) as tf.Scalar
  const bound = weighted((e) => e.bound)
  const surrogate = done.every((d) => d.estimate.surrogate === d.estimate.bound) ? bound : weighted((e) => e.surrogate)
  return { surrogate, bound, baselines: done[0]!.estimate.baselines, dataSize: done[0]!.estimate.dataSize }
}

/** Unknown keys and ill-formed values are errors naming the option. */
const checkOptions = (options: EnumElboOptions): void => {
  const unknown = Object.keys(options).filter((k) => !OPTIONS.has(k))
  if (unknown.length > 0) throw new InvalidArgumentError(`enumElbo: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')}; the options are ${[...OPTIONS].map((k) => `'${k}'`).join(', ')}`)
  for (const flag of ['vectorizeParticles', 'strictEnumerationWarning'] as const) {
    const v: unknown = options[flag]
    if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError(`enumElbo: ${flag} must be true or false; got ${JSON.stringify(v)}`)
  }
  checkParticleOptions('enumElbo', options.numParticles ?? 1, options.maxPlateNesting)
}

/**
 * The ELBO with enumerated discrete sites summed out exactly (Pyro's TraceEnum_ELBO).
 *
 * ELBO = E_{q(z)} [ Σ_{y_g} q(y_g | z) ( log Σ_{y_m} p(x, y_m, y_g, z) − log q(y_g, z) ) ]
 *
 * where y_m are the model's enumerated sites (summed out of p along the plates, so a mixture over
 * N points costs O(N·K)), y_g the guide's (an exact expectation) and z the Monte Carlo rest. A
 * model with only enumerated latents and an empty guide gives log p(x) exactly.
 *
 * @example
 * const model = (x: tf.Tensor) => plate('data', N, {}, () => gen(function* () {
 *   const z = yield* sample('z', categorical({ logits: weights }), { enumerate: 'parallel' })
 *   yield* observe('x', normal(tf.gather(locs, z), 1), x)
 * }))
 * await svi({ optimizer: tf.train.adam(0.05), loss: enumElbo() }).fit(model, guide, x)
 */
export const enumElbo = (options: EnumElboOptions = {}): Loss => {
  checkOptions(options)
  const k = options.numParticles ?? 1
  const vectorize = options.vectorizeParticles ?? true
  const depthOf = plateDepthMemo(options.maxPlateNesting, { coverage: false })
  return {
    _tag: 'Loss', name: `enumElbo(${k > 1 ? `${k} particles${vectorize ? '' : ' in a loop'}` : 'exact over enumerated sites'})`,
    estimate: <Args extends readonly unknown[]>(model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, given: LossContext): LossEstimate => {
      const ctx = options.strictEnumerationWarning === false ? { ...given, warn: (w: TfpplWarning) => { if (w.cause !== 'no-enumerated-site') given.warn?.(w) } } : given
      const depth = depthOf(model, guide, args, ctx)
      const runs = vectorize || k === 1 ? [undefined] : Array.from({ length: k }, (_, i) => i)
      const parts = runs.map((i) => sequentially((run) => {
        const { q, p, plates } = enumTraces(model, guide, args, ctx, { k: i === undefined ? k : 1, depth, vectorize, seed: i === undefined ? ctx.seed : subSeed(ctx.seed, i) }, run)
        return { estimate: fromTraces(q, p, plates, ctx), weight: sequentialWeight(q) }
      }))
      const mean = (xs: readonly tf.Scalar[]): tf.Scalar => tf.div(tf.addN([...xs]), k) as tf.Scalar
      const bound = mean(parts.map((r) => r.bound))
      const surrogate = parts.every((r) => r.surrogate === r.bound) ? bound : mean(parts.map((r) => r.surrogate))
      return { surrogate, bound, baselines: parts[0]!.baselines, dataSize: parts[0]!.dataSize }
    },
  }
}
