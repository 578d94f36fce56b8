/**
 * Applying an optimizer step only when the loss, the gradients and the updated parameters are
 * finite (an overflowing learning rate, or a parameter near the float32 maximum, can turn finite
 * gradients into ±∞), and Adam fused. tfjs's `AdamOptimizer` spends ≈ 12 small kernels per variable
 * per step; on the wasm backend `svi` applies the same update — same formula, same state (the
 * optimizer's own moment variables and β-powers, so checkpoints and `getWeights` see no difference)
 * — with the accelerator as one `TfpplAdamAll` kernel for all variables (`kernels/native/adam.ts`:
 * one native call), without it as one `TfpplAdam` kernel per variable (`kernels/wasm/adam.ts`:
 * WebAssembly SIMD on the heap). Both also check the gradients' and the new values' finiteness,
 * so no separate pass is needed, and both compute the same float32 operations (bit-identical
 * results). Any other optimizer, or backend, runs tfjs's own `applyGradients`: what that may change
 * is saved first (buffer-sharing clones, no copies) and put back if the loss, a gradient or an
 * updated variable is not finite.
 */
import * as tf from '@tensorflow/tfjs-core'
import { BackendError } from '../errors.js'
import { nativeAllIn } from './kernels/native/check.js'
import { ADAM_ALL_KERNEL, nativeAdamAllInstalled } from './kernels/native/adam.js'
import { ADAM_KERNEL, wasmAdamInstalled } from './kernels/wasm/adam.js'

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

/**
 * The variable each gradient of `grads` is for, by name in tfjs's registry, in the map's order.
 *
 * @example variablesOf({ [w.name]: dw })   // [w]
 */
const variablesOf = (grads: tf.NamedTensorMap): tf.Variable[] => Object.keys(grads).map((name) => {
  const v = tf.engine().registeredVariables[name]
  if (v === undefined) throw new BackendError(`applyFiniteGradients: the gradient '${name}' names no registered variable (a variable disposed, or a gradient map built by hand with a wrong name)`)
  return v
})

const slot = (name: string, value: tf.Variable): Slot =>
  ({ originalName: name, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) })

/** Whether `optimizer` can take the fused path now: tfjs's Adam on the wasm backend (in C with the accelerator, else WebAssembly SIMD). */
const fusable = (optimizer: tf.Optimizer): boolean =>
  // Not `instanceof`: tfjs's optimizer classes answer it by duck typing (an SGD optimizer is an `instanceof AdamOptimizer`).
  optimizer.getClassName() === 'Adam' && tf.getBackend() === 'wasm' && wasmAdamInstalled()

/** One variable's operands of the update: its value x, gradient g and moment slots m, v. */
interface Operands { readonly x: tf.Variable; readonly g: tf.Tensor; readonly m: tf.Variable; readonly v: tf.Variable }

/**
 * Every gradient's operands, creating the moment slots a first step needs (in the order tfjs's Adam
 * would: index i for the i-th gradient name, a null gradient included), and the function that removes
 * the slots created, as if this never ran.
 */
const operandsOf = (o: AdamState, grads: tf.NamedTensorMap): { ops: Operands[]; undo: () => void } => {
  const created: Array<[(Slot | undefined)[], number]> = []
  const slotAt = (slots: (Slot | undefined)[], i: number, name: string, x: tf.Variable): tf.Variable => {
    const s = slots[i]
    if (s !== undefined && s !== null) return s.variable
    created.push([slots, i])
    return (slots[i] = slot(name, x)).variable
  }
  const lengths = [o.accumulatedFirstMoment.length, o.accumulatedSecondMoment.length] as const
  const names = Object.keys(grads)
  const ops = variablesOf(grads).flatMap((x, i) => {
    const m = slotAt(o.accumulatedFirstMoment, i, `${names[i]}/m`, x)
    const v = slotAt(o.accumulatedSecondMoment, i, `${names[i]}/v`, x)
    const g = grads[names[i]!]
    return g === undefined || g === null ? [] : [{ x, g, m, v }]
  })
  const undo = (): void => {
    for (const [slots, i] of created) { slots[i]!.variable.dispose(); slots[i] = undefined }
    o.accumulatedFirstMoment.length = lengths[0]
    o.accumulatedSecondMoment.length = lengths[1]
  }
  return { ops, undo }
}

/** What a fused step would assign (x′, m′, v′ of each variable, in the order of `targets`) and whether every g and x′ was finite. */
interface Update { readonly targets: tf.Variable[]; readonly values: tf.Tensor[]; readonly finite: boolean }

