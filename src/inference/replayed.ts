/**
 * One particle of every variational estimator: trace the guide, replay the
 * model on its draws, and check that the two cover each other's sites.
 */
import { subSeed } from '../backend/seed.js'
import { checkCoverage } from './coverage.js'
import { replay, seed } from './handlers.js'
import type { Handler } from './interpreter.js'
import type { ProgramFn } from './loss.js'
import { traceProgram } from './trace.js'
import type { Trace } from './trace.js'

/**
 * The guide's trace (seeded with subSeed(s, 0)) and the model's trace replayed on
 * it (subSeed(s, 1)); unseeded when `particleSeed` is undefined.
 *
 * @example const { guide: q, model: p } = traceReplayed(model, guide, [x], [store.handler], 7)
 */
export const traceReplayed = <Args extends readonly unknown[]>(
  model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, handlers: readonly Handler[], particleSeed: number | undefined,
): { readonly guide: Trace; readonly model: Trace } => {
  const seeded = (i: number): Handler[] => {
    const s = subSeed(particleSeed, i)
    return s === undefined ? [] : [seed(s)]
  }
  const q = traceProgram(guide(...args), [...handlers, ...seeded(0)]).trace
  const p = traceProgram(model(...args), [replay(q), ...handlers, ...seeded(1)]).trace
  checkCoverage(p, q)
  return { guide: q, model: p }
}
