/**
 * Finding the site behind a non-finite loss: re-trace the guide and the model
 * (replayed on it) and report the first site whose scaled log-density, factor
 * or value is not finite.
 */
import * as tf from '@tensorflow/tfjs-core'
import { isValidating, setValidation } from '../distributions/validation.js'
import { subSeed } from '../backend/seed.js'
import { factorTerm, siteTerm } from './log-joint.js'
import type { LossContext, ProgramFn } from './loss.js'
import { traceReplayed } from './replayed.js'
import type { Trace } from './trace.js'

const finite = (t: tf.Tensor): boolean => tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1)

/** The first site of a trace whose value or term is non-finite, described. */
const firstBad = (where: 'guide' | 'model', trace: Trace): string | undefined => {
  for (const s of trace.sites) {
    if (s._tag === 'Factor' && !finite(factorTerm(s))) return `factor '${s.name}' in the ${where} (its log-weight is not finite)`
    if (s._tag !== 'Sample') continue
    if (!finite(s.value)) return `site '${s.name}' in the ${where} (its value is not finite)`
    if (!finite(siteTerm(s))) return `site '${s.name}' in the ${where} (its log-density is not finite)`
  }
  return undefined
}

/**
 * Names the site that makes the bound non-finite, or `undefined` when every
 * site is finite (then a gradient overflowed). Replays the step's first particle
 * with the seeds the step used (`traceReplayed`, as every estimator). Runs with argument validation
 * off, so that a distribution built from a non-finite argument (a scale that
 * overflowed to ∞) reaches its site instead of failing before it. Call inside `tf.tidy`.
 *
 * @example diagnoseNonFinite(model, guide, [x], ctx)   // "site 'x' in the model (its log-density is not finite)"
 */
export const diagnoseNonFinite = <Args extends readonly unknown[]>(model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, ctx: LossContext): string | undefined => {
  const validating = isValidating()
  setValidation(false)
  try {
    // The same traces, with the same seeds, as the estimators' first particle.
    const { guide: q, model: p } = traceReplayed(model, guide, args, ctx.handlers, subSeed(ctx.seed, 0))
    return firstBad('guide', q) ?? firstBad('model', p)
  } catch (err) {
    return `an error while re-tracing: ${(err as Error).message}`
  } finally {
    setValidation(validating)
  }
}
