/**
 * `convLayer`: act(conv(x, W) + b) and act(conv2dTranspose(x, W) + b). On every backend: the composite
 * path, named shape errors, no leaks. With the accelerator, the fused kernels (`TfpplConvLayer`,
 * `TfpplConvLayerPre`, native/conv.c's `convLayer`) against the composite tfjs ops on the same native
 * convolutions, on random shapes, strides, paddings and activations: the forward pass bit-identical, the
 * gradients of Σ u ⊙ y in x, W, b within |fused − composite| ≤ 1e-5·max|composite| per tensor (float32
 * rounding; in practice they agree exactly: the same kernels run on the same dpre); after the wasm memory
 * grows mid-call; the launch count; the C bounds checks.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backendInfo, initBackend, setNative } from '../../src/backend/init.js'
import { loadNative } from '../../src/backend/native.js'
import { convLayer } from '../../src/backend/conv-layer.js'
import type { ConvActivation, ConvLayerOptions } from '../../src/backend/conv-layer.js'
import { CONV_LAYER_KERNEL, nativeConvLayerActive } from '../../src/backend/kernels/native/conv-layer.js'
import { convPlan } from '../../src/backend/kernels/native/conv.js'
import { BackendError, ShapeError } from '../../src/errors.js'
import { FC, read } from '../helpers.js'

const info = await initBackend()
const active = info.native && nativeConvLayerActive()

const uniform = (shape: readonly number[], seed: number): tf.Tensor => tf.randomUniform([...shape], -1, 1, 'float32', seed)

/** The layer as separate tfjs ops (what `convLayer` does when it does not fuse). */
const composite = (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, o: ConvLayerOptions): tf.Tensor4D => {
  const conv = o.transpose === undefined ? tf.conv2d(x, w, o.strides, o.pad) : tf.conv2dTranspose(x, w, [...o.transpose], o.strides, o.pad)
  const pre = tf.add(conv, b) as tf.Tensor4D
  return o.activation === 'relu' ? tf.relu(pre) : pre
}

type Layer = typeof convLayer

/** y and the gradients of Σ u ⊙ y in x, W, b. */
const run = (layer: Layer, x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, u: tf.Tensor, o: ConvLayerOptions): number[][] => tf.tidy(() => {
  const y = layer(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, o)
  const g = tf.grads((x2: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => tf.sum(tf.mul(layer(x2 as tf.Tensor4D, w2 as tf.Tensor4D, b2 as tf.Tensor1D, o), u)))([x, w, b])
  return [y, ...g].map(read)
})

/** A layer case: the convolution's input [b, h, w, c], filter [kh, kw, c, o]; transposed: x is the convolution's output. */
interface Case { b: number; h: number; w: number; c: number; kh: number; kw: number; o: number; s: [number, number]; pad: 'same' | 'valid'; act: ConvActivation; transpose: boolean }
const int = (min: number, max: number) => fc.integer({ min, max })
const cases: fc.Arbitrary<Case> = fc.record({
  b: int(1, 3), h: int(1, 11), w: int(1, 11), c: int(1, 5), kh: int(1, 4), kw: int(1, 4), o: int(1, 6), s: fc.tuple(int(1, 3), int(1, 3)),
  pad: fc.constantFrom('same' as const, 'valid' as const), act: fc.constantFrom<ConvActivation>('relu', 'linear'), transpose: fc.boolean(),
})

/** The operands of a case (undefined when the geometry is empty): x, W, b, u and the options. */
const operands = (k: Case, seed: number): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, ConvLayerOptions] | undefined => {
  const inShape = [k.b, k.h, k.w, k.c], plan = convPlan(inShape, [k.kh, k.kw, k.c, k.o], { strides: k.s, pad: k.pad })
  if (plan === undefined) return undefined
  const [xShape, yShape] = k.transpose ? [plan.yShape, inShape] : [inShape, plan.yShape]
  const o: ConvLayerOptions = { strides: k.s, pad: k.pad, activation: k.act, ...(k.transpose ? { transpose: inShape as [number, number, number, number] } : {}) }
  return [uniform(xShape, seed), uniform([k.kh, k.kw, k.c, k.o], seed + 1), uniform([yShape[3]!], seed + 2), uniform(yShape, seed + 3), o]
}

/** max |a − b| over the largest |b| (0 when both are 0). */
const relError = (a: readonly number[], b: readonly number[]): number => {
  const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
  const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)
  return worst === 0 ? 0 : worst / scale
}

