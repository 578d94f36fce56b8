/**
 * Applying an optimizer step only when the loss and gradients are finite, and
 * Adam in one kernel per variable. tfjs's `AdamOptimizer` spends ≈ 12 small
 * kernels per variable per step; on the wasm backend `svi` applies the same
 * update — same formula, same state (the optimizer's own moment variables and
 * β-powers, so checkpoints and `getWeights` see no difference) — with one
 * `TfpplAdam` kernel per variable (`wasm-adam.ts`: C with the accelerator,
 * WebAssembly SIMD on the heap without), which also checks the gradient's finiteness,
 * so no separate pass over the gradients is needed.
 */
import * as tf from '@tensorflow/tfjs-core'
import { ADAM_KERNEL, wasmAdamInstalled } from './wasm-adam.js'

interface Slot { originalName: string; variable: tf.Variable }

/** The private state of tfjs 4.22's `AdamOptimizer` the fused update reads and writes. */
interface AdamState {
  readonly learningRate: number
  readonly beta1: number
  readonly beta2: number
  readonly epsilon: number
  readonly accBeta1: tf.Variable
  readonly accBeta2: tf.Variable
  readonly accumulatedFirstMoment: (Slot | undefined)[]
  readonly accumulatedSecondMoment: (Slot | undefined)[]
  readonly incrementIterations: () => void
}

const slot = (name: string, value: tf.Variable): Slot =>
  ({ originalName: name, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) })

/** 1 − β^t as tfjs computes it: a float32 subtraction. */
const oneMinus = (acc: tf.Variable): number => Math.fround(1 - acc.dataSync()[0]!)

/** Whether `optimizer` can take the fused path now: tfjs's Adam on the wasm backend (in C with the accelerator, else WebAssembly SIMD). */
const fusable = (optimizer: tf.Optimizer): boolean =>
  // Not `instanceof`: tfjs's optimizer classes answer it by duck typing (an SGD optimizer is an `instanceof AdamOptimizer`).
  optimizer.getClassName() === 'Adam' && tf.getBackend() === 'wasm' && wasmAdamInstalled()

/** Every variable's fused update, then — only if every gradient was finite — the assignments. */
const fusedAdam = (o: AdamState, value: tf.Scalar, grads: tf.NamedTensorMap): boolean => tf.tidy(() => {
  // The kernel needs the moment slots; on a first step check the gradients before creating them, as tfjs's own path does.
  const firstStep = Object.keys(grads).some((_, i) => o.accumulatedFirstMoment[i] === undefined)
  if (firstStep && !allFinite(value, Object.values(grads))) return false
  const attrs = { learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, c1: oneMinus(o.accBeta1), c2: oneMinus(o.accBeta2) }
  const updates = Object.keys(grads).flatMap((name, i) => {
    const value = tf.engine().registeredVariables[name]!
    const m = (o.accumulatedFirstMoment[i] ??= slot(`${name}/m`, value)).variable
    const v = (o.accumulatedSecondMoment[i] ??= slot(`${name}/v`, value)).variable
    const g = grads[name]
    if (g === undefined || g === null) return []
    const [x2, m2, v2, finite] = tf.engine().runKernel(ADAM_KERNEL, { x: value, g, m, v }, attrs) as tf.Tensor[]
    return [{ targets: [value, m, v], values: [x2!, m2!, v2!], finite: finite!.dataSync()[0] === 1 }]
  })
  if (!updates.every((u) => u.finite)) return false
  for (const u of updates) u.targets.forEach((t, j) => t.assign(u.values[j]!))
  o.accBeta1.assign(tf.mul(o.accBeta1, o.beta1))
  o.accBeta2.assign(tf.mul(o.accBeta2, o.beta2))
  o.incrementIterations()
  return true
})

/**
 * Whether the loss and every gradient are finite: one cheap reduction, value + Σ sum(g), is finite
 * unless some element is NaN or ±∞ (or the sums overflow, in which case the exact elementwise check decides).
 */
const allFinite = (value: tf.Scalar, grads: readonly tf.Tensor[]): boolean => tf.tidy(() => {
  if (tf.isFinite(tf.addN([value, ...grads.map((g) => tf.sum(g))])).dataSync()[0] === 1) return true
  return tf.all(tf.stack([tf.isFinite(value), ...grads.map((g) => tf.all(tf.isFinite(g)))])).dataSync()[0] === 1
})

/**
 * Applies `grads` with `optimizer` if the loss `value` and every gradient are finite; returns whether
 * it did (nothing changes otherwise). With tfjs's Adam and the accelerator active, one fused
 * `TfpplAdam` kernel per variable both checks its gradient and computes the update:
 *
 * x′ = x − lr · m̂ / (√v̂ + ε), m̂ = m′ / (1 − β₁ᵗ), v̂ = v′ / (1 − β₂ᵗ),
 * m′ = β₁m + (1 − β₁)g, v′ = β₂v + (1 − β₂)g².
 *
 * @example
 * const applied = applyFiniteGradients(tf.train.adam(1e-3), loss, grads)   // false: a NaN somewhere, nothing changed
 */
export const applyFiniteGradients = (optimizer: tf.Optimizer, value: tf.Scalar, grads: tf.NamedTensorMap): boolean => {
  if (fusable(optimizer)) return Number.isFinite(value.dataSync()[0]) && fusedAdam(optimizer as unknown as AdamState, value, grads)
  if (!allFinite(value, Object.values(grads))) return false
  optimizer.applyGradients(grads)
  return true
}
