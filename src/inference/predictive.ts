/**
 * Prior and posterior predictive draws: run the model `numSamples` times (on
 * guide draws, when there is a guide) with its observations turned into draws,
 * and stack every sample and deterministic site.
 */
import * as tf from '@tensorflow/tfjs-core'
import { subSeed } from '../backend/seed.js'
import { InvalidArgumentError, sameShape, showShape } from '../errors.js'
import { seed } from './handlers.js'
import { SiteError } from './interpreter.js'
import type { Handler } from './interpreter.js'
import type { ProgramFn } from './loss.js'
import { traceReplayed } from './replayed.js'
import { recordNames, warnUnknownNames } from './run-checks.js'
import { traceProgram } from './trace.js'
import { warningSink } from './warnings.js'
import type { WarningOptions } from './warnings.js'

/**
 * Turns observed sample sites back into latent ones (obs and value dropped), so
 * the default interpreter draws them from their distributions: x ~ p(x | z)
 * instead of the data. Only the named sites when `names` is given.
 *
 * @example traceProgram(model(x), [uncondition(), seed(0)])   // x is a fresh draw
 */
export const uncondition = (names?: readonly string[]): Handler => (msg, next) =>
  msg._tag === 'Sample' && msg.kind === 'observed' && (names === undefined || names.includes(msg.name))
    ? next({ ...msg, kind: 'latent', obs: undefined, value: undefined })
    : next(msg)

/** Options of {@link predictive}. */
export interface PredictiveOptions<Args extends readonly unknown[]> extends WarningOptions {
  /** Draws latents from this guide (posterior predictive); without it, from the prior. */
  readonly guide?: ProgramFn<Args>
  /** Runs of the model, stacked along a new leading dim. */
  readonly numSamples: number
  /** Run i uses subSeed(seed, i) (guide: its sub-seed 0, model: 1). Default: unseeded. */
  readonly seed?: number
  /** Handlers applied (innermost) to model and guide, e.g. the param store (`svi(…).predictive` passes its own). */
  readonly handlers?: readonly Handler[]
}

/**
 * Answers nothing; meets every param no handler gave a value to (it would be freshly initialised):
 * `onFresh(name)` decides — an error for the guide's, a warning for the model's.
 */
const freshParams = (onFresh: (name: string) => void): Handler => (msg, next) => {
  if (msg._tag === 'Param' && msg.value === undefined) onFresh(msg.name)
  return next(msg)
}

/** The error for a guide param no store answers: a posterior predictive on fresh params is a prior-like draw in disguise. */
const freshGuideParam = (name: string): never => {
  throw new InvalidArgumentError(`predictive: the guide's param '${name}' has no value here, so it would be freshly initialised and the "posterior" draws would come from an untrained guide. After fitting, use s.predictive(model, { guide, numSamples }) on the fitted svi, or pass handlers: [s.params.handler]`)
}

type Values = Record<string, tf.Tensor>

/** What the runs of one call check: the site names met, and what to do with a fresh model param. */
interface RunCheck {
  readonly seen: Set<string>
  readonly freshModelParam: (name: string) => void
}

/**
 * One run: the guide (if any) traced and the model replayed on it (`traceReplayed`, as every
 * estimator; latents the guide lacks are drawn from the model), observations unconditioned.
 */
const runOnce = <Args extends readonly unknown[]>(model: ProgramFn<Args>, opts: PredictiveOptions<Args>, args: Args, s: number | undefined, check: RunCheck): Values => {
  const handlers = opts.handlers ?? []
  const modelSide = { first: [recordNames(check.seen), uncondition()], last: [freshParams(check.freshModelParam)] }
  const modelSeed = subSeed(s, 1)
  const p = opts.guide === undefined
    ? traceProgram(model(...args), [...modelSide.first, ...handlers, ...(modelSeed === undefined ? [] : [seed(modelSeed)]), ...modelSide.last]).trace
    : traceReplayed(model, opts.guide, args, handlers, s, undefined, { coverage: false, model: modelSide, guide: { first: [recordNames(check.seen)], last: [freshParams(freshGuideParam)] } }).model
  return Object.fromEntries(p.sites.flatMap((site) => site._tag === 'Factor' ? [] : [[site.name, site.value] as const]))
}


/** Stacks one site's values over the runs; every run must have it, with one shape. */
const stackSite = (name: string, runs: readonly Values[]): tf.Tensor => {
  const values = runs.map((r, i) => {
    const v = Object.hasOwn(r, name) ? r[name] : undefined
    if (v === undefined) throw new SiteError(`predictive: site '${name}' ran in some runs but not in run ${i}; stacking needs every site in every run`)
    return v
  })
  const shape = values[0]!.shape
  const bad = values.findIndex((v) => !sameShape(v.shape, shape))
  if (bad >= 0) throw new SiteError(`predictive: site '${name}' has shape ${showShape(values[bad]!.shape)} in run ${bad} but ${showShape(shape)} in run 0; stacking needs one shape`)
  return tf.stack(values)
}

/**
 * The predictive distribution as draws: returns, for every sample site (latent
 * and observed) and deterministic site of the model, its values over
 * `numSamples` runs, shape [numSamples, ...siteShape].
 *
 * Posterior predictive (with `guide`): z ~ q(z | x), then x̃ ~ p(x̃ | z) — the model
 * is replayed on the guide's draws and its observed sites are drawn afresh
 * ({@link uncondition}), not returned as the data. Latents the guide does not
 * sample are drawn from the model. Prior predictive (no guide): z ~ p(z), x̃ ~ p(x̃ | z).
 * The caller owns the returned tensors.
 *
 * @example
 * const draws = predictive(model, { guide, numSamples: 1000, seed: 0 })(x)
 * draws.x.shape   // [1000, ...x.shape]
 * tf.dispose(draws)
 */
export const predictive = <Args extends readonly unknown[]>(model: ProgramFn<Args>, opts: PredictiveOptions<Args>): ((...args: Args) => Values) => {
  if (!Number.isInteger(opts.numSamples) || opts.numSamples < 1) {
    throw new InvalidArgumentError(`predictive: numSamples must be a positive integer; got ${opts.numSamples}`)
  }
  const warn = warningSink(opts)
  return (...args) => tf.tidy(() => {
    const check: RunCheck = { seen: new Set(), freshModelParam: (name) => warn({ cause: 'fresh-params', message: `predictive: the model's param '${name}' has no value here, so it is freshly initialised; pass the fitted store (s.predictive(model, …), or handlers: [s.params.handler]) to use the fitted one` }) }
    const runs = Array.from({ length: opts.numSamples }, (_, i) => tf.tidy(() => runOnce(model, opts, args, subSeed(opts.seed, i), check)))
    warnUnknownNames('predictive', opts.handlers ?? [], check.seen, warn)
    const names = [...new Set(runs.flatMap((r) => Object.keys(r)))]
    return Object.fromEntries(names.map((name) => [name, stackSite(name, runs)]))
  })
}
