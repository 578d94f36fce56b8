/**
 * Mean-field autoguides (Pyro's AutoNormal and AutoDelta): one guide site per
 * latent site of the model, in the model's order, each parameterised in
 * unconstrained space and mapped onto the site's support. Local latents of a
 * subsampled plate get one parameter per plate element, indexed by the
 * plate's subsample, as Pyro's do.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { Bijector } from '../../distributions/bijectors.js'
import * as constraints from '../../distributions/constraints.js'
import { delta } from '../../distributions/delta.js'
import type { Distribution } from '../../distributions/distribution.js'
import { normal } from '../../distributions/normal.js'
import { transformed } from '../../distributions/transformed.js'
import type { Message, ParamMsg, PlateEnterMsg, PlateExitMsg, SampleMsg } from '../../dsl/messages.js'
import { param, plate, sample } from '../../dsl/primitives.js'
import { gen } from '../../dsl/program.js'
import type { Program } from '../../dsl/program.js'
import { InvalidArgumentError } from '../../errors.js'
import type { ProgramFn } from '../loss.js'
import type { ParamStore } from '../params.js'
import { initToMedian } from './init.js'
import type { InitStrategy } from './init.js'
import { prototypeOf } from './prototype.js'
import type { LatentProto } from './prototype.js'
import { supportBijector } from './support.js'

/** The latent sample messages of a model's message type: what an autoguide samples. */
export type LatentMsgs<MM extends Message> = Extract<MM, SampleMsg<string, tf.Tensor, 'latent'>>

/**
 * The model messages an autoguide with `sites` selection samples: all latents, less the hidden
 * names, or only the exposed ones.
 */
export type Selected<MM extends Message, O> =
  O extends { readonly sites: { readonly expose: readonly (infer N extends string)[] } } ? Extract<MM, { readonly name: N }>
    : O extends { readonly sites: { readonly hide: readonly (infer N extends string)[] } } ? Exclude<MM, SampleMsg<N, tf.Tensor, 'latent'>> : MM

/** Options of an autoguide with its site selection. */
export type AutoGuideOptions = MeanFieldOptions & { readonly sites?: SiteSelection<string> }

/** The messages an autoguide of a model yields. */
export type AutoGuideMsgs<MM extends Message> = LatentMsgs<MM> | ParamMsg | PlateEnterMsg | PlateExitMsg

/** An autoguide: a guide program over the model's arguments, and its point estimates. */
export interface AutoGuide<Args extends readonly unknown[], MM extends Message> extends ProgramFn<Args, AutoGuideMsgs<MM>> {
  /** The guide's median of each of its sites, constrained (its params read from `params`); empty before the first run. */
  readonly median: (params: ParamStore) => Record<string, tf.Tensor>
  /**
   * The guide's quantiles `qs` of each of its sites, constrained, stacked on a leading axis:
   * T(loc + scale · Φ⁻¹(q)) for autoNormal (elementwise, as Pyro's); the median for every q for autoDelta.
   */
  readonly quantiles: (params: ParamStore, qs: readonly number[]) => Record<string, tf.Tensor>
}

/** The latent sites an autoguide takes: all but `hide`, or only `expose` (Pyro's `block` around the model). */
export type SiteSelection<N extends string> = { readonly hide: readonly N[] } | { readonly expose: readonly N[] }

/** Options of the mean-field autoguides. */
export interface MeanFieldOptions {
  /** Where the locations start (default {@link initToMedian}). */
  readonly init?: InitStrategy
  /** The initial scale of each unconstrained Normal (autoNormal; default 0.1, as Pyro's). */
  readonly initScale?: number
  /** Prefix of the param names (default 'auto'): params are `<prefix>.<site>.loc` and `.scale`. */
  readonly prefix?: string
}

/** Whether a site is the autoguide's under a selection. */
const selected = (sel: SiteSelection<string> | undefined, name: string): boolean =>
  sel === undefined ? true : 'hide' in sel ? !sel.hide.includes(name) : sel.expose.includes(name)

/**
 * The latent sites an autoguide takes: the model's prototype (traced once with `args`, initial
 * values from `opts.init`, default {@link initToMedian}) less those `opts.sites` leaves out.
 *
 * @example const sites = selectedPrototype(model, [x], { sites: { hide: ['z'] } })
 */
