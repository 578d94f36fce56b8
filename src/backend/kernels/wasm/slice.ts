/**
 * `Slice` and `GatherV2` along the leading axis without copying the whole input.
 * tfjs-backend-wasm 4.22's `Slice` starts with `readSync` of its input — a copy
 * of the entire tensor out of the heap — so taking 128 rows of the 60,000
 * training images costs ≈ 157 ms; its `GatherV2` runs a generic strided loop
 * (≈ 5.7 ms for 128 rows of 784). Here a slice copies just the rows (or, for
 * inner ranges, the innermost runs) it returns, through views of the heap, and a
 * gather along axis 0 copies one row per index. Everything else, and every
 * out-of-range index, goes to the original kernel (which reports the error).
 * wasm has no `UnsortedSegmentSum`, the kernel of GatherV2's gradient, so a
 * param gathered by plate indices could not be differentiated there: we add one.
 */
import * as tf from '@tensorflow/tfjs-core'
import { replaceWasmKernel } from '../heap.js'
import type { KernelFn, KernelInfo as Info } from '../heap.js'
import { kernelState } from '../state.js'

/** The parts of tfjs's wasm backend these kernels touch. */
interface WasmViews {
  readonly makeOutput: (shape: number[], dtype: tf.DataType) => Info
  readonly typedArrayFromHeap: (t: Info) => Float32Array | Int32Array | Uint8Array
}

const NUMERIC = new Set(['float32', 'int32', 'bool'])

/** Copies the box begin…begin+size of `x` (row-major) into `out`, one innermost run at a time. */
const copyBox = (x: Float32Array | Int32Array | Uint8Array, shape: readonly number[], begin: readonly number[], size: readonly number[],
  out: Float32Array | Int32Array | Uint8Array): void => {
  const rank = shape.length
  const strides = tf.util.computeStrides([...shape])
  const inner = size[rank - 1]!, runs = out.length / Math.max(inner, 1)
  const at = new Array<number>(rank - 1).fill(0)   // position within the box, outer dims
  for (let r = 0; r < runs; r++) {
    let offset = begin[rank - 1]!
    for (let d = 0; d < rank - 1; d++) offset += (begin[d]! + at[d]!) * strides[d]!
    out.set(x.subarray(offset, offset + inner), r * inner)
    for (let d = rank - 2; d >= 0 && ++at[d]! === size[d]!; d--) at[d] = 0
  }
}

/** dst row k = src row idx[k], rows of `row` elements: short rows element by element (a subarray per row costs more than its copy). */
const copyRows = (src: Float32Array | Int32Array | Uint8Array, idx: Int32Array, row: number, dst: Float32Array | Int32Array | Uint8Array): void => {
  if (row >= 64) { idx.forEach((i, k) => dst.set(src.subarray(i * row, (i + 1) * row), k * row)); return }
  for (let k = 0; k < idx.length; k++) {
    const from = idx[k]! * row, to = k * row
    for (let j = 0; j < row; j++) dst[to + j] = src[from + j]!
  }
}

/**
 * UnsortedSegmentSum (GatherV2's gradient): out[s] = Σ_{i: ids[i] = s} x[i], over the
 * leading dims of `x` that `segmentIds` spans; ids outside [0, numSegments) are dropped, as in TensorFlow.
 */
const unsortedSegmentSum = (args: Parameters<KernelFn>[0]): Info => {
  const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info }
  const numSegments = args.attrs?.['numSegments'] as number
  const backend = args.backend as WasmViews
  const ids = (backend.typedArrayFromHeap(segmentIds) as Int32Array).slice()   // a copy: the output allocation may move the heap
  const row = ids.length === 0 ? 0 : x.shape.reduce((a, d) => a * d, 1) / ids.length
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype)
  const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out)
  dst.fill(0)
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!
    if (s < 0 || s >= numSegments) continue
    const to = s * row, from = i * row
    for (let j = 0; j < row; j++) dst[to + j]! += src[from + j]!
  }
  return out
}

/**
 * Replaces wasm's `Slice` and `GatherV2` with the copy-only-what-is-returned kernels, and adds
 * the `UnsortedSegmentSum` wasm lacks (idempotent).
 *
 * @example
 * await tf.setBackend('wasm'); installWasmSlice()
 * tf.slice(images, 1000, 128)   // copies 128 rows, not the whole tensor
 */
export const installWasmSlice = (): void => {
  if (kernelState.wasm.has('slice')) return
  replaceWasmKernel('Slice', (original) => (args) => {
    const x = args.inputs['x']!
    if (!NUMERIC.has(x.dtype) || x.shape.length === 0) return original(args)
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs?.['begin'] as number[], args.attrs?.['size'] as number[]) as [number[], number[]]
    const backend = args.backend as WasmViews
    const out = backend.makeOutput(size, x.dtype)
    if (size.some((d) => d === 0)) return out
    copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out))   // views taken after the allocation
    return out
  })
  replaceWasmKernel('GatherV2', (original) => (args) => {
    const { x, indices } = args.inputs as { x: Info; indices: Info }
    const axis = tf.util.parseAxisParam(args.attrs?.['axis'] as number, x.shape)[0]
    if (axis !== 0 || (args.attrs?.['batchDims'] ?? 0) !== 0 || !NUMERIC.has(x.dtype) || x.shape.length === 0 || indices.dtype !== 'int32') return original(args)
    const backend = args.backend as WasmViews
    const rows = x.shape[0]!, idx = (backend.typedArrayFromHeap(indices) as Int32Array).slice()
    if (idx.some((i) => i < 0 || i >= rows)) return original(args)
    const row = x.shape.slice(1).reduce((a, d) => a * d, 1)
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype)
    const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out)
    copyRows(src, idx, row, dst)
    return out
  })
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc })
  }
  kernelState.wasm.add('slice')
}
