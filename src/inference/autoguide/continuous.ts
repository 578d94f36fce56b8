/**
 * Continuous autoguides (Pyro's AutoContinuous: AutoMultivariateNormal and
 * AutoLowRankMultivariateNormal): every selected latent site of the model, in
 * unconstrained space, flattened into one vector u of size D and drawn jointly
 * at one auxiliary guide site `<prefix>.latent`; each model site is then sampled
 * as a Delta at its constrained value T(u's slice), carrying −log |det ∂T/∂u|,
 * so that log q(z) = log q(u) − log |det ∂T/∂u|. Sites in full plates are part
 * of u; a subsampled plate is an error (u would change size with the subsample).
 */
import * as tf from '@tensorflow/tfjs-core'
import { standardNormal } from '../../backend/random.js'
import type { Bijector } from '../../distributions/bijector-core.js'
import * as constraints from '../../distributions/constraints.js'
import { delta } from '../../distributions/delta.js'
import type { Distribution } from '../../distributions/distribution.js'
import { lowRankMultivariateNormal } from '../../distributions/low-rank-multivariate-normal.js'
import { multivariateNormal } from '../../distributions/multivariate-normal.js'
import { sumRightmost } from '../../distributions/shape.js'
import type { Message, SampleMsg } from '../../dsl/messages.js'
import { param, sample } from '../../dsl/primitives.js'
import { gen } from '../../dsl/program.js'
import type { Program } from '../../dsl/program.js'
import { InvalidArgumentError, showShape } from '../../errors.js'
import type { ProgramFn } from '../loss.js'
import type { ParamStore } from '../params.js'
import { SiteError } from '../site-error.js'
import { inPlates, probit, selectedPrototype } from './mean-field.js'
import type { AutoGuide, AutoGuideOptions, Selected } from './mean-field.js'
import type { LatentProto } from './prototype.js'
import { supportBijector } from './support.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options of {@link autoLowRankMultivariateNormal}: those of every autoguide, and the rank. */
export interface LowRankOptions extends AutoGuideOptions {
  /** The rank r of the covariance's low-rank part W (D × r); default round(√D), as Pyro's. */
  readonly rank?: number
}

/** The auxiliary site's name for options `O`: `<prefix>.latent` ('auto.latent' by default). */
export type AuxiliaryName<O> = O extends { readonly prefix: infer P extends string } ? `${P}.latent` : 'auto.latent'

/** A continuous autoguide: it samples the model's sites `MM` selects, and its auxiliary site `N`. */
export type ContinuousGuide<Args extends readonly unknown[], MM extends Message, N extends string> = AutoGuide<Args, MM | SampleMsg<N, tf.Tensor, 'latent'>>

/** One site's block of u: where it sits, its unconstrained shape, and the bijection onto its support. */
interface Block {
  readonly site: LatentProto
  readonly bijector: Bijector
  /** The unconstrained value's shape in one run (a simplex of K: K − 1). */
  readonly shape: readonly number[]
  /** Its event dims: the site's, plus what the bijection adds or removes. */
  readonly eventDims: number
  readonly offset: number
  readonly size: number
}

/** The blocks of u, in the model's site order, and D. */
interface Layout { readonly blocks: readonly Block[]; readonly dim: number }

/** The joint posterior over u: its params and distribution, and the marginal sd of u from fitted params. */
interface Family {
  readonly who: string
  readonly posterior: (prefix: string, layout: Layout) => Program<Message, Distribution>
  readonly marginalSd: (params: ParamStore, prefix: string) => tf.Tensor | undefined
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)


