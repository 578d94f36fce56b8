/**
 * The native convolutions (src/backend/kernels/native/conv.ts, native/conv.c): `Conv2D`, `Conv2DBackpropInput`
 * and the filter gradient against the cpu backend's kernels of the same names on random shapes, strides
 * and paddings (not against tfjs-wasm's stock kernels: with 'same' padding wider than the input, or a
 * numeric padding on a non-square filter, those return zeros or write past their output); after the
 * wasm memory grows mid-call; gradients of small conv nets through `tf.grads` against the original path
 * (accelerator off: XNNPACK and conv-grad.ts); the fallbacks; the C bounds checks. Skipped, with the
 * reason in the title, where the accelerator is not active (not built, `TFPPL_NATIVE=0`, the cpu backend).
 *
 * Tolerance: |native − reference| ≤ 1e-5·|reference| + 1e-6·S, with S the largest Σ|terms| of the sums
 * in the tensor (the same op on |inputs|). Both sides round every partial sum in float32 in different
 * orders, so their difference scales with the terms summed, not with the result: an entry that cancels
 * to ≈ 0 meets no purely relative bound, and 1e-6·S (≈ 8 float32 ulps of the largest sum) covers that
 * rounding while staying ten times tighter than the relative bound on every entry of ordinary size.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend, setNative } from '../../../../src/backend/init.js'
import { loadNative } from '../../../../src/backend/native.js'
import { CONV_FILTER_KERNEL, NATIVE_CONV_KERNELS, convPlan, nativeConvActive } from '../../../../src/backend/kernels/native/conv.js'
import { FC, read } from '../../../helpers.js'

const info = await initBackend()
const active = info.native && nativeConvActive()
const withoutNative = <T>(f: () => T): T => {
  setNative(false)
  try { return f() } finally { setNative(true) }
}

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]]
interface Case { b: number; h: number; w: number; c: number; kh: number; kw: number; o: number; strides: [number, number]; pad: Pad }

const int = (min: number, max: number) => fc.integer({ min, max })
const pads: fc.Arbitrary<Pad> = fc.oneof(fc.constant('same' as const), fc.constant('valid' as const), int(0, 2),
  fc.tuple(int(0, 2), int(0, 2), int(0, 2), int(0, 2)).map(([t, bo, l, r]): Pad => [[0, 0], [t, bo], [l, r], [0, 0]]))
const cases: fc.Arbitrary<Case> = fc.record({
  b: int(1, 3), h: int(1, 12), w: int(1, 12), c: int(1, 5), kh: int(1, 4), kw: int(1, 4), o: int(1, 5),
  strides: fc.tuple(int(1, 3), int(1, 3)), pad: pads,
})

const attrsOf = (k: Case) => ({ strides: k.strides, pad: k.pad, dataFormat: 'NHWC', dilations: 1 })
const planOf = (k: Case) => convPlan([k.b, k.h, k.w, k.c], [k.kh, k.kw, k.c, k.o], attrsOf(k))
const uniform = (shape: readonly number[], seed: number): tf.Tensor4D => tf.randomUniform<tf.Rank>([...shape], -1, 1, 'float32', seed) as tf.Tensor4D
const kernel = (name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor4D =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D

/** The cpu backend's kernel `name` on the values of `inputs` (synchronously, without switching backends). */
const onCpu = (name: string, inputs: Record<string, tf.Tensor>, attrs: object): Float32Array => {
  const cpu = tf.findBackend('cpu')!, cpuKernel = tf.getKernel(name, 'cpu')!
  const infos = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { dataId: cpu.write(t.dataSync(), t.shape, 'float32'), shape: t.shape, dtype: 'float32' as const }]))
  const out = cpuKernel.kernelFunc({ inputs: infos, backend: cpu, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo
  const values = cpu.readSync(out.dataId) as Float32Array
  for (const t of [...Object.values(infos), out]) cpu.disposeData(t.dataId)
  return values
}

/** Asserts the tolerance above: `slow` the reference, `scale` Σ|terms| per entry. */
const expectClose = (fast: ArrayLike<number>, slow: ArrayLike<number>, scale: ArrayLike<number>): void => {
  expect(fast.length).toBe(slow.length)
  let [m, worst] = [0, 0]
  for (let i = 0; i < scale.length; i++) m = Math.max(m, scale[i]!)
  for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i]! - slow[i]!) / (1e-5 * Math.abs(slow[i]!) + 1e-6 * m))
  expect(worst).toBeLessThanOrEqual(1)
}

