/**
 * Rows by index on the native accelerator (`native/rows.c`): a gather along axis 0,
 *   out[k] = x[idx[k]]                              (`GatherV2`, float32 or int32 rows)
 * and its gradient, the segment sum,
 *   out[s] = Σ_{i: ids[i] = s} x[i]  (ascending i)  (`UnsortedSegmentSum`, float32).
 * The VQ-VAE looks its codes up this way, and sums the codebook's gradient, 6,272 rows of 16 a step:
 * ≈ 0.01 ms each in C against 0.25–0.3 ms in the JavaScript kernels they replace (`../wasm/slice.ts`),
 * which serve everything else (other axes, batch dims, other dtypes, an index out of range — reported there).
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn as Fn, KernelInfo as Info, ReplaceKernel, WasmHeapBackend } from '../heap.js'
import type { NativeAddon } from './addon.js'

type RowsAddon = Required<Pick<NativeAddon, 'gatherRows' | 'segmentSumRows'>>

/** Elements per row of `x` past its first `lead` dims. */
const rowSize = (x: Info, lead: number): number => tf.util.sizeFromShape(x.shape.slice(lead))

const gatherKernel = (addon: RowsAddon, fallback: Fn): Fn => (args) => {
  const { x, indices } = args.inputs as { x: Info; indices: Info }
  const axis = tf.util.parseAxisParam(args.attrs?.['axis'] as number, [...x.shape])[0]
  if (axis !== 0 || (args.attrs?.['batchDims'] ?? 0) !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0 || indices.dtype !== 'int32') return fallback(args)
  const backend = args.backend as WasmHeapBackend
  const count = tf.util.sizeFromShape(indices.shape), row = rowSize(x, 1)
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype)
  if (count === 0 || row === 0) return out
  const inRange = addon.gatherRows(heapBuffer(backend), count, row, x.shape[0]!, heapOffset(backend, x), heapOffset(backend, indices), heapOffset(backend, out))
  if (inRange) return out
  backend.disposeData(out.dataId)
  return fallback(args)
}

const segmentSumKernel = (addon: RowsAddon, fallback: Fn): Fn => (args) => {
  const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info }
  const segments = args.attrs?.['numSegments'] as number, lead = segmentIds.shape.length
  const matches = segmentIds.shape.every((d, i) => x.shape[i] === d)
  if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32' || !matches || !Number.isInteger(segments) || segments < 0) return fallback(args)
  const backend = args.backend as WasmHeapBackend
  const count = tf.util.sizeFromShape(segmentIds.shape), row = rowSize(x, lead)
  const out = backend.makeOutput([segments, ...x.shape.slice(lead)], 'float32')
  if (segments === 0 || row === 0) return out
  addon.segmentSumRows(heapBuffer(backend), count, row, segments, heapOffset(backend, x), heapOffset(backend, segmentIds), heapOffset(backend, out))
  return out
}

/**
 * Replaces the wasm `GatherV2` and `UnsortedSegmentSum` (tfppl's, `../wasm/slice.ts`) through the installer's
 * `replace`; nothing when the addon predates these functions.
 *
 * @example
 * installNativeRows(addon, replace)
 */
export const installNativeRows = (addon: NativeAddon, replace: ReplaceKernel): void => {
  const { gatherRows, segmentSumRows } = addon
  if (gatherRows === undefined || segmentSumRows === undefined) return
  const rows: RowsAddon = { gatherRows, segmentSumRows }
  replace('GatherV2', (fallback) => gatherKernel(rows, fallback))
  replace('UnsortedSegmentSum', (fallback) => segmentSumKernel(rows, fallback))
}
