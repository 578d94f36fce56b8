/**
 * The Bernoulli and Normal log densities as one native kernel each way (the accelerator only):
 *   `TfpplBernoulliLogProb` x·l − softplus(l); its gradient ∂/∂l = dy·(x − σ(l)) is one
 *   `TfpplBernoulliLogProbGrad` launch, ∂/∂x = dy·l a `mul`, each only when tfjs asks for it
 *   (data needs none).
 *   `TfpplNormalLogProb` −½w² − (log σ + ½ log 2π), w = (x − μ)/σ, with μ and σ either of x's
 *   shape or one value; one `TfpplNormalLogProbGrad` launch per input that needs a gradient.
 *   `TfpplPointMassLogProb` 0 where x = v on a whole event, −∞ elsewhere (IEEE equality): a Delta's
 *   indicator, no gradient of its own (`log-densities.ts` wraps it in a zero gradient).
 * Attribute `sumLast` (default 0): the forward kernels also sum the rightmost `sumLast` dims (the
 * event of `toEvent`), and the gradients take that reduced dy — the `Sum` and its gradient's
 * broadcast are then no launches of their own.
 * The same float32 operations in the same order as the composite ops of `log-densities.ts` (and
 * tfjs's wasm `Sum`), so values and gradients are bit-identical to them
 * (test/backend/kernels/native/densities.test.ts). C: `native/densities.c`; the ops that choose
 * between these and the composite: `../../log-densities.ts`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { BackendError } from '../../../errors.js'
import { expandRightmost } from '../../rightmost.js'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'
import type { NativeAddon } from './addon.js'

/** Kernel names. */
export const BERNOULLI_KERNEL = 'TfpplBernoulliLogProb'
const BERNOULLI_GRAD_KERNEL = 'TfpplBernoulliLogProbGrad'
export const NORMAL_KERNEL = 'TfpplNormalLogProb'
const NORMAL_GRAD_KERNEL = 'TfpplNormalLogProbGrad'
export const POINT_MASS_KERNEL = 'TfpplPointMassLogProb'

const size = (shape: readonly number[]): number => tf.util.sizeFromShape([...shape])

/** Kernels read n floats of every full operand: refuse operands that are not float32 or hold neither n values nor one. */
const checkOperands = (kernel: string, n: number, full: Record<string, Info>, oneOrFull: Record<string, Info> = {}): void => {
  for (const [name, t] of Object.entries({ ...full, ...oneOrFull })) {
    const ok = t.dtype === 'float32' && (size(t.shape) === n || (name in oneOrFull && size(t.shape) === 1))
    if (!ok) throw new BackendError(`${kernel}: input '${name}' is ${t.dtype} [${t.shape.join(', ')}]; expected float32 with ${n} values${name in oneOrFull ? ' or one' : ''}`)
  }
}

/** Attribute `sumLast`: how many rightmost dims the forward kernel summed (0 when absent). */
const sumLastOf = (attrs: Record<string, unknown> | undefined): number => (attrs?.['sumLast'] as number | undefined) ?? 0

/** The summed dims of attribute `sumLast`: the reduced output shape and the values per sum (1: none summed). */
const summed = (kernel: string, shape: readonly number[], attrs: Record<string, unknown> | undefined): { outShape: number[]; inner: number } => {
  const n = sumLastOf(attrs)
  if (!Number.isInteger(n) || n < 0 || n > shape.length) throw new BackendError(`${kernel}: attribute sumLast is ${String(n)}; expected an integer from 0 to the rank ${shape.length}`)
  return { outShape: shape.slice(0, shape.length - n), inner: size(shape.slice(shape.length - n)) }
}

const bernoulliKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { x, logits } = inputs as { x: Info; logits: Info }
  checkOperands(BERNOULLI_KERNEL, size(x.shape), { x, logits })
  const { outShape, inner } = summed(BERNOULLI_KERNEL, x.shape, attrs)
  const backend = raw as WasmHeapBackend
  const out = backend.makeOutput(outShape, 'float32')
  addon.bernoulliLogProb(heapBuffer(backend), size(x.shape), heapOffset(backend, x), heapOffset(backend, logits), heapOffset(backend, out), inner)
  return out
}

const bernoulliGradKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { dy, x, logits } = inputs as { dy: Info; x: Info; logits: Info }
  const { outShape, inner } = summed(BERNOULLI_GRAD_KERNEL, x.shape, attrs)
  checkOperands(BERNOULLI_GRAD_KERNEL, size(x.shape), { x, logits })
  checkOperands(BERNOULLI_GRAD_KERNEL, size(outShape), { dy })
  const backend = raw as WasmHeapBackend
  const out = backend.makeOutput([...x.shape], 'float32')
  addon.bernoulliLogProbGrad(heapBuffer(backend), size(x.shape), heapOffset(backend, dy), heapOffset(backend, x), heapOffset(backend, logits), heapOffset(backend, out), inner)
  return out
}

