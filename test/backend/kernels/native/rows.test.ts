/**
 * Rows by index (`kernels/native/rows.ts`, `native/rows.c`; on stock wasm the JavaScript kernels of
 * `kernels/wasm/slice.ts`): `tf.gather` along axis 0 with index tensors of any rank, float32 and int32,
 * and its gradient `tf.unsortedSegmentSum` (ascending order, ids out of range dropped) against sums done
 * here in the same order, bit for bit on wasm (to float32 rounding elsewhere); after the wasm memory grows; an index out of range is still an
 * error; on the accelerator the calls run natively, and the C argument checks. On any backend.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src/backend/init.js'
import { loadNative } from '../../../../src/backend/native.js'
import { heapBuffer, replaceWasmKernel, restoreWasmKernel } from '../../../../src/backend/kernels/heap.js'
import type { NativeAddon } from '../../../../src/backend/kernels/native/addon.js'
import { installNativeRows } from '../../../../src/backend/kernels/native/rows.js'
import type { WasmHeapBackend } from '../../../../src/backend/kernels/heap.js'
import { FC, read } from '../../../helpers.js'

const info = await initBackend()

/** out[s] = Σ_{i: ids[i] = s} x[i] in ascending i, in float32 at every add. */
const segmentSums = (x: readonly number[], ids: readonly number[], segments: number, row: number): number[] => {
  const out = new Float32Array(segments * row)
  ids.forEach((s, i) => { if (s >= 0 && s < segments) for (let j = 0; j < row; j++) out[s * row + j] = Math.fround(out[s * row + j]! + x[i * row + j]!) })
  return Array.from(out)
}

const onWasm = info.name === 'wasm'
const heapBytes = (): number => (tf.backend() as unknown as WasmHeapBackend).wasm.HEAPU8.buffer.byteLength

describe('rows by index', () => {
  it('gather along axis 0 with an index tensor of rank 0 to 3, float32 and int32, copies the rows', () => {
    const cases = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 2 }),
      fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }), fc.constantFrom('float32' as const, 'int32' as const), fc.integer({ min: 0, max: 1e6 }))
    fc.assert(fc.property(cases, ([rows, rest, idxShape, dtype, seed]) => tf.tidy(() => {
      const row = rest.reduce((a, d) => a * d, 1), count = idxShape.reduce((a, d) => a * d, 1)
      const values = Array.from({ length: rows * row }, (_, i) => (dtype === 'int32' ? i * 7 - 3 : Math.fround(Math.sin(i + seed) * 1e3)))
      const idx = Array.from({ length: count }, (_, i) => (i * 5 + seed) % rows)
      const y = tf.gather(tf.tensor(values, [rows, ...rest], dtype), tf.tensor(idx, idxShape, 'int32'))
      expect(y.shape).toEqual([...idxShape, ...rest])
      expect(y.dtype).toBe(dtype)
      expect(read(y)).toEqual(idx.flatMap((i) => values.slice(i * row, (i + 1) * row)))
    })), FC)
  })

  it('unsortedSegmentSum adds rows in ascending order and drops ids out of range', () => {
    const cases = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 2 }),
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1e6 }))
    fc.assert(fc.property(cases, ([count, rest, segments, seed]) => tf.tidy(() => {
      const row = rest.reduce((a, d) => a * d, 1)
      const values = Array.from({ length: count * row }, (_, i) => Math.fround(Math.sin(3 * i + seed) * 10 ** ((i % 7) - 3)))
      const ids = Array.from({ length: count }, (_, i) => ((i * 3 + seed) % (segments + 2)) - 1)   // −1 and `segments` are dropped
      const y = tf.unsortedSegmentSum(tf.tensor(values, [count, ...rest]), tf.tensor1d(ids, 'int32'), segments)
      expect(y.shape).toEqual([segments, ...rest])
      const want = segmentSums(values, ids, segments, row)
      if (onWasm) expect(read(y)).toEqual(want)   // tfppl's kernels add in ascending order; other backends' in their own
      else read(y).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(count * 2 ** -23 * values.reduce((a, x) => a + Math.abs(x), 0)))
    })), FC)
  })

  it('an index out of range is an error that names it, and nothing is kept from the call', () => {
    const before = tf.memory().numTensors
    expect(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32')).dataSync())).toThrow(/3/)
    expect(tf.memory().numTensors).toBe(before)
  })

  it.skipIf(!onWasm)('the same after the wasm memory grows', () => tf.tidy(() => {
    tf.dispose(tf.zeros([heapBytes()]))   // four times the heap: memory.grow detaches the old buffer
    const book = tf.randomNormal([64, 16], 0, 1, 'float32', 3), ids = tf.randomUniform([128, 7, 7], 0, 64, 'int32', 4)
    const rows = tf.gather(book, ids)
    const idList = read(ids), values = read(book)
    expect(read(rows)).toEqual(idList.flatMap((i) => values.slice(i * 16, (i + 1) * 16)))
    expect(read(tf.unsortedSegmentSum(rows, ids as unknown as tf.Tensor1D, 64))).toEqual(segmentSums(read(rows), idList, 64, 16))
  }))
})

