/**
 * Validation without synchronous read-backs, for the GPU backends (webgpu in
 * Node cannot read a tensor synchronously at all; in browsers it stalls the
 * GPU pipeline). Inside {@link deferChecks}, each check of `validation.ts`
 * computes its pass/fail flag on the device and is recorded instead of read;
 * {@link settleChecks} reads every flag in one asynchronous read and throws the
 * error the check would have thrown at once — same class, same message — for
 * the first failing one. `svi.stepAsync` settles before it applies an update.
 */
import * as tf from '@tensorflow/tfjs-core'
import { indexIn } from '../errors.js'
import { untaped } from '../backend/scope.js'
import type { Constraint } from './constraints.js'

/** The first failing element of a check: its multi-index and value. */
export interface Violation { readonly index: number[]; readonly value: number }

/** A check recorded for later: its flag on the device, the checked value (a clone) and the error it raises. */
export interface DeferredCheck {
  readonly flag: tf.Tensor
  readonly value: tf.Tensor
  readonly constraint: Constraint
  readonly report: (bad: Violation) => Error
}

let pending: DeferredCheck[] | undefined

/** The checks being deferred now, or undefined when checks read back at once. @example if (deferredChecks() === undefined) … */
export const deferredChecks = (): DeferredCheck[] | undefined => pending

/**
 * The first element failing a check, from the read-back mask `ok` (shape `okShape`) and the values `x`
 * (`x` may hold several elements per mask entry, or be broadcast by it), or undefined if all pass.
 *
 * @example violationIn([1, 0], [2], [3, -1])   // { index: [1], value: -1 }
 */
export const violationIn = (ok: ArrayLike<number>, okShape: readonly number[], x: ArrayLike<number>): Violation | undefined => {
  const flat = Array.prototype.findIndex.call(ok, (v: number) => v !== 1)
  if (flat < 0) return undefined
  return { index: indexIn(flat, [...okShape]), value: x[Math.floor((flat * x.length) / Math.max(ok.length, 1))] ?? NaN }
}

/**
 * Records a check of `value` against `c` (its flag computed now, on the device, off the gradient tape),
 * to be read by {@link settleChecks}.
 *
 * @example deferCheck(pendingChecks, constraints.positive, scale, (bad) => new Error(`${bad.value}`))
 */
export const deferCheck = (into: DeferredCheck[], c: Constraint, value: tf.Tensor, report: (bad: Violation) => Error): void => {
  untaped(() => {
    into.push({ flag: tf.keep(tf.tidy(() => tf.all(c.check(value)))), value: tf.keep(tf.clone(value)), constraint: c, report })
  })
}

/** Frees what the checks hold. */
const release = (checks: readonly DeferredCheck[]): void => { for (const k of checks) tf.dispose([k.flag, k.value]) }

/**
 * Runs `f` with the checks of `validation.ts` deferred; returns its result and the checks, which the caller
 * must pass to {@link settleChecks} (or free with it after a failure of its own). Not reentrant.
 *
 * @example const { result, checks } = deferChecks(() => loss()); await settleChecks(checks)
 */
export const deferChecks = <A>(f: () => A): { result: A; checks: DeferredCheck[] } => {
  const outer = pending
  const checks: DeferredCheck[] = []
  pending = checks
  try {
    return { result: f(), checks }
  } catch (err) {
    release(checks)
    throw err
  } finally {
    pending = outer
  }
}

/**
 * Reads every deferred flag at once (asynchronously) and frees the checks; throws the error of the first
 * failing check, with the failing element read back (asynchronously) as the immediate check reports it.
 *
 * @example await settleChecks(checks)   // a NonFiniteArgumentError for a NaN scale, as normal(0, NaN) throws at once
 */
export const settleChecks = async (checks: readonly DeferredCheck[]): Promise<void> => {
  if (checks.length === 0) return
  try {
    const stacked = tf.tidy(() => tf.stack(checks.map((k) => tf.cast(tf.reshape(k.flag, []), 'int32'))))
    const flags = await stacked.data()
    stacked.dispose()
    const first = checks[Array.prototype.findIndex.call(flags, (v: number) => v !== 1)]
    if (first === undefined) return
    const ok = tf.tidy(() => first.constraint.check(first.value))
    const [okValues, xValues] = await Promise.all([ok.data(), first.value.data()])
    const okShape = ok.shape
    ok.dispose()
    const bad = violationIn(okValues as ArrayLike<number>, okShape, xValues as ArrayLike<number>)
    if (bad !== undefined) throw first.report(bad)
  } finally {
    release(checks)
  }
}