const targetsOf = (ops: readonly Operands[]): tf.Variable[] => ops.flatMap((op) => [op.x, op.m, op.v])

/** All variables in one `TfpplAdamAll` launch (the accelerator: one native call). */
const allAtOnce = (ops: readonly Operands[], attrs: tf.NamedAttrMap): Update => {
  const inputs = Object.fromEntries(ops.flatMap((op, i) => [[`x${i}`, op.x], [`g${i}`, op.g], [`m${i}`, op.m], [`v${i}`, op.v]]))
  const outs = tf.engine().runKernel(ADAM_ALL_KERNEL, inputs, { ...attrs, count: ops.length }) as tf.Tensor[]
  return { targets: targetsOf(ops), values: outs.slice(0, -1), finite: outs[outs.length - 1]!.dataSync()[0] === 1 }
}

/** One `TfpplAdam` launch per variable. */
const perVariable = (ops: readonly Operands[], attrs: tf.NamedAttrMap): Update => {
  const each = ops.map((op) => tf.engine().runKernel(ADAM_KERNEL, { x: op.x, g: op.g, m: op.m, v: op.v }, attrs) as tf.Tensor[])
  return { targets: targetsOf(ops), values: each.flatMap((r) => r.slice(0, 3)), finite: each.every((r) => r[3]!.dataSync()[0] === 1) }
}

/** βᵗ⁺¹ = βᵗ · β as tfjs's float32 `mul` computes it (a product of two float32s is exact in a double, then rounded once), without a kernel. */
const advancePower = (acc: tf.Variable, power: number, beta: number): void => { acc.assign(tf.scalar(Math.fround(power * Math.fround(beta)))) }

/**
 * Every variable's fused update, then — only if every gradient and every new value was finite — the
 * assignments and the β-powers. A refused step also removes the moment slots it created (a first
 * step), as if it never ran.
 */
const fusedAdam = (o: AdamState, grads: tf.NamedTensorMap): boolean => tf.tidy(() => {
  const [p1, p2] = [o.accBeta1.dataSync()[0]!, o.accBeta2.dataSync()[0]!]
  // cᵢ = 1 − βᵢᵗ as tfjs computes it: a float32 subtraction.
  const attrs = { learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, c1: Math.fround(1 - p1), c2: Math.fround(1 - p2) }
  const { ops, undo } = operandsOf(o, grads)
  const update = ops.length > 0 && nativeAdamAllInstalled() ? allAtOnce(ops, attrs) : perVariable(ops, attrs)
  if (!update.finite) { undo(); return false }
  update.targets.forEach((t, j) => t.assign(update.values[j]!))
  advancePower(o.accBeta1, p1, o.beta1)
  advancePower(o.accBeta2, p2, o.beta2)
  o.incrementIterations()
  return true
})

/**
 * Whether the loss and every tensor are finite. With the accelerator, one native pass per tensor over
 * the wasm heap (no kernels); the rest by one cheap reduction, value + Σ sum(t), which is finite unless
 * some element is NaN or ±∞ (or the sums overflow, in which case the exact elementwise check decides).
 */
const allFinite = (value: tf.Scalar, tensors: readonly tf.Tensor[]): boolean => tf.tidy(() => {
  const rest: tf.Tensor[] = []
  for (const t of tensors) {
    const ok = nativeAllIn('real', t)
    if (ok === false) return false
    if (ok === undefined) rest.push(t)
  }
  if (tf.isFinite(tf.addN([value, ...rest.map((t) => tf.sum(t))])).dataSync()[0] === 1) return true
  return tf.all(tf.stack([tf.isFinite(value), ...rest.map((t) => tf.all(tf.isFinite(t)))])).dataSync()[0] === 1
})

const isSlot = (s: unknown): s is Slot => typeof s === 'object' && s !== null && (s as Partial<Slot>).variable instanceof tf.Variable

/**
 * Records what `optimizer.applyGradients` may change — the values of `vars`, and the optimizer's own
 * state as tfjs's optimizers keep it in their fields: variables (Adam's β-powers, Adamax's iteration),
 * arrays of `{ originalName, variable }` slots (moments, accumulators), plain values (the iteration
 * count) — and returns the function that puts it all back, freeing the slots created meanwhile.
 * The saved values are clones, which share their buffers (a variable's `assign` swaps buffers, never
 * writes into one), so this costs no copy; call both inside one `tidy`, which frees them.
 */
