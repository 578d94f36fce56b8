/**
 * Validation's "is every element in the set?" answered by the native accelerator in one
 * pass over the wasm heap: no tfjs kernels, no intermediate tensors, no read-back of a
 * reduction. Used by the constraint checks before their tfjs quick test; anything it does
 * not cover (another backend, another dtype, another set) says `undefined` and the tfjs
 * path decides as before. C: `native/check.c`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer } from '../heap.js'
import type { WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'

/** The sets the addon checks, by constraint tag, and their code in the addon. */
const SETS: Readonly<Record<string, number>> = { real: 0, positive: 1, boolean: 2, unitInterval: 3 }

/**
 * Whether every element of `x` lies in the set of constraint `tag` ('real': finite, 'positive',
 * 'boolean', 'unitInterval'), or `undefined` when the accelerator cannot tell here (among others: it is not installed).
 *
 * @example nativeAllIn('boolean', x)   // true, false, or undefined (then use the tfjs check)
 */
export const nativeAllIn = (tag: string, x: tf.Tensor): boolean | undefined => {
  const code = SETS[tag], addon = kernelState.native?.addon
  if (addon === undefined || code === undefined || x.dtype !== 'float32' || x.size === 0 || tf.getBackend() !== 'wasm') return undefined
  const backend = tf.backend() as unknown as WasmHeapBackend
  const data = backend.dataIdMap.get(x.dataId)
  if (data === undefined) return undefined
  return addon.check(code, heapBuffer(backend), data.memoryOffset, x.size)
}
