/**
 * Random small model/guide pairs written with the public DSL, for the
 * generated-program properties: a latent chain z{L−1} → … → z0 → x of 1–3
 * sites (Normal, LogNormal or RelaxedBernoulli, random small batch/event
 * shapes, each z{l} centred on a summary of z{l+1}), an optional data plate
 * (subsampled, optionally with a local latent `u`), an optional `factor`, and
 * a guide with learnable params or modules for every latent. A {@link Defect}
 * breaks a valid pair in one named way; {@link expectedFailure} says which
 * site the error must name.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import * as constraints from '../../src/distributions/constraints.js'
import type { Distribution } from '../../src/distributions/distribution.js'
import { logNormal } from '../../src/distributions/log-normal.js'
import { normal } from '../../src/distributions/normal.js'
import { relaxedBernoulli } from '../../src/distributions/relaxed-bernoulli.js'
import { deterministic, factor, module, observe, param, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { Message, Network } from '../../src/dsl/messages.js'
import type { Program } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import { iwae } from '../../src/inference/iwae.js'
import type { Loss, ProgramFn } from '../../src/inference/loss.js'
import { smallShape } from '../helpers.js'

// ---- model ----------------------------------------------------------------

/** A latent site's family. */
export type Family = 'normal' | 'logNormal' | 'relaxedBernoulli'

/** One latent site: family, batch shape (of which the rightmost `event` dims are the event), guide style. */
export interface LatentSpec { readonly family: Family; readonly shape: readonly number[]; readonly event: number; readonly guide: 'param' | 'module' }

/** The data plate: `size` points, `subsample` per step, and whether a local latent `u` sits inside. */
export interface PlateSpec { readonly size: number; readonly subsample: number; readonly local: boolean }

/** A generated program: latents (z0 first; z{L−1} is the root), data shape per point, plate, factor, estimator. */
export interface ProgramSpec {
  readonly latents: readonly LatentSpec[]
  readonly obsShape: readonly number[]
  readonly plate: PlateSpec | undefined
  readonly factor: boolean
  readonly loss: 'elbo' | 'elbo-kl' | 'iwae'
}

/** One way of making a valid pair invalid. */
export type Defect =
  | { readonly kind: 'extra-guide-site' }
  | { readonly kind: 'missing-guide-site'; readonly site: number }
  | { readonly kind: 'guide-shape'; readonly site: number; readonly shape: readonly number[] }
  | { readonly kind: 'guide-support'; readonly site: number }
  | { readonly kind: 'obs-shape'; readonly shape: readonly number[] }
  | { readonly kind: 'duplicate-name'; readonly where: 'model' | 'guide'; readonly site: number }
  | { readonly kind: 'guide-samples-observed' }
  | { readonly kind: 'non-finite-factor' }
  | { readonly kind: 'plate-mismatch' }

/** A built pair: model, guide and data, and `dispose` for the modules' variables and the data. */
export interface Pair {
  readonly model: ProgramFn<readonly [tf.Tensor], Message>
  readonly guide: ProgramFn<readonly [tf.Tensor], Message>
  readonly data: tf.Tensor
  readonly loss: Loss
  readonly dispose: () => void
}

/** Where the guide starts (far from the optimum, so that training visibly lowers the loss). */
const INIT = { loc: 1.5, logits: 2.5, scale: 0.3 } as const
const TEMPERATURE = 0.5
const name = (l: number): string => `z${l}`
const fullShape = (s: LatentSpec): number[] => [...s.shape]

/** The model's conditional at a site: its family centred on the scalar `center`. */
const prior = (f: Family, center: tf.Tensor, shape: readonly number[]): Distribution => {
  const c = tf.broadcastTo(center, [...shape])
  // RelaxedBernoulli leans to 0 (logits − 2), far from the guide's start (+2.5): its KL alone is bounded by ≈ log 2 at logits 0.
  return f === 'normal' ? normal(c, 1) : f === 'logNormal' ? logNormal(c, 0.5) : relaxedBernoulli(TEMPERATURE, { logits: tf.sub(c, 2) })
}

/** A real scalar summary of a draw: the mean of its unconstrained value. */
const signal = (f: Family, z: tf.Tensor): tf.Tensor =>
  tf.mean(f === 'logNormal' ? tf.log(z) : f === 'relaxedBernoulli' ? tf.sub(z, 0.5) : z)