const pointMassKernel = (pointMass: NonNullable<NativeAddon['pointMassLogProb']>): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { x, value } = inputs as { x: Info; value: Info }
  checkOperands(POINT_MASS_KERNEL, size(x.shape), { x, value })
  const { outShape, inner } = summed(POINT_MASS_KERNEL, x.shape, attrs)
  const backend = raw as WasmHeapBackend
  const out = backend.makeOutput(outShape, 'float32')
  if (size(x.shape) > 0) pointMass(heapBuffer(backend), size(x.shape), heapOffset(backend, x), heapOffset(backend, value), heapOffset(backend, out), inner)
  return out
}

/** The Normal kernels' operands: heap offsets of x, μ, σ and whether μ/σ hold a value per element. */
const normalOperands = (backend: WasmHeapBackend, x: Info, loc: Info, scale: Info): [number, number, number, number, number] => {
  const n = size(x.shape)
  return [heapOffset(backend, x), heapOffset(backend, loc), size(loc.shape) === n ? 1 : 0, heapOffset(backend, scale), size(scale.shape) === n ? 1 : 0]
}

const normalKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { x, loc, scale } = inputs as { x: Info; loc: Info; scale: Info }
  checkOperands(NORMAL_KERNEL, size(x.shape), { x }, { loc, scale })
  const { outShape, inner } = summed(NORMAL_KERNEL, x.shape, attrs)
  const backend = raw as WasmHeapBackend
  const out = backend.makeOutput(outShape, 'float32')
  addon.normalLogProb(heapBuffer(backend), size(x.shape), ...normalOperands(backend, x, loc, scale), heapOffset(backend, out), inner)
  return out
}

const WHICH = { x: 0, loc: 1, scale: 2 } as const

const normalGradKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { dy, x, loc, scale } = inputs as { dy: Info; x: Info; loc: Info; scale: Info }
  const { outShape, inner } = summed(NORMAL_GRAD_KERNEL, x.shape, attrs)
  checkOperands(NORMAL_GRAD_KERNEL, size(x.shape), { x }, { loc, scale })
  checkOperands(NORMAL_GRAD_KERNEL, size(outShape), { dy })
  const backend = raw as WasmHeapBackend
  const out = backend.makeOutput([...x.shape], 'float32')
  const which = WHICH[attrs?.['input'] as keyof typeof WHICH]
  addon.normalLogProbGrad(which, heapBuffer(backend), size(x.shape), heapOffset(backend, dy), ...normalOperands(backend, x, loc, scale), heapOffset(backend, out), inner)
  return out
}

/** `g` summed to `shape` when the parameter was one value broadcast to g's shape (of any rank ≤ g's). */
const toParamShape = (g: tf.Tensor, shape: readonly number[]): tf.Tensor =>
  tf.util.arraysEqual(g.shape, [...shape]) ? g : tf.reshape(tf.sum(g), [...shape])

const bernoulliGradient: tf.GradConfig = {
  kernelName: BERNOULLI_KERNEL,
  inputsToSave: ['x', 'logits'],
  gradFunc: (dy, saved, attrs) => {
    const [x, logits] = saved as [tf.Tensor, tf.Tensor]
    return {
      x: () => tf.mul(expandRightmost(dy as tf.Tensor, x.shape, sumLastOf(attrs)), logits),
      logits: () => tf.engine().runKernel(BERNOULLI_GRAD_KERNEL, { dy: dy as tf.Tensor, x, logits }, { sumLast: sumLastOf(attrs) }) as tf.Tensor,
    }
  },
}

const normalGradient: tf.GradConfig = {
  kernelName: NORMAL_KERNEL,
  inputsToSave: ['x', 'loc', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [x, loc, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor]
    const grad = (input: keyof typeof WHICH, shape: readonly number[]) => (): tf.Tensor =>
      toParamShape(tf.engine().runKernel(NORMAL_GRAD_KERNEL, { dy: dy as tf.Tensor, x, loc, scale }, { input, sumLast: sumLastOf(attrs) }) as tf.Tensor, shape)
    return { x: grad('x', x.shape), loc: grad('loc', loc.shape), scale: grad('scale', scale.shape) }
  },
}

/**
 * Registers the five kernels on the wasm backend (the point mass's when the addon has it) and the forward kernels' gradients (idempotent);
 * `log-densities.ts` uses them only while the accelerator is installed.
 *
 * @example
 * const n = loadNative(); if (n.ok) registerNativeDensities(n.addon)
 */
export const registerNativeDensities = (addon: NativeAddon): void => {
  if (kernelState.registered.has('densities')) return
  kernelState.registered.add('densities')
  const kernels: [string, KernelFn][] = [[BERNOULLI_KERNEL, bernoulliKernel(addon)], [BERNOULLI_GRAD_KERNEL, bernoulliGradKernel(addon)],
    [NORMAL_KERNEL, normalKernel(addon)], [NORMAL_GRAD_KERNEL, normalGradKernel(addon)],
    ...(addon.pointMassLogProb !== undefined ? [[POINT_MASS_KERNEL, pointMassKernel(addon.pointMassLogProb)] as [string, KernelFn]] : [])]
  for (const [kernelName, f] of kernels) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: f as unknown as tf.KernelFunc })
  tf.registerGradient(bernoulliGradient)
  tf.registerGradient(normalGradient)
}
