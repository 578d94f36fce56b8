/**
 * `scoped`: turns a tensor function into an op in the tfjs sense — every
 * intermediate it creates is released when it returns; only its result survives.
 * This is how tfjs-core's own `op()` works, and it is the one place the pure
 * layers (distributions, programs) get their memory hygiene from: they call
 * `scoped` functions and never `tidy`/`dispose` themselves.
 */
import * as tf from '@tensorflow/tfjs-core'
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

/**
 * `tf.variableGrads` that also cleans up when `f` throws. tfjs keeps the tensors each recorded op
 * saves for the backward pass (kept clones, which no `tidy` frees) until the backward pass has run;
 * a forward pass that throws (a bad observation, a missing site) never gets there, so those clones
 * would leak and the stale tape would linger. Here they are freed and the tape dropped before the
 * error goes on.
 *
 * @example
 * const { value, grads } = variableGradsOrRelease(() => loss(), vars)   // a throwing loss leaks nothing
 */
export const variableGradsOrRelease = (f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } => {
  try {
    return tf.variableGrads(f, vars)
  } catch (err) {
    const state = tf.engine().state
    if (state.gradientDepth === 0 && state.activeTape != null) {
      for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose()
      state.activeTape = null as unknown as typeof state.activeTape
    }
    throw err
  }
}