/** The blocks of u for the selected sites: full plates only, at least one site. */
const layoutOf = (who: string, sites: readonly LatentProto[]): Layout => {
  let offset = 0
  const blocks = sites.map((site): Block => {
    const sub = site.plates.find((p) => p.subsampleSize < p.size)
    if (sub !== undefined) {
      throw new InvalidArgumentError(`${who}: site '${site.name}' is in plate '${sub.name}', subsampled (${sub.subsampleSize} of ${sub.size} elements a run); the continuous autoguides put every latent in one vector of fixed size, so they need full plates (as Pyro's AutoContinuous). Guide the local latents with autoNormal: guideList(autoNormal(model, { sites: { expose: ['${site.name}'] } }), ${who}(model, { sites: { hide: ['${site.name}'] } }))`)
    }
    const bijector = supportBijector(who, site)
    const shape = bijector.inverseShape(site.shape)
    const block = { site, bijector, shape, eventDims: site.eventDims + shape.length - site.shape.length, offset, size: sizeOf(shape) }
    offset += block.size
    return block
  })
  if (offset === 0) throw new InvalidArgumentError(`${who}: the model has no latent sites to guide${sites.length === 0 ? ' (after the `sites` selection)' : ''}; use no guide, or select some sites`)
  return { blocks, dim: offset }
}

/** The initial u: each site's init value mapped to unconstrained space, flattened, concatenated (Pyro's _init_loc). */
const initLoc = (layout: Layout) => (): tf.Tensor => tf.tidy(() => tf.concat(layout.blocks.map((b) =>
  tf.reshape(b.bijector.inverse(tf.tensor(b.site.init.data, [...b.site.init.shape])), [-1]))))

/**
 * The shape a block takes out of a u with leading dims `lead` (particles, plates around the guide):
 * its unconstrained shape broadcast with lead ++ 1s over its event dims (Pyro's _unpack_latent), so
 * under K vectorised particles a site of batch rank b gets [K, 1 … 1 (depth − b), ...shape].
 */
const unpackedShape = (b: Block, lead: readonly number[]): readonly number[] => {
  if (lead.length === 0) return b.shape
  const right = [...lead, ...Array<number>(b.eventDims).fill(1)]
  const n = Math.max(right.length, b.shape.length)
  const [x, y] = [b.shape, right].map((s) => [...Array<number>(n - s.length).fill(1), ...s]) as [number[], number[]]
  const out = x.map((d, i) => d === 1 ? y[i]! : d)
  if (x.some((d, i) => d !== 1 && y[i] !== 1 && y[i] !== d) || sizeOf(out) !== sizeOf(lead) * b.size) {
    throw new SiteError(`site '${b.site.name}': the continuous autoguide's vector has leading dims ${showShape(lead)} (particles, or plates around the guide), which do not fit left of the site's unconstrained shape ${showShape(b.shape)}; each batch dim of the site must lie right of them (give maxPlateNesting if a plate of the model was missed)`)
  }
  return out
}

/** A block of u (shape lead ++ [D]), in its unconstrained shape. */
const unpack = (u: tf.Tensor, b: Block): tf.Tensor => {
  const lead = u.shape.slice(0, -1)
  return tf.reshape(tf.slice(u, [...lead.map(() => 0), b.offset], [...lead, b.size]), [...unpackedShape(b, lead)])
}

/** A site's guide distribution: a Delta at T(x), x its block of u, carrying −log |det ∂T/∂x| (summed to the site's batch). */
const siteDelta = (b: Block, u: tf.Tensor): Distribution => {
  const x = unpack(u, b)
  const y = b.bijector.forward(x)
  const ldj = b.bijector.forwardLogDetJacobian(x)
  const batchRank = y.rank - b.site.eventDims
  return delta(y, { eventDims: b.site.eventDims, logDensity: tf.neg(sumRightmost(ldj, ldj.rank - batchRank)) })
}

/** A param's value through `f` (the caller owns the result), or undefined before the param exists. */
const fromParam = (params: ParamStore, name: string, f: (v: tf.Tensor) => tf.Tensor): tf.Tensor | undefined => {
  const v = params.value(name)
  if (v === undefined) return undefined
  const out = tf.tidy(() => f(v))
  v.dispose()
  return out
}

