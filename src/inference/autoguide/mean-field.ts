/**
 * Mean-field autoguides (Pyro's AutoNormal and AutoDelta): one guide site per
 * latent site of the model, in the model's order, each parameterised in
 * unconstrained space and mapped onto the site's support. Local latents of a
 * subsampled plate get one parameter per plate element, indexed by the
 * plate's subsample, as Pyro's do.
 */
import * as tf from '@tensorflow/tfjs-core'
import * as constraints from '../../distributions/constraints.js'
import { delta } from '../../distributions/delta.js'
import type { Distribution } from '../../distributions/distribution.js'
import { normal } from '../../distributions/normal.js'
import { transformed } from '../../distributions/transformed.js'
import type { Message, ParamMsg, PlateEnterMsg, PlateExitMsg, SampleMsg } from '../../dsl/messages.js'
import { param, plate, sample } from '../../dsl/primitives.js'
import { gen } from '../../dsl/program.js'
import type { Program } from '../../dsl/program.js'
import type { ProgramFn } from '../loss.js'
import type { ParamStore } from '../params.js'
import { initToMedian } from './init.js'
import type { InitStrategy } from './init.js'
import { prototypeOf } from './prototype.js'
import type { LatentProto } from './prototype.js'
import { supportBijector, supportMap } from './support.js'

/** The latent sample messages of a model's message type: what an autoguide samples. */
export type LatentMsgs<MM extends Message> = Extract<MM, SampleMsg<string, tf.Tensor, 'latent'>>

/** The messages an autoguide of a model yields. */
export type AutoGuideMsgs<MM extends Message> = LatentMsgs<MM> | ParamMsg | PlateEnterMsg | PlateExitMsg

/** An autoguide: a guide program over the model's arguments, and its point estimates. */
export interface AutoGuide<Args extends readonly unknown[], MM extends Message> extends ProgramFn<Args, AutoGuideMsgs<MM>> {
  /** The guide's median of every latent site, constrained (its params read from `params`); undefined before the first run. */
  readonly median: (params: ParamStore) => Record<string, tf.Tensor>
}

/** Options of the mean-field autoguides. */
export interface MeanFieldOptions {
  /** Where the locations start (default {@link initToMedian}). */
  readonly init?: InitStrategy
  /** The initial scale of each unconstrained Normal (autoNormal; default 0.1, as Pyro's). */
  readonly initScale?: number
  /** Prefix of the param names (default 'auto'): params are `<prefix>.<site>.loc` and `.scale`. */
  readonly prefix?: string
}

/** Enters the site's plates (outermost first), each plate with one subsample per run (`indices`), and runs `body` inside. */
const inPlates = <M extends Message, A>(frames: LatentProto['plates'], indices: Map<string, tf.Tensor>, body: () => Program<M, A>): Program<Message, A> => {
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
const initLoc = (site: LatentProto) => (): tf.Tensor => tf.tidy(() => supportBijector(site).inverse(tf.tensor(site.init.data, [...site.init.shape])))

/** One site of the guide: its params, and the distribution it samples from. */
type SiteGuide = (site: LatentProto, prefix: string, indices: ReadonlyMap<string, tf.Tensor>) => Program<Message, Distribution>

const normalSite = (initScale: number): SiteGuide => (site, prefix, indices) => gen(function* () {
  const loc = yield* param(`${prefix}.${site.name}.loc`, initLoc(site))
  const scale = yield* param(`${prefix}.${site.name}.scale`, () => tf.fill([...site.init.shape], initScale), { constraint: constraints.positive })
  const base = normal(atSubsample(loc, site, indices), atSubsample(scale, site, indices))
  const bijector = supportMap(site)
  return (bijector === undefined ? base : transformed(base, bijector)).toEvent(site.eventDims) as Distribution
})

const deltaSite: SiteGuide = (site, prefix, indices) => gen(function* () {
  const loc = yield* param(`${prefix}.${site.name}.loc`, initLoc(site))
  return delta(supportBijector(site).forward(atSubsample(loc, site, indices)), { eventDims: site.eventDims }) as Distribution
})

/** An autoguide whose sites are built by `siteGuide`; the prototype is traced on the first call. */
const meanField = <Args extends readonly unknown[], MM extends Message>(model: ProgramFn<Args, MM>, siteGuide: SiteGuide, opts: MeanFieldOptions): AutoGuide<Args, MM> => {
  const prefix = opts.prefix ?? 'auto'
  let protos: LatentProto[] | undefined
  const guide = (...args: Args) => gen(function* () {
    protos ??= prototypeOf(model, args, opts.init ?? initToMedian())
    const indices = new Map<string, tf.Tensor>()
    for (const site of protos) {
      yield* inPlates(site.plates, indices, () => gen(function* () {
        const dist = yield* siteGuide(site, prefix, indices)
        return yield* sample(site.name, dist)
      }))
    }
  }) as Program<AutoGuideMsgs<MM>, void>
  const median = (params: ParamStore): Record<string, tf.Tensor> => Object.fromEntries((protos ?? []).map((site) => {
    const loc = params.value(`${prefix}.${site.name}.loc`)
    return [site.name, loc === undefined ? undefined : tf.tidy(() => supportBijector(site).forward(loc))]
  }).filter((e): e is [string, tf.Tensor] => e[1] !== undefined))
  return Object.assign(guide, { median })
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
export const autoNormal = <Args extends readonly unknown[], MM extends Message>(model: ProgramFn<Args, MM>, opts: MeanFieldOptions = {}): AutoGuide<Args, MM> =>
  meanField(model, normalSite(opts.initScale ?? 0.1), opts)

/**
 * A point-mass guide (Pyro's AutoDelta): q(z) = δ(T(loc)) at each latent site, so SVI finds the
 * MAP estimate; params `<prefix>.<site>.loc` in unconstrained space.
 *
 * @example
 * const guide = autoDelta(model)
 * const map = guide.median(s.params)   // after fitting
 */
export const autoDelta = <Args extends readonly unknown[], MM extends Message>(model: ProgramFn<Args, MM>, opts: MeanFieldOptions = {}): AutoGuide<Args, MM> =>
  meanField(model, deltaSite, opts)
