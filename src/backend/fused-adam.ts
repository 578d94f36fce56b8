/**
 * Adam in one native kernel per variable. tfjs's `AdamOptimizer` spends ≈ 12
 * small kernels per variable per step; with the accelerator active, `svi`
 * applies the same update — same formula, same state (the optimizer's own
 * moment variables and β-powers, so checkpoints and `getWeights` see no
 * difference) — with one `TfpplAdam` kernel per variable.
 */
import * as tf from '@tensorflow/tfjs-core'
import { ADAM_KERNEL, nativeKernelsInstalled } from './native-kernels.js'

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

/**
 * Applies `grads` with `optimizer` through the fused kernel when it can (an `AdamOptimizer`, the
 * accelerator's kernels installed, the wasm backend); otherwise calls `optimizer.applyGradients`.
 *
 * x′ = x − lr · m̂ / (√v̂ + ε), m̂ = m′ / (1 − β₁ᵗ), v̂ = v′ / (1 − β₂ᵗ),
 * m′ = β₁m + (1 − β₁)g, v′ = β₂v + (1 − β₂)g².
 *
 * @example
 * applyGradients(tf.train.adam(1e-3), grads)   // one TfpplAdam kernel per variable when native
 */
export const applyGradients = (optimizer: tf.Optimizer, grads: tf.NamedTensorMap): void => {
  // Not `instanceof`: tfjs's optimizer classes answer it by duck typing (an SGD optimizer is an `instanceof AdamOptimizer`).
  if (optimizer.getClassName() !== 'Adam' || !nativeKernelsInstalled() || tf.getBackend() !== 'wasm') {
    optimizer.applyGradients(grads)
    return
  }
  const o = optimizer as unknown as AdamState
  tf.tidy(() => {
    const attrs = { learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, c1: oneMinus(o.accBeta1), c2: oneMinus(o.accBeta2) }
    Object.keys(grads).forEach((name, i) => {
      const value = tf.engine().registeredVariables[name]!
      const m = (o.accumulatedFirstMoment[i] ??= slot(`${name}/m`, value)).variable
      const v = (o.accumulatedSecondMoment[i] ??= slot(`${name}/v`, value)).variable
      const g = grads[name]
      if (g === undefined || g === null) return
      const [x2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { x: value, g, m, v }, attrs) as tf.Tensor[]
      m.assign(m2!); v.assign(v2!); value.assign(x2!)
    })
    o.accBeta1.assign(tf.mul(o.accBeta1, o.beta1))
    o.accBeta2.assign(tf.mul(o.accBeta2, o.beta2))
  })
  o.incrementIterations()
}