describe.skipIf(!info.native)('rows by index on the accelerator', () => {
  it('runs natively where it covers the call; other axes and bool go to the kernels it replaced', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const calls: string[] = []   // each native call, through a recording copy of the addon installed over the current kernels
    const recording: NativeAddon = {
      ...n.addon,
      gatherRows: (...a) => { calls.push('gather'); return n.addon.gatherRows!(...a) },
      segmentSumRows: (...a) => { calls.push('segmentSum'); n.addon.segmentSumRows!(...a) },
    }
    const replaced: tf.KernelConfig[] = []
    installNativeRows(recording, (name, make) => { const o = replaceWasmKernel(name, make); if (o !== undefined) replaced.push(o) })
    try {
      tf.tidy(() => {
        const x = tf.tensor2d([[1, 2], [3, 4]]), ids = tf.tensor1d([1, 0, 1], 'int32')
        expect(read(tf.gather(x, ids))).toEqual([3, 4, 1, 2, 3, 4])
        expect(read(tf.unsortedSegmentSum(tf.ones([3, 2]), ids, 2))).toEqual([1, 1, 2, 2])
        expect(calls).toEqual(['gather', 'segmentSum'])
        expect(read(tf.gather(x, tf.tensor1d([1], 'int32'), 1))).toEqual([2, 4])
        expect(read(tf.gather(tf.tensor1d([1, 0], 'bool'), tf.tensor1d([1], 'int32')))).toEqual([0])
        expect(calls).toEqual(['gather', 'segmentSum'])
      })
    } finally {
      replaced.forEach(restoreWasmKernel)
    }
  })

  it('rejects bad arguments in C with a RangeError (code TFPPL_NATIVE)', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const gather = n.addon.gatherRows!, segment = n.addon.segmentSumRows!
    const heap = heapBuffer(tf.backend() as unknown as WasmHeapBackend), end = heap.byteLength
    const cases: [() => unknown, RegExp][] = [
      [() => gather(heap, 2, 4, 1, end - 8, 0, 0), /gatherRows: an operand lies outside/],
      [() => gather(heap, 2, 1, 1, 0, end, 0), /gatherRows: an operand lies outside/],
      [() => gather(heap, 2, 1, 1, 0, 0, end - 4), /gatherRows: an operand lies outside/],
      [() => gather(heap, -1, 1, 1, 0, 0, 0), /gatherRows: expected/],
      [() => segment(heap, 2, 4, 1, end - 8, 0, 0), /segmentSumRows: an operand lies outside/],
      [() => segment(heap, 1, 1, 3, 0, 0, end - 4), /segmentSumRows: an operand lies outside/],
      [() => segment(heap, 1, 0.5, 1, 0, 0, 0), /segmentSumRows: expected/],
    ]
    for (const [call, message] of cases) {
      expect(call).toThrow(message)
      try { call() } catch (e) { expect((e as { code?: unknown }).code).toBe('TFPPL_NATIVE') }
    }
  })
})
