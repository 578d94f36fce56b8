/**
 * Argument and value validation, on by default and switchable off globally
 * (like Pyro's `validate_args`). Checks read values back, so turning them off
 * saves a sync per check in a hot loop.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, NonFiniteArgumentError, ShapeError, SupportError, indexIn, showShape } from '../errors.js'
import { scoped, untaped } from '../backend/scope.js'
import { nativeAllIn } from '../backend/kernels/native/check.js'
import type { Constraint } from './constraints.js'
import { type Violation, deferCheck, deferredChecks, violationIn } from './validation-deferred.js'

let enabled = true

/**
 * Turns validation of distribution arguments and `logProb` values on or off.
 *
 * @example
 * setValidation(false)   // trusted inner loop: no read-backs
 */
export const setValidation = (on: boolean): void => { enabled = on }

/** Whether validation is on. @example if (isValidating()) { … } */
export const isValidating = (): boolean => enabled

/** The first element of the bool scalar `f` computes, its intermediates freed, off the gradient tape. */
const flagOf = scoped('constraint.flag', (f: () => tf.Tensor): number => f().dataSync()[0]!)
const readFlag = (f: () => tf.Tensor): number => untaped(() => flagOf(f))

/** Up to this many elements, an elementwise set is tested on the values read back, in JavaScript (no kernels). */
const SMALL = 64

/** Finds the first failing element: its multi-index and value, or undefined if all pass. */
const findViolation = (ok: tf.Tensor, x: tf.Tensor): Violation | undefined => {
  if (ok.size > SMALL && readFlag(() => tf.all(ok)) === 1) return undefined   // one scalar read-back, not the whole mask
  return violationIn(ok.dataSync() as ArrayLike<number>, ok.shape, x.dataSync() as ArrayLike<number>)
}

/** Whether two shapes broadcast against each other (right-aligned). */
const compatible = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i] ?? 1, y = b[b.length - i] ?? 1
    if (x !== y && x !== 1 && y !== 1) return false
  }
  return true
}

/** The first element of a small x failing `holds`, or undefined. */
const firstFailing = (x: tf.Tensor, holds: (v: number) => boolean): Violation | undefined => {
  const values = x.dataSync() as ArrayLike<number>
  for (let i = 0; i < values.length; i++) if (!holds(values[i]!)) return { index: indexIn(i, x.shape), value: values[i]! }
  return undefined
}

const violation = (c: Constraint, x: tf.Tensor): Violation | undefined => {
  const elementwise = c.base ?? c   // independent(base, n): every element must be in base's set
  if (x.size <= SMALL && elementwise.holds !== undefined && x.dtype !== 'string' && x.dtype !== 'complex64') return firstFailing(x, elementwise.holds)
  if (x.size > SMALL && nativeAllIn(elementwise._tag, x) === true) return undefined   // one native pass (the accelerator), no kernels
  if (c.quick !== undefined && x.size > SMALL && readFlag(() => c.quick!(x)) === 1) return undefined
  const ok = untaped(() => scoped('constraint.check', (t: tf.Tensor) => c.check(t))(x))
  try { return findViolation(ok, x) } finally { ok.dispose() }
}

/** Throws `report`'s error if `x` violates `c`; inside `deferChecks` (GPU backends), records the check instead. */
const checkWith = (c: Constraint, x: tf.Tensor, report: (bad: Violation) => Error): void => {
  const deferred = deferredChecks()
  if (deferred !== undefined) return deferCheck(deferred, c, x, report)
  const bad = violation(c, x)
  if (bad !== undefined) throw report(bad)
}

/**
 * Throws an {@link InvalidArgumentError} if `value` violates `c` (when validating); a
 * {@link NonFiniteArgumentError} when the offending element is NaN or ±∞.
 *
 * @example
 * checkParam('normal', 'scale', scale, constraints.positive)
 */
export const checkParam = (dist: string, arg: string, value: tf.Tensor, c: Constraint): void => {
  if (!enabled) return
  checkWith(c, value, (bad) => {
    const Failure = Number.isFinite(bad.value) ? InvalidArgumentError : NonFiniteArgumentError
    return new Failure(`${dist}: argument '${arg}' must satisfy ${c.describe}; got ${bad.value} at index [${bad.index.join(', ')}] of shape ${showShape(value.shape)}`)
  })
}

/**
 * Checks a `logProb` value: its event dims must equal `eventShape`, the rest
 * must broadcast against `batchShape`, and it must lie in `support`.
 */
export const checkValue = (dist: string, value: tf.Tensor, batch: readonly number[], event: readonly number[], support: Constraint, checkSupport = true): void => {
  if (!enabled) return
  const s = value.shape
  const eventPart = s.slice(s.length - event.length)
  const batchPart = s.slice(0, s.length - event.length)
  if (s.length < event.length || eventPart.some((d, i) => d !== event[i]) || !compatible(batchPart, batch)) {
    throw new ShapeError(`${dist}.logProb: value of shape ${showShape(s)} does not fit sampleShape ++ batchShape ${showShape(batch)} ++ eventShape ${showShape(event)}`)
  }
  if (!checkSupport) return
  checkWith(support, value, (bad) =>
    new SupportError(`${dist}.logProb: value outside the support (${support.describe}); got ${bad.value} at index [${bad.index.join(', ')}] of a value of shape ${showShape(s)}`))
}