const checkInitScale = (who: string, s: number): number => {
  if (typeof s !== 'number' || !(s > 0 && Number.isFinite(s))) throw new InvalidArgumentError(`${who}: initScale must be a finite number > 0; got ${String(s)}`)
  return s
}

// -------------------------------------------------------------------------------------
// families
// -------------------------------------------------------------------------------------

/** u ~ MVN(loc, L Lᵀ): params `<prefix>.loc` [D] and `<prefix>.scaleTril` [D, D] (lowerCholesky, initScale · I). */
const fullRank = (initScale: number): Family => ({
  who: 'autoMultivariateNormal',
  posterior: (prefix, layout) => gen(function* () {
    const loc = yield* param(`${prefix}.loc`, initLoc(layout))
    const scaleTril = yield* param(`${prefix}.scaleTril`, () => tf.tidy(() => tf.mul(tf.eye(layout.dim), initScale)), { constraint: constraints.lowerCholesky })
    return multivariateNormal(loc, { scaleTril }) as Distribution
  }),
  marginalSd: (params, prefix) => fromParam(params, `${prefix}.scaleTril`, (l) => tf.sqrt(tf.sum(tf.square(l), -1))),
})

/** The seed of the low-rank factor's random init (a fixed one: the guide has no key of its own). */
const COV_FACTOR_SEED = 0

/**
 * u ~ MVN(loc, W Wᵀ + diag(d)): params `<prefix>.loc` [D], `<prefix>.covFactor` [D, r] and
 * `<prefix>.covDiag` [D] (positive), initialised as Pyro's: W ~ N(0, ½ initScale² / r) elementwise
 * and d = ½ initScale², so that each u's initial variance is initScale² on average.
 */
const lowRank = (initScale: number, rank: number | undefined): Family => ({
  who: 'autoLowRankMultivariateNormal',
  posterior: (prefix, layout) => gen(function* () {
    const r = rank ?? Math.max(1, Math.round(Math.sqrt(layout.dim)))
    const loc = yield* param(`${prefix}.loc`, initLoc(layout))
    const covFactor = yield* param(`${prefix}.covFactor`, () => tf.tidy(() => tf.mul(standardNormal([layout.dim, r], COV_FACTOR_SEED), initScale * Math.sqrt(0.5 / r))))
    const covDiag = yield* param(`${prefix}.covDiag`, () => tf.fill([layout.dim], 0.5 * initScale * initScale), { constraint: constraints.positive })
    return lowRankMultivariateNormal(loc, covFactor, covDiag) as Distribution
  }),
  marginalSd: (params, prefix) => {
    const w = fromParam(params, `${prefix}.covFactor`, (v) => tf.sum(tf.square(v), -1))
    const d = w === undefined ? undefined : fromParam(params, `${prefix}.covDiag`, (v) => tf.sqrt(tf.add(v, w)))
    w?.dispose()
    return d
  },
})

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A continuous autoguide of `family`; the prototype is traced on the first call. */
const continuous = <Args extends readonly unknown[], MM extends Message>(model: ProgramFn<Args, MM>, family: Family, opts: AutoGuideOptions) => {
  const prefix = opts.prefix ?? 'auto'
  let layout: Layout | undefined
  const guide = (...args: Args) => gen(function* () {
    const l = layout ??= layoutOf(family.who, selectedPrototype(model, args, opts))
    const posterior = yield* family.posterior(prefix, l)
    const u = yield* sample(`${prefix}.latent`, posterior, { auxiliary: true })
    for (const b of l.blocks) {
      yield* inPlates(b.site.plates, new Map(), () => gen(function* () { return yield* sample(b.site.name, siteDelta(b, u)) }))
    }
  }) as Program<Message, void>
  /** T(loc + z · sd) at each site, for each z (z = 0: the median), stacked when `stack`. */
  const at = (params: ParamStore, zs: readonly number[], stack: boolean): Record<string, tf.Tensor> => {
    const loc = params.value(`${prefix}.loc`)
    if (layout === undefined || loc === undefined) { loc?.dispose(); return {} }
    const blocks = layout.blocks
    const sd = zs.some((z) => z !== 0) ? family.marginalSd(params, prefix) : undefined
    const out = tf.tidy(() => {
      const points = zs.map((z) => sd === undefined || z === 0 ? loc : tf.add(loc, tf.mul(sd, z)))
      return Object.fromEntries(blocks.map((b) => {
        const values = points.map((u) => b.bijector.forward(unpack(u, b)))
        return [b.site.name, stack ? tf.stack(values) : values[0]!]
      }))
    })
    tf.dispose([loc, ...(sd === undefined ? [] : [sd])])
    return out
  }
  return Object.assign(guide, {
    median: (params: ParamStore) => at(params, [0], false),
    quantiles: (params: ParamStore, qs: readonly number[]) => at(params, qs.map(probit), true),
  })
}