const ones = (n: number): number[] => Array.from({ length: n }, () => 1)

/** Observes the data given the scalar center `c`, inside the plate (with the local latent) when there is one. */
function* observeData(spec: ProgramSpec, defect: Defect | undefined, c: tf.Tensor, x: tf.Tensor): Generator<Message, void, unknown> {
  const k = spec.obsShape.length
  const xName = defect?.kind === 'duplicate-name' && defect.where === 'model' ? name(defect.site) : 'x'
  const p = spec.plate
  if (p === undefined) {
    yield* observe(xName, normal(tf.broadcastTo(c, [...spec.obsShape]), 1).toEvent(k), x)
    return
  }
  yield* plate('data', p.size, { subsampleSize: p.subsample }, (idx) => gen(function* () {
    yield* deterministic('model_idx', idx)
    const loc = p.local ? tf.reshape(yield* sample('u', normal(tf.broadcastTo(c, [p.subsample]), 1)), [p.subsample, ...ones(k)]) : c
    yield* observe(xName, normal(tf.broadcastTo(loc, [p.subsample, ...spec.obsShape]), 1).toEvent(k), tf.gather(x, idx))
  }))
}

/** The model: z{L−1} ~ p(·), z{l} ~ p(· | 0.5·signal(z{l+1})), [factor], x ~ N(signal(z0), 1). */
const modelOf = (spec: ProgramSpec, defect: Defect | undefined) => (x: tf.Tensor): Program<Message, void> => gen(function* () {
  let c: tf.Tensor = tf.scalar(0)   // the signal of the site above (0 above the root)
  for (let l = spec.latents.length - 1; l >= 0; l--) {
    const s = spec.latents[l]!
    const family = defect?.kind === 'guide-support' && defect.site === l && s.family === 'normal' ? 'logNormal' : s.family
    c = signal(family, yield* sample(name(l), prior(family, tf.mul(0.5, c), s.shape).toEvent(s.event)))
  }
  if (spec.factor) {
    const w = defect?.kind === 'non-finite-factor' ? tf.div(tf.scalar(0), tf.scalar(0)) : tf.neg(tf.mean(tf.square(c)))
    yield* factor('penalty', w)
  }
  yield* observeData(spec, defect, c, x)
})

// ---- guide ----------------------------------------------------------------

/** An affine module loc = b + w · s on a scalar input `s`, with variables of the site's shape. */
const affine = (shape: readonly number[], init: number): Network<tf.Tensor, tf.Tensor> & { readonly dispose: () => void } => {
  const w = tf.tidy(() => tf.variable(tf.zeros([...shape]), true))   // tidy: frees the initial values
  const b = tf.tidy(() => tf.variable(tf.fill([...shape], init), true))
  return { apply: (s) => tf.add(b, tf.mul(w, s)), variables: [w, b], dispose: () => { w.dispose(); b.dispose() } }
}

/** The guide's distribution at a site from its location (the logits for RelaxedBernoulli). */
function* guideDist(l: number, family: Family | 'support', shape: readonly number[], loc: tf.Tensor): Generator<Message, Distribution, unknown> {
  if (family === 'relaxedBernoulli') return relaxedBernoulli(TEMPERATURE, { logits: loc })
  if (family === 'support') return normal(tf.fill([...shape], -3), 0.1)   // every draw < 0: outside a positive or (0, 1) support
  const scale = yield* param(`scale${l}`, () => tf.fill([...shape], INIT.scale), { constraint: constraints.positive })
  return family === 'normal' ? normal(loc, scale) : logNormal(loc, scale)
}

/** Samples z{l} in the guide, given the previous guide draw's signal; returns the new signal. */
function* guideSite(spec: ProgramSpec, defect: Defect | undefined, nets: ReadonlyMap<number, Network>, l: number, prev: tf.Tensor): Generator<Message, tf.Tensor, unknown> {
  const s = spec.latents[l]!
  const bad = defect?.kind === 'guide-shape' && defect.site === l
  const shape = bad ? defect.shape : fullShape(s)
  const init = s.family === 'relaxedBernoulli' ? INIT.logits : INIT.loc
  const net = nets.get(l)
  const loc = net !== undefined ? (yield* module(`net${l}`, net))(prev) : yield* param(`loc${l}`, () => tf.fill([...shape], init))
  const support = defect?.kind === 'guide-support' && defect.site === l
  const d = yield* guideDist(l, support ? 'support' : s.family, shape, loc)
  const z = yield* sample(name(l), d.toEvent(Math.min(s.event, shape.length)))
  if (defect?.kind === 'duplicate-name' && defect.where === 'guide' && defect.site === l) yield* sample(name(l), d)
  return signal(support ? 'normal' : s.family, z)
}

