/**
 * Vectorised particles (Pyro's `vectorize_particles`): K particles in one run of
 * the guide and one of the model, inside an outermost plate of K elements whose
 * dim is left of every plate of the program (dim −(depth + 1), depth = the
 * program's plate nesting). Every site then carries a leading particle axis and
 * the estimators reduce it like any other plate; the loop stays as the fallback
 * (`vectorizeParticles: false`) for programs whose own shape logic cannot
 * broadcast over that axis.
 */
import { InvalidArgumentError, TfpplError } from '../errors.js'
import { plate } from '../dsl/primitives.js'
import type { Handler } from './interpreter.js'
import type { LossContext, ProgramFn } from './loss.js'
import { plateDepthOf } from './plate-costs.js'
import { PARTICLE_PLATE } from './plate-dims.js'
import { traceReplayed } from './replayed.js'
import type { ReplayOptions } from './replayed.js'
import { SiteError } from './site-error.js'
import type { Trace } from './trace.js'

/** A program run inside the particle plate of `k` elements at dim −(depth + 1). */
const inParticlePlate = <Args extends readonly unknown[]>(fn: ProgramFn<Args>, k: number, depth: number): ProgramFn<Args> =>
  (...args) => plate(PARTICLE_PLATE, k, { dim: -(depth + 1) }, () => fn(...args))

/** Records the name of the last site or plate a run met (to name it when the run fails). */
const lastSite = (seen: { name: string | undefined }): Handler => (msg, next) => {
  if (msg._tag === 'PlateEnter') seen.name = msg.frame.name === PARTICLE_PLATE ? seen.name : `plate '${msg.frame.name}'`
  else if ('name' in msg && msg._tag !== 'PlateExit') seen.name = `site '${msg.name}'`
  return next(msg)
}

/** Errors a vectorised run rethrows as they are: tfppl's own, except shape errors at sites (which the particle axis may cause). */
const ownError = (e: unknown): boolean => e instanceof TfpplError && !(e instanceof SiteError)

/**
 * The guide and model traces of `k` particles in one run: every site inside an outermost plate
 * '_particles' of `k` elements at dim −(depth + 1). A shape error on the way (a site that does
 * not broadcast, a tfjs op that rejects the extra leading axis) becomes a {@link SiteError}
 * naming the last site met and suggesting `vectorizeParticles: false`; tfppl's other errors
 * (non-finite or out-of-support arguments) pass unchanged.
 *
 * @example const { guide: q, model: p } = vectorizedTraces(model, guide, [x], ctx, { k: 16, depth: 1, estimator: 'elbo' })
 */
export const vectorizedTraces = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, ctx: LossContext,
  at: { readonly k: number; readonly depth: number; readonly estimator: string }, options: ReplayOptions = {},
): { readonly guide: Trace; readonly model: Trace } => {
  const seen: { name: string | undefined } = { name: undefined }
  try {
    return traceReplayed(inParticlePlate(model, at.k, at.depth), inParticlePlate(guide, at.k, at.depth), args, [lastSite(seen), ...ctx.handlers], ctx.seed, undefined, options)
  } catch (e) {
    if (ownError(e)) throw e
    const what = e instanceof Error ? e.message : String(e)
    throw new SiteError(`${at.estimator} with ${at.k} vectorised particles (a particle plate at dim ${-(at.depth + 1)}, left of ${at.depth} plate dim(s)) failed ${seen.name === undefined ? 'at the first site' : `after ${seen.name}`}: ${what}. If the program's own shape logic cannot broadcast over a leading particle dim, run the particles one at a time with ${at.estimator}({ numParticles: ${at.k}, vectorizeParticles: false }); if a plate of the program was missed, give maxPlateNesting`)
  }
}

/**
 * The plate depth (Pyro's max_plate_nesting) a particle plate must sit left of: `given`, or read
 * from one traced particle of the pair and remembered per model/guide pair (as Pyro guesses it
 * once per ELBO). Programs whose nesting changes with their arguments must give it. `options` are the
 * traced run's (enumElbo's leaves model-enumerated sites unguided: `coverage: false`).
 *
 * @example const depthOf = plateDepthMemo(undefined); const depth = depthOf(model, guide, [x], ctx)
 */
export const plateDepthMemo = (given: number | undefined, options: ReplayOptions = {}) => {
  const memo = new WeakMap<object, WeakMap<object, number>>()
  return <Args extends readonly unknown[]>(model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, ctx: LossContext): number => {
    if (given !== undefined) return given
    const known = memo.get(model)?.get(guide)
    if (known !== undefined) return known
    const { guide: q, model: p } = traceReplayed(model, guide, args, ctx.handlers, ctx.seed, undefined, options)
    const depth = plateDepthOf([q, p])
    memo.set(model, (memo.get(model) ?? new WeakMap()).set(guide, depth))
    return depth
  }
}

/**
 * Checks an estimator's particle options: a positive integer count, a non-negative integer plate nesting.
 *
 * @example checkParticleOptions('elbo', 16, undefined)
 */
export const checkParticleOptions = (estimator: string, numParticles: number, maxPlateNesting: number | undefined): void => {
  if (!Number.isInteger(numParticles) || numParticles < 1) {
    throw new InvalidArgumentError(`${estimator}: numParticles must be a positive integer; got ${numParticles}`)
  }
  if (maxPlateNesting !== undefined && !(Number.isInteger(maxPlateNesting) && maxPlateNesting >= 0)) {
    throw new InvalidArgumentError(`${estimator}: maxPlateNesting must be a non-negative integer (the number of plate dims the program nests); got ${maxPlateNesting}`)
  }
}