/**
 * A full-covariance Normal guide in unconstrained space (Pyro's AutoMultivariateNormal): the
 * model's latent sites, each mapped to unconstrained space by its support's bijection T, form one
 * vector u ~ MVN(loc, L Lᵀ) (auxiliary site `<prefix>.latent`; params `<prefix>.loc` and
 * `<prefix>.scaleTril`, initially initScale · I with initScale 0.1), and each site is z = T(u's
 * slice), so q(z) = q(u) / |det ∂T/∂u| captures correlations between sites that autoNormal cannot.
 * Sites must be continuous and not in a subsampled plate. `median` is T(loc); `quantiles` use the
 * marginal sd of u, √diag(L Lᵀ).
 *
 * @example
 * const guide = autoMultivariateNormal(model)
 * await svi({ optimizer: tf.train.adam(0.01), loss: elbo() }).fit(model, guide, x)
 */
export const autoMultivariateNormal = <Args extends readonly unknown[], MM extends Message, const O extends AutoGuideOptions = {}>(
  model: ProgramFn<Args, MM>, opts?: O,
): ContinuousGuide<Args, Selected<MM, O>, AuxiliaryName<O>> =>
  continuous(model, fullRank(checkInitScale('autoMultivariateNormal', opts?.initScale ?? 0.1)), opts ?? {}) as unknown as ContinuousGuide<Args, Selected<MM, O>, AuxiliaryName<O>>

/**
 * A low-rank-plus-diagonal Normal guide in unconstrained space (Pyro's
 * AutoLowRankMultivariateNormal): as {@link autoMultivariateNormal}, with u ~ MVN(loc, W Wᵀ + diag(d))
 * — params `<prefix>.loc` [D], `<prefix>.covFactor` W [D, rank] (random, N(0, ½ initScale² / rank))
 * and `<prefix>.covDiag` d [D] (½ initScale²) — O(D · rank²) a step instead of O(D³).
 *
 * @example
 * const guide = autoLowRankMultivariateNormal(model, { rank: 2 })
 * await svi({ optimizer: tf.train.adam(0.01), loss: elbo() }).fit(model, guide, x)
 */
export const autoLowRankMultivariateNormal = <Args extends readonly unknown[], MM extends Message, const O extends LowRankOptions = {}>(
  model: ProgramFn<Args, MM>, opts?: O,
): ContinuousGuide<Args, Selected<MM, O>, AuxiliaryName<O>> => {
  const rank = opts?.rank
  if (rank !== undefined && !(Number.isInteger(rank) && rank >= 1)) throw new InvalidArgumentError(`autoLowRankMultivariateNormal: rank must be a positive integer; got ${String(rank)}`)
  return continuous(model, lowRank(checkInitScale('autoLowRankMultivariateNormal', opts?.initScale ?? 0.1), rank), opts ?? {}) as unknown as ContinuousGuide<Args, Selected<MM, O>, AuxiliaryName<O>>
}