describe('convLayer', () => {
  it('equals conv + bias + activation, plain and transposed, and leaves no tensors behind', () => {
    for (const transpose of [false, true]) {
      const ops = operands({ b: 2, h: 6, w: 5, c: 3, kh: 3, kw: 3, o: 4, s: [2, 2], pad: 'same', act: 'relu', transpose }, 11)!
      const before = tf.memory().numTensors
      const fast = run(convLayer, ...ops), slow = run(composite, ...ops)
      expect(tf.memory().numTensors).toBe(before)
      fast.forEach((v, i) => expect(relError(v, slow[i]!)).toBeLessThanOrEqual(1e-5))
      tf.dispose(ops.slice(0, 4) as tf.Tensor[])
    }
  })

  it('names the operand that does not fit in a ShapeError', () => tf.tidy(() => {
    const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D, w = tf.zeros([3, 3, 3, 4]) as tf.Tensor4D, b = tf.zeros([4]) as tf.Tensor1D
    const o: ConvLayerOptions = { strides: 2, pad: 'same' }
    expect(() => convLayer(tf.zeros([8, 8, 3]) as unknown as tf.Tensor4D, w, b, o)).toThrow(ShapeError)
    expect(() => convLayer(tf.zeros([2, 8, 8, 2]) as tf.Tensor4D, w, b, o)).toThrow(/x has 2 channels, the filter takes 3/)
    expect(() => convLayer(x, w, tf.zeros([3]) as tf.Tensor1D, o)).toThrow(/bias must have the filter's 4 output channels/)
    const h = tf.zeros([2, 4, 4, 4]) as tf.Tensor4D
    expect(() => convLayer(h, w, tf.zeros([3]) as tf.Tensor1D, { ...o, transpose: [2, 8, 8, 3] })).not.toThrow()
    expect(() => convLayer(h, w, b, { ...o, transpose: [2, 8, 8, 3] })).toThrow(/bias must have the transposed output's 3 channels/)
    expect(() => convLayer(h, w, tf.zeros([3]) as tf.Tensor1D, { ...o, transpose: [2, 12, 8, 3] })).toThrow(/x must be 6×4/)
    expect(() => convLayer(h, w, tf.zeros([3]) as tf.Tensor1D, { ...o, transpose: [3, 8, 8, 3] })).toThrow(/transpose must be \[2, h, w, 3\]/)
    expect(() => convLayer(x, w, tf.zeros([3]) as tf.Tensor1D, { ...o, transpose: [2, 16, 16, 3] })).toThrow(/has the filter's 4 output channels, not 3/)
  }))

  describe.skipIf(!active)(`with the accelerator${active ? '' : ` (skipped: ${info.native ? 'the addon has no convLayer: rebuild native/' : info.nativeStatus})`}`, () => {
    it('fused kernels equal the composite ops on random shapes: forward bit-identical, gradients to 1e-5 relative', () => {
      let worst = 0
      fc.assert(fc.property(cases, fc.nat(), (k, seed) => {
        const ops = operands(k, seed)
        fc.pre(ops !== undefined)
        try {
          const [fast, slow] = [run(convLayer, ...ops!), run(composite, ...ops!)]
          expect(fast[0]!.every((v, i) => v === slow[0]![i] || (Number.isNaN(v) && Number.isNaN(slow[0]![i])))).toBe(true)
          for (let i = 1; i < 4; i++) worst = Math.max(worst, relError(fast[i]!, slow[i]!))
          expect(worst).toBeLessThanOrEqual(1e-5)
        } finally { tf.dispose(ops!.slice(0, 4) as tf.Tensor[]) }
      }), { ...FC, numRuns: 60 })
    })

    it('runs one kernel forward, and backward dpre, dW, db (no dx for data): no Add, Relu, Step', async () => {
      const ops = operands({ b: 2, h: 8, w: 8, c: 3, kh: 3, kw: 3, o: 4, s: [2, 2], pad: 'same', act: 'relu', transpose: false }, 3)!
      const [x, w, b, u, o] = ops
      const forward = await tf.profile(() => convLayer(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, o))
      expect(forward.kernelNames).toEqual([CONV_LAYER_KERNEL])
      const backward = await tf.profile(() => tf.grads((w2: tf.Tensor, b2: tf.Tensor) => tf.sum(tf.mul(convLayer(x as tf.Tensor4D, w2 as tf.Tensor4D, b2 as tf.Tensor1D, o), u)))([w, b]))
      const names = backward.kernels.map((k) => k.name)
      expect(names.filter((n) => ['Relu', 'Step', 'Add', 'Conv2D', 'Conv2DBackpropInput'].includes(n))).toEqual([])
      expect(names.filter((n) => n.startsWith('Tfppl'))).toEqual([CONV_LAYER_KERNEL, 'TfpplConvLayerPre', 'TfpplConv2DBackpropFilter'])
      expect(names.slice(-3)).toEqual(['TfpplConvLayerPre', 'TfpplConv2DBackpropFilter', 'Sum'])   // dpre, dW, db; no dx for data
      tf.dispose([...ops.slice(0, 4) as tf.Tensor[], ...forward.result as unknown as tf.Tensor[]].flat())
    })

    it('stays bit-identical when allocating the output grows the wasm memory mid-call, plain and transposed', () => {
      const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm
      for (const transpose of [false, true]) {
        const before = heap.HEAPU8.buffer.byteLength
        const rows = Math.ceil(before / 4 / 64) + 64   // the output, [1, rows, 1, 64], is larger than the whole heap
        const [x, w, b] = transpose
          ? [uniform([1, Math.ceil(rows / 2), 1, 1], 1), uniform([3, 1, 64, 1], 2), uniform([64], 3)]
          : [uniform([1, rows, 1, 1], 1), uniform([3, 1, 1, 64], 2), uniform([64], 3)]
        const o: ConvLayerOptions = { strides: transpose ? [2, 1] : 1, pad: 'same', activation: 'relu', ...(transpose ? { transpose: [1, 2 * Math.ceil(rows / 2), 1, 64] as const } : {}) }
        const fast = convLayer(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, o)
        expect(heap.HEAPU8.buffer.byteLength).toBeGreaterThan(before)
        const slow = composite(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, o)
        const [a, c] = [fast.dataSync(), slow.dataSync()]
        let differ = a.length === c.length ? 0 : 1
        for (let i = 0; i < a.length; i++) if (a[i] !== c[i]) differ++
        expect(differ).toBe(0)
        tf.dispose([x, w, b, fast, slow])
      }
    })

    it('is used only while the accelerator is on (then the composite ops run)', () => {
      setNative(false)
      try { expect(nativeConvLayerActive()).toBe(false) } finally { setNative(true) }
      expect(nativeConvLayerActive()).toBe(true)
      expect(backendInfo().nativeKernels).toContain(CONV_LAYER_KERNEL)
    })

    it('refuses a call it does not cover in its kernel with a BackendError', () => {
      const [x, w, b] = [tf.zeros([1, 4, 4, 2]), tf.zeros([3, 3, 2, 5]), tf.zeros([4])]
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'relu' }
      expect(() => tf.engine().runKernel(CONV_LAYER_KERNEL, { x, filter: w, bias: b }, attrs as unknown as tf.NamedAttrMap)).toThrow(BackendError)
      tf.dispose([x, w, b])
    })

    it('refuses operands outside the heap and bad arguments, in C, with a named RangeError', () => {
      const n = loadNative()
      if (!n.ok) throw new Error(n.reason)
      const layer = (n.addon as unknown as { convLayer: (...args: unknown[]) => void }).convLayer
      const buf = new ArrayBuffer(256)
      // x [1, 3, 3, 1] at 0 (36 B), W [2, 2, 1, 1] at 64 (16 B), bias [1] at 96, y [1, 2, 2, 1] at 128 (16 B): 'valid', stride 1.
      const geom = [1, 3, 3, 1, 2, 2, 1, 2, 2, 1, 1, 0, 0]
      expect(() => layer(0, buf, ...geom, 2, 0, 64, 96, 128)).not.toThrow()
      expect(() => layer(1, buf, ...geom, 0, 128, 64, 96, 0)).not.toThrow()
      expect(() => layer(0, buf, ...geom, 2, 0, 64, 256, 128)).toThrow(/convLayer: an operand lies outside the wasm heap/)   // bias
      expect(() => layer(0, buf, ...geom, 2, 0, 64, 98, 128)).toThrow(/convLayer: an operand lies outside the wasm heap/)    // misaligned bias
      expect(() => layer(0, buf, ...geom, 2, 0, 64, 96, 244)).toThrow(/convLayer: an operand lies outside the wasm heap/)
      expect(() => layer(1, buf, ...geom, 2, 0, 64, 96, 224)).toThrow(/convLayer: an operand lies outside the wasm heap/)    // dx: 9 floats at 224
      expect(() => layer(2, buf, ...geom, 2, 0, 64, 96, 128)).toThrow(/convLayer: expected/)   // no filter gradient here
      expect(() => layer(0, buf, ...geom, 1, 0, 64, 96, 128)).toThrow(/convLayer: expected/)   // softplus: not a conv activation
      expect(() => layer(0, buf, ...geom, 2, 0, 64, 96)).toThrow(/convLayer: expected/)
      try { layer(0, buf, ...geom, 2, 0, 64, 256, 128) } catch (e) { expect((e as { code?: unknown }).code).toBe('TFPPL_NATIVE') }
    })
  })
})