export const selectedPrototype = <Args extends readonly unknown[]>(model: ProgramFn<Args>, args: Args, opts: AutoGuideOptions): LatentProto[] =>
  prototypeOf(model, args, opts.init ?? initToMedian()).filter((site) => selected(opts.sites, site.name))

/**
 * Φ⁻¹(q), the standard normal quantile, by Acklam's rational approximation (relative error < 1.2e-9).
 *
 * @example probit(0.975)   // 1.95996…
 */
export const probit = (q: number): number => {
  if (!(q > 0 && q < 1)) throw new InvalidArgumentError(`quantiles: each q must lie in (0, 1); got ${q}`)
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const tail = (r: number) => (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1)
  if (q < 0.02425) return tail(Math.sqrt(-2 * Math.log(q)))
  if (q > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - q)))
  const u = q - 0.5, r = u * u
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * u / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
}

/**
 * Enters the site's plates (outermost first), each plate with one subsample per run (`indices`), and runs `body` inside.
 *
 * @example yield* inPlates(site.plates, new Map(), () => gen(function* () { return yield* sample(site.name, d) }))
 */
export const inPlates = <M extends Message, A>(frames: LatentProto['plates'], indices: Map<string, tf.Tensor>, body: () => Program<M, A>): Program<Message, A> => {
  const [outer, ...rest] = frames
  if (outer === undefined) return body()
  const known = indices.get(outer.name)
  return plate(outer.name, outer.size, { subsampleSize: outer.subsampleSize, dim: outer.dim, ...(known && { subsample: known }) }, (idx) => {
    indices.set(outer.name, idx)
    return inPlates(rest, indices, body)
  })
}

/** A full-size param (`shape` at the plates' full sizes) gathered at this run's subsample of each subsampled plate. */
const atSubsample = (value: tf.Tensor, site: LatentProto, indices: ReadonlyMap<string, tf.Tensor>): tf.Tensor => {
  const batchRank = site.init.shape.length - site.eventDims
  return site.plates.reduce((v, p) => p.subsampleSize === p.size ? v : tf.gather(v, indices.get(p.name)!, batchRank + p.dim), value)
}

/** The unconstrained initial location of a site: the support's inverse map at its init value. */
const initLoc = (site: LatentProto, bijector: Bijector) => (): tf.Tensor => tf.tidy(() => bijector.inverse(tf.tensor(site.init.data, [...site.init.shape])))

/** One site of the guide: its params, and the distribution it samples from. */
type SiteGuide = (site: LatentProto, prefix: string, indices: ReadonlyMap<string, tf.Tensor>) => Program<Message, Distribution>

const normalSite = (initScale: number): SiteGuide => (site, prefix, indices) => gen(function* () {
  const bijector = supportBijector('autoNormal', site)
  const loc = yield* param(`${prefix}.${site.name}.loc`, initLoc(site, bijector))
  const scale = yield* param(`${prefix}.${site.name}.scale`, () => tf.fill(bijector.inverseShape(site.init.shape), initScale), { constraint: constraints.positive })
  // The Normal lives in unconstrained space: its events are the bijector's domain (a simplex's K − 1 …), mapped onto the site's.
  const base = normal(atSubsample(loc, site, indices), atSubsample(scale, site, indices)).toEvent(bijector.domain.eventDims)
  const onSupport = bijector._tag === 'Identity' ? base : transformed(base, bijector)
  return onSupport.toEvent(site.eventDims - bijector.codomain.eventDims) as Distribution
})

const deltaSite: SiteGuide = (site, prefix, indices) => gen(function* () {
  const bijector = supportBijector('autoDelta', site)
  const loc = yield* param(`${prefix}.${site.name}.loc`, initLoc(site, bijector))
  return delta(bijector.forward(atSubsample(loc, site, indices)), { eventDims: site.eventDims }) as Distribution
})

