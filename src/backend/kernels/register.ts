/**
 * Installing tfppl's kernels on the wasm backend, in one known order (`init.ts` calls this and
 * nothing else in `kernels/`). Two groups:
 *
 * 1. The wasm fast paths (`wasm/`), once per process, after the wasm backend is ready; they stay:
 *    `BatchMatMul` (transpose first, XNNPACK product) → `Identity`/`Cast` (shared buffers) →
 *    `Slice`/`GatherV2`/`UnsortedSegmentSum` → `TfpplAdam` (SIMD) → `Softplus` (SIMD).
 * 2. The native accelerator's kernels (`native/`), while it is on; uninstalling restores what they
 *    replaced: `BatchMatMul` → the transcendentals (`Softplus`, `Exp`, `Log`, `Sigmoid`, `Tanh`,
 *    `Sqrt`) → the fused Adam's C path and `TfpplAdamAll` → `TfpplDense` →
 *    `Conv2D`/`Conv2DBackpropInput` and `TfpplConv2DBackpropFilter` → `TfpplConvLayer` → `Sum` over leading dims →
 *    `GatherV2`/`UnsortedSegmentSum` (rows by index) → `TfpplNearestCodes` → the two log densities → the Gamma sampler and its gradient → the finite/support checks.
 *
 * The order matters where two kernels share a name: a native kernel falls back to the one it replaced,
 * so with group 1 first, `BatchMatMul` and `Softplus` fall back to the wasm fast paths, not stock wasm.
 */
import * as tf from '@tensorflow/tfjs-core'
import { replaceWasmKernel, restoreWasmKernel } from './heap.js'
import type { ReplaceKernel } from './heap.js'
import { kernelState } from './state.js'
import { installWasmMatMul } from './wasm/batch-mat-mul.js'
import { installWasmIdentity } from './wasm/identity.js'
import { installWasmSlice } from './wasm/slice.js'
import { installWasmAdam } from './wasm/adam.js'
import { installWasmSoftplus } from './wasm/softplus.js'
import type { NativeAddon } from './native/addon.js'
import { installNativeBatchMatMul } from './native/batch-mat-mul.js'
import { installNativeUnary, NATIVE_UNARY } from './native/unary.js'
import type { NativeUnary } from './native/unary.js'
import { ADAM_ALL_KERNEL, registerNativeAdam } from './native/adam.js'
import { DENSE_KERNEL, registerNativeDense } from './native/dense.js'
import { installNativeConv, NATIVE_CONV_KERNELS } from './native/conv.js'
import { CONV_LAYER_KERNEL, registerNativeConvLayer } from './native/conv-layer.js'
import { installNativeSum } from './native/sum.js'
import { installNativeRows } from './native/rows.js'
import { NEAREST_CODES_KERNEL, registerNativeNearestCodes } from './native/nearest-codes.js'
import { BERNOULLI_KERNEL, NORMAL_KERNEL, POINT_MASS_KERNEL, registerNativeDensities } from './native/densities.js'
import { LOG_GAMMA_GRAD_KERNEL, LOG_GAMMA_SAMPLE_KERNEL, registerNativeGamma } from './native/gamma.js'

export { nativeKernelsInstalled } from './state.js'
export type { NativeUnary } from './native/unary.js'
export { NATIVE_UNARY } from './native/unary.js'

/**
 * Installs the wasm fast paths (group 1; idempotent). Call after `tf.setBackend('wasm')` resolved.
 *
 * @example
 * await tf.setBackend('wasm'); installWasmKernels()
 */
export const installWasmKernels = (): void => {
  installWasmMatMul()
  installWasmIdentity()
  installWasmSlice()
  installWasmAdam()
  installWasmSoftplus()
}

/** The accelerator's `replace`: registers the replacement and keeps the original for {@link uninstallNativeKernels}. */
const keepingOriginals = (replaced: tf.KernelConfig[]): ReplaceKernel => (name, make) => {
  const original = replaceWasmKernel(name, make)
  if (original !== undefined) replaced.push(original)
}

/**
 * Installs the native accelerator's kernels (group 2; idempotent); `unary` picks the transcendentals.
 * The fused Adam and the support checks take their native path from here on (they read the addon
 * from the kernel state at each call).
 *
 * @example
 * const n = loadNative(); if (n.ok) installNativeKernels(n.addon)
 */
export const installNativeKernels = (addon: NativeAddon, unary: readonly NativeUnary[] = NATIVE_UNARY): void => {
  if (kernelState.native !== undefined) return
  const replaced: tf.KernelConfig[] = []
  kernelState.native = { addon, replaced }
  const replace = keepingOriginals(replaced)
  installNativeBatchMatMul(addon, replace)
  installNativeUnary(addon, replace, unary)
  registerNativeAdam(addon)
  registerNativeDense(addon)
  installNativeConv(addon, replace)
  registerNativeConvLayer(addon)
  installNativeSum(addon, replace)
  installNativeRows(addon, replace)
  registerNativeNearestCodes(addon)
  registerNativeDensities(addon)
  registerNativeGamma(addon)
}

/**
 * Puts back the kernels {@link installNativeKernels} replaced and turns the native Adam
 * and checks off (the benchmark switches configurations in one process; so does `setNative`).
 *
 * @example
 * uninstallNativeKernels()   // stock wasm kernels (and tfppl's wasm fast paths) again
 */
export const uninstallNativeKernels = (): void => {
  const native = kernelState.native
  if (native === undefined) return
  for (const k of native.replaced) restoreWasmKernel(k)
  kernelState.native = undefined
}

/**
 * The kernels the accelerator runs now: the wasm kernels it replaced (BatchMatMul, the transcendentals,
 * Conv2D, Conv2DBackpropInput, Sum, GatherV2, UnsortedSegmentSum) and tfppl's own (dense layers, the log
 * densities and the point mass, the filter gradient, the nearest-code search, the fused Adam update, the
 * finite/support checks); empty when off.
 *
 * @example nativeKernels()   // ['BatchMatMul', 'Softplus', …, 'Conv2D', …, 'TfpplDense', …]
 */
export const nativeKernels = (): string[] => {
  const native = kernelState.native
  return native === undefined ? []
    : [...new Set([...native.replaced.map((k) => k.kernelName), ...NATIVE_CONV_KERNELS, DENSE_KERNEL, BERNOULLI_KERNEL, NORMAL_KERNEL, LOG_GAMMA_SAMPLE_KERNEL, LOG_GAMMA_GRAD_KERNEL, ...(kernelState.registered.has('adam') ? [ADAM_ALL_KERNEL] : []), ...(kernelState.registered.has('conv-layer') ? [CONV_LAYER_KERNEL] : []), ...(kernelState.registered.has('nearest-codes') ? [NEAREST_CODES_KERNEL] : []), ...(tf.getKernel(POINT_MASS_KERNEL, 'wasm') !== undefined ? [POINT_MASS_KERNEL] : []), 'Adam (fused update)', 'finite/support checks'])]
}