const snapshot = (optimizer: tf.Optimizer, vars: readonly tf.Variable[]): { restore: () => void; saved: () => tf.Tensor[] } => {
  const own = optimizer as unknown as Record<string, unknown>
  const values = new Map<tf.Variable, tf.Tensor>()
  const keep = (v: tf.Variable): void => { if (!values.has(v)) values.set(v, tf.clone(v)) }
  vars.forEach(keep)
  const arrays: Array<[string, unknown[], unknown[]]> = []
  const plain = new Map<string, unknown>()
  for (const [key, field] of Object.entries(own)) {
    if (field instanceof tf.Variable) keep(field)
    else if (Array.isArray(field)) { arrays.push([key, field, [...field]]); field.forEach((s) => { if (isSlot(s)) keep(s.variable) }) }
    else if (typeof field !== 'object' && typeof field !== 'function') plain.set(key, field)
  }
  const restore = (): void => {
    for (const [v, old] of values) v.assign(old)
    for (const [key, array, items] of arrays) {
      const kept = new Set(items)
      const now = own[key]
      for (const s of Array.isArray(now) ? now : []) if (isSlot(s) && !kept.has(s)) s.variable.dispose()
      array.splice(0, array.length, ...items)
      own[key] = array
    }
    for (const key of Object.keys(own)) {
      if (plain.has(key)) own[key] = plain.get(key)
      else if (typeof own[key] !== 'object' && typeof own[key] !== 'function') delete own[key]   // e.g. iterations_, set by the first step
    }
  }
  return { restore, saved: () => [...values.values()] }
}

/** tfjs's `applyGradients`, kept only if the loss, the gradients and every updated variable are finite (else undone). */
const appliedIfFinite = (optimizer: tf.Optimizer, value: tf.Scalar, grads: tf.NamedTensorMap): boolean => tf.tidy(() => {
  const vars = variablesOf(grads)
  const { restore } = snapshot(optimizer, vars)
  try { optimizer.applyGradients(grads) } catch (err) { restore(); throw err }
  const given = Object.values(grads).filter((g): g is tf.Tensor => g !== undefined && g !== null)
  if (allFinite(value, [...given, ...vars])) return true
  restore()
  return false
})

/**
 * Applies `grads` with `optimizer` if the loss `value`, every gradient and every updated variable are
 * finite; returns whether it did (otherwise the variables and the optimizer's state — moments,
 * accumulators, iteration count — are left as they were, bit for bit). With tfjs's Adam on wasm, fused
 * kernels both check the gradients and new values and compute the update — one `TfpplAdamAll` launch
 * for all variables with the accelerator, one `TfpplAdam` per variable without:
 *
 * x′ = x − lr · m̂ / (√v̂ + ε), m̂ = m′ / (1 − β₁ᵗ), v̂ = v′ / (1 − β₂ᵗ),
 * m′ = β₁m + (1 − β₁)g, v′ = β₂v + (1 − β₂)g².
 *
 * @example
 * const applied = applyFiniteGradients(tf.train.adam(1e-3), loss, grads)   // false: a NaN or an overflow somewhere, nothing changed
 */
export const applyFiniteGradients = (optimizer: tf.Optimizer, value: tf.Scalar, grads: tf.NamedTensorMap): boolean => {
  if (fusable(optimizer)) return Number.isFinite(value.dataSync()[0]) && fusedAdam(optimizer as unknown as AdamState, grads)
  return appliedIfFinite(optimizer, value, grads)
}

/**
 * {@link applyFiniteGradients} without a synchronous read, for the GPU backends: tfjs's `applyGradients`,
 * then one asynchronous read of whether every updated variable is finite, and the variables and optimizer
 * state put back if not. The caller has checked the loss and the gradients already (`svi.stepAsync`).
 *
 * @example const applied = await applyGradientsAsync(tf.train.adam(1e-3), grads)
 */
export const applyGradientsAsync = async (optimizer: tf.Optimizer, grads: tf.NamedTensorMap): Promise<boolean> => {
  const vars = variablesOf(grads)
  const saved = snapshot(optimizer, vars)   // outside any tidy: its clones live until the finally below
  try {
    try { optimizer.applyGradients(grads) } catch (err) { tf.tidy(saved.restore); throw err }
    const finite = tf.tidy(() => tf.all(tf.stack(vars.map((v) => tf.all(tf.isFinite(v))))))
    const ok = (await finite.data())[0] === 1
    finite.dispose()
    if (!ok) tf.tidy(saved.restore)
    return ok
  } finally {
    tf.dispose(saved.saved())
  }
}
