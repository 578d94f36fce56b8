/**
 * The kernels' one piece of mutable state: what is installed on the wasm backend now. The
 * installers in `wasm/` and `native/` (run by `register.ts`) write it, and the kernels and the
 * public ops read it; nothing else in `kernels/` keeps state of its own.
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { KernelFn } from './heap.js'
import type { NativeAddon } from './native/addon.js'

/** The wasm fast paths (`wasm/`), by file: each installs once per process and stays. */
export type WasmKernel = 'batch-mat-mul' | 'identity' | 'slice' | 'softplus'

/** tfppl's own native kernels (`native/`) registered once per process, with their gradients; they stay registered and are used only while {@link KernelState.native} is set. */
export type NativeRegistration = 'dense' | 'conv' | 'conv-layer' | 'densities' | 'gamma' | 'adam' | 'nearest-codes'

/** The accelerator's kernels while installed. */
export interface NativeInstall {
  /** The addon the kernels call (the fused Adam and the support checks read it at each call). */
  readonly addon: NativeAddon
  /** The kernel configs the install replaced, in install order: what uninstalling restores. */
  readonly replaced: tf.KernelConfig[]
}

/** What {@link kernelState} holds. */
export interface KernelState {
  /** The wasm fast paths installed. */
  readonly wasm: Set<WasmKernel>
  /** tfppl's native kernels registered. */
  readonly registered: Set<NativeRegistration>
  /** The accelerator's install, or undefined when it is off. */
  native: NativeInstall | undefined
  /** The `Conv2D` the last native install replaced: native convolution runs while wasm's `Conv2D` is another. */
  convStock: KernelFn | undefined
}

/**
 * The one state object of `kernels/`.
 *
 * @example kernelState.native?.addon   // the accelerator, while its kernels are installed
 */
export const kernelState: KernelState = { wasm: new Set(), registered: new Set(), native: undefined, convStock: undefined }

/**
 * Whether the native kernels are installed now.
 *
 * @example if (nativeKernelsInstalled()) { … }
 */
export const nativeKernelsInstalled = (): boolean => kernelState.native !== undefined