/** An autoguide whose sites are built by `siteGuide`; the prototype is traced on the first call. */
const meanField = <Args extends readonly unknown[], MM extends Message>(
  model: ProgramFn<Args, MM>, siteGuide: SiteGuide, opts: AutoGuideOptions, withScale: boolean,
): AutoGuide<Args, MM> => {
  const prefix = opts.prefix ?? 'auto'
  let protos: LatentProto[] | undefined
  const guide = (...args: Args) => gen(function* () {
    protos ??= selectedPrototype(model, args, opts)
    const indices = new Map<string, tf.Tensor>()
    for (const site of protos) {
      yield* inPlates(site.plates, indices, () => gen(function* () {
        const dist = yield* siteGuide(site, prefix, indices)
        return yield* sample(site.name, dist)
      }))
    }
  }) as Program<AutoGuideMsgs<MM>, void>
  /** T(loc + z · scale) at each site, for each z (z = 0: the median), stacked when `stack`. */
  const at = (params: ParamStore, zs: readonly number[], stack: boolean): Record<string, tf.Tensor> => Object.fromEntries((protos ?? []).flatMap((site) => {
    const loc = params.value(`${prefix}.${site.name}.loc`)
    const scale = withScale ? params.value(`${prefix}.${site.name}.scale`) : undefined
    if (loc === undefined) return []
    const value = tf.tidy(() => {
      const points = zs.map((z) => tf.clone(supportBijector('autoguide', site).forward(scale === undefined || z === 0 ? loc : tf.add(loc, tf.mul(scale, z)))))
      return stack ? tf.stack(points) : points[0]!
    })
    tf.dispose([loc, ...(scale === undefined ? [] : [scale])])
    return [[site.name, value]]
  }))
  return Object.assign(guide, {
    median: (params: ParamStore) => at(params, [0], false),
    quantiles: (params: ParamStore, qs: readonly number[]) => at(params, qs.map(probit), true),
  })
}

/**
 * A mean-field Normal guide in unconstrained space (Pyro's AutoNormal): for each latent site z of
 * the model, q(z) = T(Normal(loc, scale)) with T the site's support map (identity on ℝ, exp onto
 * x > 0, sigmoid onto (0, 1)), params `<prefix>.<site>.loc` and `.scale` (initial scale 0.1).
 *
 * @example
 * const guide = autoNormal(model)
 * await svi({ optimizer: tf.train.adam(0.01), loss: elbo() }).fit(model, guide, x)
 */
export const autoNormal = <Args extends readonly unknown[], MM extends Message, const O extends AutoGuideOptions = {}>(
  model: ProgramFn<Args, MM>, opts?: O,
): AutoGuide<Args, Selected<MM, O>> =>
  meanField(model, normalSite(opts?.initScale ?? 0.1), opts ?? {}, true) as unknown as AutoGuide<Args, Selected<MM, O>>

/**
 * A point-mass guide (Pyro's AutoDelta): q(z) = δ(T(loc)) at each latent site, so SVI finds the
 * MAP estimate; params `<prefix>.<site>.loc` in unconstrained space.
 *
 * @example
 * const guide = autoDelta(model)
 * const map = guide.median(s.params)   // after fitting
 */
export const autoDelta = <Args extends readonly unknown[], MM extends Message, const O extends AutoGuideOptions = {}>(
  model: ProgramFn<Args, MM>, opts?: O,
): AutoGuide<Args, Selected<MM, O>> =>
  meanField(model, deltaSite, opts ?? {}, false) as unknown as AutoGuide<Args, Selected<MM, O>>

/** The union of the messages of a list of guides. */
type MessagesOfAll<G extends readonly ProgramFn<never, Message>[]> = G[number] extends ProgramFn<never, infer M> ? M : never

/** The arguments of the first of a list of guides (all take the same). */
type ArgsOfFirst<G extends readonly ProgramFn<never, Message>[]> = G[0] extends (...args: infer A) => unknown ? A : never

/**
 * Several guides over the same arguments run one after the other as one guide (Pyro's
 * AutoGuideList): e.g. an amortised hand-written guide for the local latents and `autoNormal`
 * with `sites: { hide: [...] }` for the rest. Its type is the union of theirs, so svi's
 * compile-time check sees every site.
 *
 * @example
 * const guide = guideList(localGuide, autoNormal(model, { sites: { hide: ['z'] } }))
 */
export const guideList = <const G extends readonly [ProgramFn<never, Message>, ...ProgramFn<never, Message>[]]>(...guides: G): ProgramFn<ArgsOfFirst<G>, MessagesOfAll<G>> =>
  (...args: ArgsOfFirst<G>) => gen(function* () {
    for (const g of guides) yield* (g as unknown as ProgramFn<ArgsOfFirst<G>, Message>)(...args)
  }) as Program<MessagesOfAll<G>, void>