/** Kernel `name` natively against the cpu backend's, on `inputs` and (for the scale) on their absolute values. */
const compare = (name: string, inputs: Record<string, tf.Tensor>, attrs: object, cpuName = name): void => tf.tidy(() => {
  const fast = read(kernel(name, inputs, attrs))
  const abs = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.abs(t)]))
  expectClose(fast, onCpu(cpuName, inputs, attrs), onCpu(cpuName, abs, attrs))
})

/** The gradients of Σ dy ⊙ conv2d(x, W) (or conv2dTranspose(x, W) when `transpose`) with respect to x and W. */
const convGrads = (k: Case, transpose: boolean) => (x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D): number[][] => tf.tidy(() => {
  const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(dy, transpose
    ? tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [k.b, k.h, k.w, k.c], k.strides, k.pad as 'same')
    : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, k.strides, k.pad as 'same')))
  return tf.grads(f)([x, w]).map(read)
})

/** Why the suite is skipped, in its title: the accelerator's status, or a build that predates native/conv.c. */
const title = active ? 'native convolutions' : `native convolutions (skipped: ${info.native ? 'the addon has no conv kernel: rebuild native/' : info.nativeStatus})`

describe.skipIf(!active)(title, () => {
  it('Conv2D equals the cpu backend\'s kernel on random shapes, strides and paddings', () => {
    fc.assert(fc.property(cases, fc.nat(), (k, seed) => {
      fc.pre(planOf(k) !== undefined)
      const [x, w] = [uniform([k.b, k.h, k.w, k.c], seed), uniform([k.kh, k.kw, k.c, k.o], seed + 1)]
      try { compare('Conv2D', { x, filter: w }, attrsOf(k)) } finally { tf.dispose([x, w]) }
    }), FC)
  })

  it('Conv2DBackpropInput (conv2dTranspose) equals the cpu backend\'s kernel', () => {
    fc.assert(fc.property(cases, fc.nat(), (k, seed) => {
      const plan = planOf(k)
      fc.pre(plan !== undefined)
      const [dy, w] = [uniform(plan!.yShape, seed), uniform([k.kh, k.kw, k.c, k.o], seed + 1)]
      try { compare('Conv2DBackpropInput', { dy, filter: w }, { ...attrsOf(k), inputShape: [k.b, k.h, k.w, k.c] }) } finally { tf.dispose([dy, w]) }
    }), FC)
  })

  it('the filter gradient equals the cpu backend\'s Conv2DBackpropFilter', () => {
    fc.assert(fc.property(cases, fc.nat(), (k, seed) => {
      const plan = planOf(k)
      fc.pre(plan !== undefined)
      const [x, dy] = [uniform([k.b, k.h, k.w, k.c], seed), uniform(plan!.yShape, seed + 1)]
      try { compare(CONV_FILTER_KERNEL, { x, dy }, { ...attrsOf(k), filterShape: plan!.wShape }, 'Conv2DBackpropFilter') } finally { tf.dispose([x, dy]) }
    }), FC)
  })

  it('stays correct when allocating the output grows the wasm memory mid-call (forward and input gradient)', () => {
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm
    for (const name of ['Conv2D', 'Conv2DBackpropInput'] as const) {
      const before = heap.HEAPU8.buffer.byteLength
      const rows = Math.ceil(before / 4 / 64) + 64   // the output, [1, rows, 1, 64], is larger than the whole heap
      const [inputs, attrs] = name === 'Conv2D'
        ? [{ x: uniform([1, rows, 1, 1], 1), filter: uniform([3, 1, 1, 64], 2) }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }]
        : [{ dy: uniform([1, Math.ceil(rows / 4), 1, 1], 3), filter: uniform([3, 1, 64, 1], 4) }, { strides: 4, pad: 'same', dataFormat: 'NHWC', inputShape: [1, rows, 1, 64] }]
      const fast = kernel(name, inputs, attrs)
      expect(heap.HEAPU8.buffer.byteLength).toBeGreaterThan(before)
      const slow = onCpu(name, inputs, attrs)
      expectClose(fast.dataSync(), slow, [3])   // |x|, |W| ≤ 1: every entry sums at most 3 terms of size ≤ 1
      tf.dispose([fast, ...Object.values(inputs)])
    }
  })

  it('gradients of a small conv net through tf.grads equal the original path, and leak nothing', () => {
    const nets: readonly [Case, boolean][] = [
      [{ b: 4, h: 28, w: 28, c: 1, kh: 3, kw: 3, o: 8, strides: [2, 2], pad: 'same' }, false],     // the encoder's layers
      [{ b: 4, h: 14, w: 14, c: 8, kh: 3, kw: 3, o: 16, strides: [2, 2], pad: 'same' }, true],     // the decoder's transposed ones
      [{ b: 3, h: 7, w: 7, c: 16, kh: 1, kw: 1, o: 5, strides: [1, 1], pad: 'same' }, false],      // the VQ-VAE's 1×1
      [{ b: 2, h: 9, w: 8, c: 3, kh: 2, kw: 3, o: 4, strides: [1, 2], pad: 'valid' }, true],
    ]
    for (const [k, transpose] of nets) {
      const plan = planOf(k)!
      const [x, w] = [uniform(transpose ? plan.yShape : [k.b, k.h, k.w, k.c], 5), uniform([k.kh, k.kw, k.c, k.o], 6)]
      const dy = uniform(transpose ? [k.b, k.h, k.w, k.c] : plan.yShape, 7)
      const tensors = tf.memory().numTensors
      const fast = convGrads(k, transpose)(x, w, dy)
      expect(tf.memory().numTensors).toBe(tensors)
      const slow = withoutNative(() => convGrads(k, transpose)(x, w, dy))
      const scale = withoutNative(() => convGrads(k, transpose)(tf.abs(x), tf.abs(w), tf.abs(dy)))
      fast.forEach((g, i) => expectClose(g, slow[i]!, scale[i]!))
      tf.dispose([x, w, dy])
    }
  })

  it('with 2 and 3 threads (images split between threads): y, dx and dW equal one thread\'s within the tolerance', () => {
    // Each call is ≥ 2^21 multiply-adds, so native/conv.c splits its images; 5 images over 3 threads split unevenly.
    // Not bit-identical: OpenBLAS rounds the last rows of a product of a different height differently (seen: 8 rows of 12,544).
    const layers: readonly Case[] = [
      { b: 64, h: 28, w: 28, c: 1, kh: 3, kw: 3, o: 32, strides: [2, 2], pad: 'same' },     // the encoder's first layer
      { b: 5, h: 14, w: 14, c: 32, kh: 3, kw: 3, o: 64, strides: [2, 2], pad: 'same' },     // its second
      { b: 2, h: 28, w: 28, c: 16, kh: 3, kw: 3, o: 64, strides: [1, 1], pad: 'same' },     // 2 images: 2 shares at 3 threads, a worker left idle
      { b: 7, h: 7, w: 7, c: 64, kh: 1, kw: 1, o: 160, strides: [1, 1], pad: 'valid' },     // 1×1: no patch matrix
      { b: 6, h: 15, w: 13, c: 9, kh: 3, kw: 2, o: 64, strides: [1, 2], pad: [[0, 0], [2, 1], [0, 1], [0, 0]] },
    ]
    const all = (k: Case): Float32Array[] => tf.tidy(() => {
      const plan = planOf(k)!
      const [x, w, dy] = [uniform([k.b, k.h, k.w, k.c], 11), uniform(plan.wShape, 12), uniform(plan.yShape, 13)]
      return [
        kernel('Conv2D', { x, filter: w }, attrsOf(k)),
        kernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrsOf(k), inputShape: [k.b, k.h, k.w, k.c] }),
        kernel(CONV_FILTER_KERNEL, { x, dy }, { ...attrsOf(k), filterShape: plan.wShape }),
      ].map((t) => t.dataSync() as Float32Array)
    })
    try {
      for (const k of layers) {
        const plan = planOf(k)!
        expect(k.b * plan.yShape[1] * plan.yShape[2] * k.kh * k.kw * k.c * k.o).toBeGreaterThanOrEqual(2 ** 21)
        const one = all(k)
        const scales = tf.tidy(() => {
          const [x, w, dy] = [tf.abs(uniform([k.b, k.h, k.w, k.c], 11)), tf.abs(uniform(plan.wShape, 12)), tf.abs(uniform(plan.yShape, 13))]
          return [
            kernel('Conv2D', { x, filter: w }, attrsOf(k)),
            kernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrsOf(k), inputShape: [k.b, k.h, k.w, k.c] }),
            kernel(CONV_FILTER_KERNEL, { x, dy }, { ...attrsOf(k), filterShape: plan.wShape }),
          ].map(read)
        })
        for (const threads of [2, 3]) {
          setNative(true, threads)
          const split = all(k)
          setNative(true, 1)
          split.forEach((values, i) => expectClose(values, one[i]!, scales[i]!))
        }
      }
    } finally { setNative(true, 1) }
  })

  it('hands what it does not cover (dilation) to the original kernel', () => {
    const x = uniform([2, 9, 9, 3], 8), w = uniform([3, 3, 3, 4], 9)
    const dilated = () => tf.tidy(() => read(tf.conv2d(x, w, 1, 'same', 'NHWC', 2)))
    expect(convPlan(x.shape, w.shape, { strides: 1, pad: 'same', dilations: 2 })).toBeUndefined()
    expect(dilated()).toEqual(withoutNative(dilated))
    tf.dispose([x, w])
  })

  it('is switched off and on with the accelerator, and lists its kernels', () => {
    expect(NATIVE_CONV_KERNELS).toEqual(['Conv2D', 'Conv2DBackpropInput', CONV_FILTER_KERNEL])
    withoutNative(() => expect(nativeConvActive()).toBe(false))
    expect(nativeConvActive()).toBe(true)
  })

  it('refuses operands outside the heap and bad geometry, in C, with a named RangeError', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const conv = (n.addon as unknown as { conv: (...args: unknown[]) => void }).conv
    const buf = new ArrayBuffer(256)
    // x [1, 3, 3, 1] at 0 (36 B), W [2, 2, 1, 1] at 64 (16 B), y [1, 2, 2, 1] at 128 (16 B): 'valid', stride 1.
    const geom = [1, 3, 3, 1, 2, 2, 1, 2, 2, 1, 1, 0, 0]
    expect(() => conv(0, buf, ...geom, 0, 64, 128)).not.toThrow()
    expect(() => conv(0, buf, ...geom, 0, 64, 244)).toThrow(/conv: an operand lies outside the wasm heap/)
    expect(() => conv(1, buf, ...geom, 0, 64, 224)).toThrow(/conv: an operand lies outside the wasm heap/)   // dx: 9 floats at 224
    expect(() => conv(2, buf, ...geom, 0, 250, 128)).toThrow(/conv: an operand lies outside the wasm heap/)
    expect(() => conv(0, buf, ...geom, 2, 64, 128)).toThrow(/conv: an operand lies outside the wasm heap/)   // misaligned
    expect(() => conv(3, buf, ...geom, 0, 64, 128)).toThrow(/conv: expected/)
    expect(() => conv(0, buf, 1, 3, 3, 1, 2, 2, 1, 2, 2, 0, 1, 0, 0, 0, 64, 128)).toThrow(/conv: sizes and strides must be positive/)
    expect(() => conv(0, buf, ...geom, 0, 64)).toThrow(/conv: expected/)
  })
})
