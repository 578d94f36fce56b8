/**
 * `pointMassLogDensity` (`log-densities.ts`; on the accelerator the kernel `TfpplPointMassLogProb` of
 * `kernels/native/densities.ts`, `native/densities.c`): 0 where x equals the value on a whole event, −∞
 * elsewhere, by IEEE equality, against a reference computed here, on random shapes and event sizes with
 * −0, ±∞ and NaN mixed in, on any backend; a zero gradient for both inputs; on the accelerator one native
 * launch, the same after the wasm memory grows, and the C argument checks.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src/backend/init.js'
import { loadNative } from '../../../../src/backend/native.js'
import { pointMassLogDensity } from '../../../../src/backend/log-densities.js'
import { heapBuffer } from '../../../../src/backend/kernels/heap.js'
import type { WasmHeapBackend } from '../../../../src/backend/kernels/heap.js'
import { FC, read } from '../../../helpers.js'

const info = await initBackend()

const SPECIAL = [0, -0, 1, Infinity, -Infinity, NaN] as const

/** 0 where x[i] === v[i] (IEEE) over every group of `inner` values, −∞ elsewhere. */
const reference = (x: readonly number[], v: readonly number[], inner: number): number[] =>
  Array.from({ length: x.length / inner }, (_, g) => (x.slice(g * inner, (g + 1) * inner).every((xi, i) => xi === v[g * inner + i]) ? 0 : -Infinity))

/** A shape, how many rightmost dims form an event, a value and an x that equals it except at some elements (which may hold special values). */
const cases = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) => {
  const n = shape.reduce((a, d) => a * d, 1)
  return fc.record({
    shape: fc.constant(shape),
    eventDims: fc.integer({ min: 0, max: shape.length }),
    value: fc.array(fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: -3, max: 3 })), { minLength: n, maxLength: n }),
    changes: fc.array(fc.tuple(fc.nat({ max: n - 1 }), fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: -3, max: 3 }))), { maxLength: 3 }),
  })
})

describe('pointMassLogDensity', () => {
  it('is 0 exactly where x equals the value on the whole event (IEEE: −0 = 0, ∞ = ∞, NaN ≠ NaN)', () => {
    fc.assert(fc.property(cases, ({ shape, eventDims, value, changes }) => tf.tidy(() => {
      const x = [...value]
      for (const [i, v] of changes) x[i] = v
      const inner = shape.slice(shape.length - eventDims).reduce((a, d) => a * d, 1)
      const got = pointMassLogDensity(tf.tensor(x, shape), tf.tensor(value, shape), eventDims)
      expect(got.shape).toEqual(shape.slice(0, shape.length - eventDims))
      expect(read(got)).toEqual(reference(Array.from(Float32Array.from(x)), Array.from(Float32Array.from(value)), inner))
    })), FC)
  })

  it('has a zero gradient in x and in the value', () => tf.tidy(() => {
    const [gx, gv] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(pointMassLogDensity(a, b, 1)))([tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 2], [3, 5]])])
    expect([...read(gx!), ...read(gv!)]).toEqual(Array(8).fill(0))
  }))
})

describe.skipIf(!info.native)('pointMassLogDensity on the accelerator', () => {
  const heapBytes = (): number => (tf.backend() as unknown as WasmHeapBackend).wasm.HEAPU8.buffer.byteLength

  it('runs as one native kernel for x and value of one shape', async () => {
    const x = tf.tensor2d([[1, 2], [3, 4]]), v = tf.tensor2d([[1, 2], [3, 5]])
    const p = await tf.profile(() => pointMassLogDensity(x, v, 1))
    expect(p.kernelNames.filter((k) => k !== '')).toEqual(['TfpplPointMassLogProb'])   // '': the custom-gradient op around it
    expect(read(p.result as tf.Tensor)).toEqual([0, -Infinity])
    tf.dispose([x, v, p.result as tf.Tensor])
  })

  it('the same after the wasm memory grows', () => tf.tidy(() => {
    const v = tf.randomNormal([128, 7, 7, 16], 0, 1, 'float32', 3), x = tf.where(tf.less(tf.randomUniform([128, 1, 1, 1], 0, 1, 'float32', 4), 0.5), v, tf.add(v, 1e-3))
    const want = reference(read(x), read(v), 7 * 7 * 16)
    tf.dispose(tf.zeros([heapBytes()]))   // four times the heap: memory.grow detaches the old buffer
    expect(read(pointMassLogDensity(x, v, 3))).toEqual(want)
  }))

  it('rejects bad arguments in C with a RangeError (code TFPPL_NATIVE)', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const pointMass = n.addon.pointMassLogProb!
    const heap = heapBuffer(tf.backend() as unknown as WasmHeapBackend), end = heap.byteLength
    const cases: [() => void, RegExp][] = [
      [() => pointMass(heap, 4, end - 8, 0, 0, 1), /pointMassLogProb: an operand lies outside/],
      [() => pointMass(heap, 4, 0, 0, end - 4, 2), /pointMassLogProb: an operand lies outside/],
      [() => pointMass(heap, 4, 0, 0, 0, 3), /pointMassLogProb: expected/],
      [() => pointMass(heap, 4, 0, 0, 0, 0), /pointMassLogProb: expected/],
    ]
    for (const [call, message] of cases) {
      expect(call).toThrow(message)
      try { call() } catch (e) { expect((e as { code?: unknown }).code).toBe('TFPPL_NATIVE') }
    }
  })
})
