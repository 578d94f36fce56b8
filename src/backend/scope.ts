/**
 * `scoped`: turns a tensor function into an op in the tfjs sense — every
 * intermediate it creates is released when it returns; only its result survives.
 * This is how tfjs-core's own `op()` works, and it is the one place the pure
 * layers (distributions, programs) get their memory hygiene from: they call
 * `scoped` functions and never `tidy`/`dispose` themselves.
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import './gradients.js' // registers tfjs's gradients, plus zero gradients for comparisons

/**
 * Wraps `f` so that it frees its intermediates; the returned tensors belong to the caller.
 *
 * @example
 * const logDensity = scoped('normal.logProb', (x: tf.Tensor) => tf.neg(tf.square(x)))
 * const y = logDensity(tf.scalar(2))   // only `y` survives
 */
export const scoped = <Args extends readonly unknown[], R extends tf.TensorContainer>(
  name: string,
  f: (...args: Args) => R,
): ((...args: Args) => R) =>
  (...args) => tf.tidy(name, () => f(...args))

/**
 * Runs `f` with the gradient tape paused: nothing `f` computes is recorded for a backward pass,
 * so tfjs saves no clones of its inputs and outputs (one `Identity` launch each) and backprop has
 * fewer nodes to filter. For bookkeeping whose tensors are never differentiated: validation flags,
 * finiteness checks. A tensor made here acts as a constant (like {@link stopGradient}) if used later.
 *
 * @example
 * const ok = untaped(() => tf.all(tf.isFinite(x)).dataSync()[0] === 1)
 */
export const untaped = <R>(f: () => R): R => {
  const state = tf.engine().state
  state.kernelDepth++   // tfjs records a kernel only at kernel depth 0 (how it keeps a kernel's own ops off the tape)
  try { return f() } finally { state.kernelDepth-- }
}

/** Frees what a forward pass saved for a backward pass that will not run, and drops the tape. */
const releaseTape = (): void => {
  const state = tf.engine().state
  if (state.gradientDepth === 0 && state.activeTape != null) {
    for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose()
    state.activeTape = null as unknown as typeof state.activeTape
  }
}

/**
 * The value of `f` and its gradient with respect to each variable of `vars` it depends on, like
 * `tf.variableGrads`, with two differences:
 *
 * - A variable the loss does not reach gets no entry in `grads`, as in Pyro, where its `.grad`
 *   stays `None` and the optimizer skips it (so an optimizer given `grads` leaves it as it is).
 *   When no variable reaches the loss, the value is still computed and `grads` is empty;
 *   tfjs would throw "Cannot find a connection between any variable and the result of the loss".
 *   Non-trainable variables get no entry either.
 * - When `f` throws, it cleans up: tfjs keeps the tensors each recorded op saves for the backward
 *   pass (kept clones, which no `tidy` frees) until the backward pass has run; a forward pass that
 *   throws (a bad observation, a missing site) never gets there, so those clones would leak and
 *   the stale tape would linger. Here they are freed and the tape dropped before the error goes on.
 *
 * @example
 * const { value, grads } = variableGradsOrRelease(() => loss(), vars)   // a throwing loss leaks nothing
 */
export const variableGradsOrRelease = (f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } => {
  const trainable = vars.filter((v) => v.trainable)
  try {
    if (trainable.length === 0) return { value: tf.tidy(f), grads: {} }
    // allowNoGradients: a variable off the loss's path gets `undefined`, not an error.
    const { value, grads } = tf.engine().gradients(f, trainable, undefined, true)
    if (value.rank !== 0) {
      tf.dispose([value, ...grads.filter((g) => g != null)])
      throw new ShapeError(`variableGradsOrRelease: the loss function must return a scalar; got a tensor of shape ${showShape(value.shape)}`)
    }
    const named: tf.NamedTensorMap = {}
    trainable.forEach((v, i) => { const g = grads[i]; if (g != null) named[v.name] = g })
    return { value: value as tf.Scalar, grads: named }
  } catch (err) {
    releaseTape()
    throw err
  }
}