/** The local part of the guide: u ~ N(loc_u[idx], scale_u[idx]) inside the plate. */
const localGuide = (p: PlateSpec, defect: Defect | undefined): Program<Message, void> => {
  const sub = defect?.kind === 'plate-mismatch' ? (p.subsample === p.size ? p.size - 1 : p.subsample + 1) : p.subsample
  return plate('data', p.size, { subsampleSize: sub }, (idx) => gen(function* () {
    yield* deterministic('guide_idx', idx)
    const loc = yield* param('loc_u', () => tf.fill([p.size], INIT.loc))
    const scale = yield* param('scale_u', () => tf.fill([p.size], INIT.scale), { constraint: constraints.positive })
    yield* sample('u', normal(tf.gather(loc, idx), tf.gather(scale, idx)))
  }))
}

/** The guide: root first, each site (optionally) conditioned on the one above it. */
const guideOf = (spec: ProgramSpec, defect: Defect | undefined, nets: ReadonlyMap<number, Network>) => (): Program<Message, void> => gen(function* () {
  let prev: tf.Tensor = tf.scalar(0)
  for (let l = spec.latents.length - 1; l >= 0; l--) {
    if (defect?.kind === 'missing-guide-site' && defect.site === l) continue
    prev = yield* guideSite(spec, defect, nets, l, prev)
  }
  if (spec.plate?.local === true) yield* localGuide(spec.plate, defect)
  if (defect?.kind === 'extra-guide-site') yield* sample('ghost', normal(yield* param('loc_ghost', () => tf.scalar(0)), 1))
  if (defect?.kind === 'guide-samples-observed') yield* sample('x', normal(yield* param('loc_x', () => tf.scalar(0)), 1))
})

// ---- building and expectations --------------------------------------------

/** Deterministic data: 0.5 · sin(i + 1) over the flattened shape. */
const dataOf = (shape: readonly number[]): tf.Tensor => {
  const n = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(i + 1)), [...shape], 'float32')
}

/** The data shape the model expects. */
const dataShape = (spec: ProgramSpec): number[] =>
  spec.plate === undefined ? [...spec.obsShape] : [spec.plate.size, ...spec.obsShape]

/** The estimator a spec trains with (iwae's particles one at a time: the programs reshape to their own plate shapes). */
const lossOf = (spec: ProgramSpec): Loss =>
  spec.loss === 'iwae' ? iwae({ numParticles: 2, vectorizeParticles: false }) : elbo({ numParticles: 1, ...(spec.loss === 'elbo-kl' ? { kl: 'auto' as const } : {}) })

/**
 * Builds the model, guide and data of a spec (with `defect` applied).
 *
 * @example const pair = build(spec); svi(…).step(pair.model, pair.guide, pair.data); pair.dispose()
 */
export const build = (spec: ProgramSpec, defect?: Defect): Pair => {
  const nets = new Map<number, ReturnType<typeof affine>>()
  spec.latents.forEach((s, l) => {
    if (s.guide === 'module' && !(defect?.kind === 'guide-shape' && defect.site === l)) {
      nets.set(l, affine(fullShape(s), s.family === 'relaxedBernoulli' ? INIT.logits : INIT.loc))
    }
  })
  const data = dataOf(defect?.kind === 'obs-shape' ? (spec.plate === undefined ? defect.shape : [spec.plate.size, ...defect.shape]) : dataShape(spec))
  return {
    model: modelOf(spec, defect), guide: guideOf(spec, defect, nets), data, loss: lossOf(spec),
    dispose: () => { nets.forEach((n) => { n.dispose() }); data.dispose() },
  }
}

/** The site a defect's error must name, and the error's class name. */
export const expectedFailure = (spec: ProgramSpec, defect: Defect): { readonly site: string; readonly error: string } => {
  switch (defect.kind) {
    case 'extra-guide-site': return { site: 'ghost', error: 'SiteError' }
    case 'missing-guide-site': return { site: name(defect.site), error: 'SiteError' }
    case 'guide-shape': return { site: name(defect.site), error: 'SiteError' }
    case 'guide-support': return { site: name(defect.site), error: 'SupportError' }
    case 'obs-shape': return { site: 'x', error: 'SiteError' }
    case 'duplicate-name': return { site: name(defect.site), error: 'SiteError' }
    case 'guide-samples-observed': return { site: 'x', error: 'SiteError' }
    case 'non-finite-factor': return { site: 'penalty', error: 'NonFiniteError' }
    case 'plate-mismatch': return { site: 'data', error: 'SiteError' }
  }
}

// ---- arbitraries ----------------------------------------------------------

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i])
const endsWith = (a: readonly number[], b: readonly number[]): boolean => a.length >= b.length && sameShape(a.slice(a.length - b.length), b)

const latentArb: fc.Arbitrary<LatentSpec> = fc.record({
  family: fc.constantFrom<Family>('normal', 'logNormal', 'relaxedBernoulli'), shape: smallShape, guide: fc.constantFrom<'param' | 'module'>('param', 'module'),
}).chain((r) => fc.integer({ min: 0, max: r.shape.length }).map((event) => ({ ...r, event })))

const plateArb: fc.Arbitrary<PlateSpec> = fc.record({ size: fc.integer({ min: 2, max: 4 }), local: fc.boolean() })
  .chain((p) => fc.integer({ min: 1, max: p.size }).map((subsample) => ({ ...p, subsample })))

/** iwae needs every site's log-density to be a scalar or per data point: latents are whole events there. */
const normalise = (s: ProgramSpec): ProgramSpec => s.loss === 'iwae' ? { ...s, latents: s.latents.map((l) => ({ ...l, event: l.shape.length })) } : s

/** Valid program specs. */
export const specArb: fc.Arbitrary<ProgramSpec> = fc.record({
  latents: fc.array(latentArb, { minLength: 1, maxLength: 3 }),
  obsShape: smallShape,
  plate: fc.option(plateArb, { nil: undefined }),
  factor: fc.boolean(),
  loss: fc.constantFrom<ProgramSpec['loss']>('elbo', 'elbo-kl', 'iwae'),
}).map(normalise)

/** Every defect that applies to `spec` (adjusting the spec where a defect needs a factor, a plate or observed dims). */
const defectsFor = (spec: ProgramSpec): fc.Arbitrary<{ readonly spec: ProgramSpec; readonly defect: Defect }> => {
  const site = fc.integer({ min: 0, max: spec.latents.length - 1 })
  const obs = spec.obsShape.length === 0 ? [2] : spec.obsShape
  const local: PlateSpec = { size: Math.max(spec.plate?.size ?? 3, 2), subsample: spec.plate?.subsample ?? 2, local: true }
  const at = (d: Defect, s: ProgramSpec = spec) => ({ spec: s, defect: d })
  return fc.oneof(
    fc.constant(at({ kind: 'extra-guide-site' })),
    site.map((i) => at({ kind: 'missing-guide-site', site: i })),
    site.chain((i) => smallShape.filter((sh) => !sameShape(sh, spec.latents[i]!.shape)).map((shape) => at({ kind: 'guide-shape', site: i, shape }))),
    site.map((i) => at({ kind: 'guide-support', site: i })),
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }).filter((sh) => !endsWith(sh, obs))
      .map((shape) => at({ kind: 'obs-shape', shape }, { ...spec, obsShape: obs })),
    fc.record({ where: fc.constantFrom<'model' | 'guide'>('model', 'guide'), site }).map((d) => at({ kind: 'duplicate-name', ...d })),
    fc.constant(at({ kind: 'guide-samples-observed' })),
    fc.constant(at({ kind: 'non-finite-factor' }, { ...spec, factor: true })),
    fc.constant(at({ kind: 'plate-mismatch' }, { ...spec, plate: local })),
  )
}

/** Valid specs whose data plate is subsampled and holds a local latent (so the guide has the plate too). */
export const subsampledSpecArb: fc.Arbitrary<ProgramSpec> = fc.tuple(specArb, fc.integer({ min: 2, max: 4 }))
  .chain(([spec, size]) => fc.integer({ min: 1, max: size - 1 }).map((subsample) => ({ ...spec, plate: { size, subsample, local: true } })))

/** Invalid programs: a valid spec and one defect. */
export const invalidArb = specArb.chain(defectsFor)
