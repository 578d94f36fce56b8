/**
 * The accelerator's density kernels (`kernels/native/densities.ts`, `native/densities.c`): `normalLogDensity`
 * and `bernoulliLogDensity` on the native path against `composedNormalLogDensity` and
 * `composedBernoulliLogDensity` bit for bit, values and gradients, on random shapes with full and
 * size-1 parameters and at special values; that the native kernels really run (and ∂/∂x is not
 * computed for data) and that uncovered shapes fall back to the composite ops; wasm memory growth
 * before and during a call; no leaked tensors; the C argument checks; float64 values at fixed points.
 * The accelerator-only parts skip where it is inactive (`TFPPL_NATIVE=0`, the cpu backend).
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src/backend/init.js'
import { loadNative } from '../../../../src/backend/native.js'
import { heapBuffer } from '../../../../src/backend/kernels/heap.js'
import type { WasmHeapBackend } from '../../../../src/backend/kernels/heap.js'
import { bernoulliLogDensity, composedBernoulliLogDensity, composedNormalLogDensity, normalLogDensity } from '../../../../src/backend/log-densities.js'
import { expectNoLeak, FC, read, softplus64 } from '../../../helpers.js'

const info = await initBackend()
const native = info.native

type Density = (...inputs: tf.Tensor[]) => tf.Tensor
const NORMAL_PARTS = ['value', '∂/∂x', '∂/∂loc', '∂/∂scale'], BERNOULLI_PARTS = ['value', '∂/∂x', '∂/∂logits']

/** The value and the gradients of Σ f(inputs) ⊙ u in every input. */
const valueAndGrads = (f: Density, inputs: tf.Tensor[], u: tf.Tensor): number[][] => tf.tidy(() =>
  [f(...inputs), ...tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(...t), u)))(inputs)].map(read))

/** A float32's bits as an integer ordered like the floats (−0 and +0 one apart), for ulp distances. */
const ordered = (v: number): number => {
  const bits = new Int32Array(new Float32Array([v]).buffer)[0]!
  return bits >= 0 ? bits : -1 - (bits & 0x7fffffff)
}
const ulps = (a: number, b: number): number => (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) ? 0 : Number.isNaN(a) || Number.isNaN(b) ? Infinity : Math.abs(ordered(a) - ordered(b)))

/** Fails, naming the part, the number of differing elements and the worst ulp distance, unless every float is identical. */
const expectBitIdentical = (actual: readonly ArrayLike<number>[], expected: readonly ArrayLike<number>[], parts: readonly string[]): void => {
  expect(actual.map((a) => a.length)).toEqual(expected.map((e) => e.length))
  actual.forEach((a, p) => {
    let differ = 0, worst = 0, at = -1
    for (let i = 0; i < a.length; i++) {
      const d = ulps(a[i]!, expected[p]![i]!)
      if (d > 0) differ++
      if (d > worst) [worst, at] = [d, i]
    }
    if (differ > 0) expect.fail(`${parts[p]}: ${differ} of ${a.length} differ, worst ${worst} ulps at ${at} (native ${a[at]}, composite ${expected[p]![at]})`)
  })
}

/** x and μ from N(0, 2), σ from U(0.2, 3). */
const normalInputs = (shape: number[], locShape: number[], scaleShape: number[], seed: number): tf.Tensor[] => tf.tidy(() =>
  [tf.randomNormal(shape, 0, 2, 'float32', seed), tf.randomNormal(locShape, 0, 2, 'float32', seed + 1), tf.randomUniform(scaleShape, 0.2, 3, 'float32', seed + 2)])

/** x in {0, 1}; logits from N(0, 4), about a fifth of them pushed to ±30. */
const bernoulliInputs = (shape: number[], seed: number): tf.Tensor[] => tf.tidy(() => {
  const x = tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', seed), 0.5), 'float32')
  const l = tf.randomNormal(shape, 0, 4, 'float32', seed + 1)
  return [x, tf.where(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', seed + 2), 0.8), tf.mul(tf.sign(l), 30), l)]
})

/** Native and composite agree bit for bit on these inputs (u: a fixed random cotangent). */
const expectSame = (native: Density, composite: Density, inputs: tf.Tensor[], parts: readonly string[], sumLast = 0): void => {
  const shape = inputs[0]!.shape
  const u = tf.randomNormal(shape.slice(0, shape.length - sumLast), 0, 1, 'float32', 7)
  try { expectBitIdentical(valueAndGrads(native, inputs, u), valueAndGrads(composite, inputs, u), parts) } finally { u.dispose() }
}
/** The densities as `Density`s, summing the rightmost `sumLast` dims. */
const normalOf = (f: typeof normalLogDensity, sumLast = 0): Density => (...t) => f(t[0]!, t[1]!, t[2]!, sumLast)
const bernoulliOf = (f: typeof bernoulliLogDensity, sumLast = 0): Density => (...t) => f(t[0]!, t[1]!, sumLast)
const sameNormal = (t: tf.Tensor[], sumLast = 0): void => expectSame(normalOf(normalLogDensity, sumLast), normalOf(composedNormalLogDensity, sumLast), t, NORMAL_PARTS, sumLast)
const sameBernoulli = (t: tf.Tensor[], sumLast = 0): void => expectSame(bernoulliOf(bernoulliLogDensity, sumLast), bernoulliOf(composedBernoulliLogDensity, sumLast), t, BERNOULLI_PARTS, sumLast)

/** x's shape (rank 0–3, dims 1–6); a parameter's: x's, or a single value of rank ≤ x's. */
const xShape = fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 3 })
const paramShape = (s: number[]) => fc.oneof(fc.constant(s), fc.integer({ min: 0, max: s.length }).map((r) => Array<number>(r).fill(1)))
const seed = fc.integer({ min: 0, max: 1_000_000 })

/** The kernels `f` launches. */
const kernelsOf = async (f: () => tf.TensorContainer): Promise<string[]> =>
  (await tf.profile(() => { tf.dispose(f()) })).kernels.map((k) => k.name)
const count = (names: readonly string[], name: string): number => names.filter((n) => n === name).length

const heapBytes = (): number => (tf.backend() as unknown as WasmHeapBackend).wasm.HEAPU8.buffer.byteLength

describe.skipIf(!native)('native density kernels against the composite ops', () => {
  it('normal: bit-identical values and gradients for random shapes, full and size-1 parameters', () => {
    fc.assert(fc.property(xShape.chain((s) => fc.tuple(fc.constant(s), paramShape(s), paramShape(s), seed)), ([s, ls, ss, k]) => {
      const t = normalInputs(s, ls, ss, k)
      try { sameNormal(t) } finally { tf.dispose(t) }
    }), FC)
  })

  it('bernoulli: bit-identical values and gradients for random shapes, logits up to ±30', () => {
    fc.assert(fc.property(xShape, seed, (s, k) => {
      const t = bernoulliInputs(s, k)
      try { sameBernoulli(t) } finally { tf.dispose(t) }
    }), FC)
  })

  it('summing the rightmost dims (sumLast, as toEvent): bit-identical to the composite and tfjs\'s Sum, values and gradients', () => {
    const sized = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 })
    const withSum = (s: number[]) => fc.tuple(fc.constant(s), paramShape(s), paramShape(s), fc.integer({ min: 1, max: s.length }), seed)
    fc.assert(fc.property(sized.chain(withSum), ([s, ls, ss, n, k]) => {
      const t = normalInputs(s, ls, ss, k), b = bernoulliInputs(s, k)
      try { sameNormal(t, n); sameBernoulli(b, n) } finally { tf.dispose([...t, ...b]) }
    }), FC)
  })

  it('sums rows longer than the C chunk (512) in the same order as tfjs', () => {
    const t = normalInputs([3, 1500], [3, 1500], [3, 1500], 5), b = bernoulliInputs([2, 1300], 6), s = normalInputs([2, 700], [1], [1], 7)
    try { sameNormal(t, 1); sameBernoulli(b, 1); sameNormal(s, 1); sameNormal(t, 2); sameBernoulli(b, 2) } finally { tf.dispose([...t, ...b, ...s]) }
  })

  it('bit-identical at special values (±0, ±∞, NaN, huge and tiny), through the vector tail', () => {
    const special = [NaN, Infinity, -Infinity, 1e30, -1e30, 88, -88, 0, -0, 17, -17, 1e-30]
    const x = tf.tensor1d(special.map((_, i) => i % 2)), l = tf.tensor1d(special)
    const nx = tf.tensor1d([1, 2, NaN, 1e20, -3, 0, Infinity, 5, 1, 2, 3, 4]), nl = tf.tensor1d([1, 2, 0, 0, 1e20, -0, 1, Infinity, 0, 0, 0, 0])
    const ns = tf.tensor1d([1, 1e-20, 1, 1e-30, 2, 3, 1, 1, 1e30, 0, Infinity, NaN]), sl = tf.scalar(-0), ss = tf.scalar(1e-20)
    try {
      sameBernoulli([x, l])
      sameNormal([nx, nl, ns])
      sameNormal([nx, sl, ss])   // scalar parameters
    } finally { tf.dispose([x, l, nx, nl, ns, sl, ss]) }
  })

  it('launches the native kernels, and computes no ∂/∂x for data', async () => {
    const [x, l] = bernoulliInputs([4, 3], 1) as [tf.Tensor, tf.Tensor]
    const [nx, loc, scale] = normalInputs([4, 3], [1], [4, 3], 2) as [tf.Tensor, tf.Tensor, tf.Tensor]
    const dy = tf.ones([4, 3])
    expect(await kernelsOf(() => bernoulliLogDensity(x, l))).toEqual(['TfpplBernoulliLogProb'])
    expect(await kernelsOf(() => normalLogDensity(nx, loc, scale))).toEqual(['TfpplNormalLogProb'])
    // Gradients with an explicit cotangent dy, so no Sum gradient adds a Multiply of its own.
    const logitsOnly = await kernelsOf(() => tf.grad((l2: tf.Tensor) => bernoulliLogDensity(x, l2))(l, dy))
    expect([count(logitsOnly, 'TfpplBernoulliLogProbGrad'), count(logitsOnly, 'Multiply')]).toEqual([1, 0])
    const both = await kernelsOf(() => tf.grads((x2: tf.Tensor, l2: tf.Tensor) => bernoulliLogDensity(x2, l2))([x, l], dy))
    expect([count(both, 'TfpplBernoulliLogProbGrad'), count(both, 'Multiply')]).toEqual([1, 1])
    const locOnly = await kernelsOf(() => tf.grad((m: tf.Tensor) => normalLogDensity(nx, m, scale))(loc, dy))
    const all = await kernelsOf(() => tf.grads((a: tf.Tensor, m: tf.Tensor, s: tf.Tensor) => normalLogDensity(a, m, s))([nx, loc, scale], dy))
    expect([count(locOnly, 'TfpplNormalLogProbGrad'), count(all, 'TfpplNormalLogProbGrad')]).toEqual([1, 3])
    // Summed over the event: still one launch each way, no Sum and no broadcast of dy.
    const dRow = tf.ones([4])
    expect(await kernelsOf(() => bernoulliLogDensity(x, l, 1))).toEqual(['TfpplBernoulliLogProb'])
    expect(await kernelsOf(() => normalLogDensity(nx, loc, scale, 1))).toEqual(['TfpplNormalLogProb'])
    const summedB = await kernelsOf(() => tf.grad((l2: tf.Tensor) => bernoulliLogDensity(x, l2, 1))(l, dRow))
    const summedN = await kernelsOf(() => tf.grad((a: tf.Tensor) => normalLogDensity(a, loc, scale, 1))(nx, dRow))
    expect(['TfpplBernoulliLogProbGrad', 'TfpplNormalLogProbGrad', 'Sum', 'Multiply', 'OnesLike'].map((k) => count([...summedB, ...summedN], k))).toEqual([1, 1, 0, 0, 0])
    tf.dispose([x, l, nx, loc, scale, dy, dRow])
  })

  it('falls back to the composite ops for shapes the kernels do not cover, with correct values', async () => {
    const [x, l] = [tf.tensor2d([[1], [0], [1]]), tf.tensor2d([[-2, 0, 0.5, 40]])]
    const [nx, loc, scale] = [tf.tensor2d([[0, 1], [2, 3]]), tf.tensor1d([0.5, -1]), tf.scalar(2)]
    const names = [...await kernelsOf(() => bernoulliLogDensity(x, l)), ...await kernelsOf(() => normalLogDensity(nx, loc, scale))]
    expect(names.filter((n) => n.startsWith('Tfppl'))).toEqual([])
    const bern = tf.tidy(() => read(bernoulliLogDensity(x, l))), xs = [1, 0, 1], ls = [-2, 0, 0.5, 40]
    bern.forEach((v, i) => expect(v).toBeCloseTo(xs[i >> 2]! * ls[i % 4]! - softplus64(ls[i % 4]!), 5))
    const norm = tf.tidy(() => read(normalLogDensity(nx, loc, scale))), locs = [0.5, -1]
    norm.forEach((v, i) => expect(v).toBeCloseTo(-0.5 * ((i - locs[i % 2]!) / 2) ** 2 - Math.log(2) - 0.5 * Math.log(2 * Math.PI), 5))
    tf.dispose([x, l, nx, loc, scale])
  })

  it('stays bit-identical when allocating the output grows the wasm memory mid-call', () => {
    const n = Math.ceil(heapBytes() / 4)   // x alone fills the old heap; the output cannot fit beside it
    const t = [tf.randomNormal([n], 0, 2, 'float32', 5), tf.scalar(0.5), tf.scalar(1.5)]
    const before = heapBytes()
    const y = normalLogDensity(t[0]!, t[1]!, t[2]!)
    expect(heapBytes()).toBeGreaterThan(before)
    const yc = composedNormalLogDensity(t[0]!, t[1]!, t[2]!)
    try { expectBitIdentical([y.dataSync()], [yc.dataSync()], ['value']) } finally { tf.dispose([...t, y, yc]) }
  })

  it('stays bit-identical, values and gradients, after the wasm memory grows between making the inputs and the call', () => {
    const t = normalInputs([5, 7], [5, 7], [1, 1], 11), b = bernoulliInputs([5, 7], 12)
    const before = heapBytes()
    tf.dispose(tf.zeros([before]))   // four times the heap: memory.grow detaches the old buffer
    expect(heapBytes()).toBeGreaterThan(before)
    try { sameNormal(t); sameBernoulli(b) } finally { tf.dispose([...t, ...b]) }
  })

  it('rejects bad arguments in C with a RangeError (code TFPPL_NATIVE), without touching memory', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const a = n.addon, heap = heapBuffer(tf.backend() as unknown as WasmHeapBackend), end = heap.byteLength
    const buf = new ArrayBuffer(64), notBuffer = new Float32Array(16) as unknown as ArrayBuffer
    const rejected = (f: () => void): { name: string; code: unknown; message: string } => {
      try { f() } catch (e) { return { name: (e as Error).name, code: (e as { code?: unknown }).code, message: (e as Error).message } }
      return { name: 'none', code: undefined, message: 'did not throw' }
    }
    const cases: [() => void, RegExp][] = [
      [() => a.bernoulliLogProb(heap, 4, 0, 0, end, 1), /bernoulliLogProb: an operand lies outside/],
      [() => a.bernoulliLogProb(heap, 4, end - 8, 0, 0, 1), /bernoulliLogProb: an operand lies outside/],
      [() => a.bernoulliLogProb(buf, -1, 0, 0, 0, 1), /bernoulliLogProb: expected/],
      [() => a.bernoulliLogProb(notBuffer, 1, 0, 0, 0, 1), /bernoulliLogProb: expected/],
      [() => a.bernoulliLogProbGrad(heap, 2, 0, 0, 0, end, 1), /bernoulliLogProbGrad: an operand lies outside/],
      [() => a.bernoulliLogProbGrad(buf, -3, 0, 0, 0, 0, 1), /bernoulliLogProbGrad: expected/],
      [() => a.normalLogProb(heap, 2, 0, end, 0, 0, 0, 8, 1), /normalLogProb: an operand lies outside/],
      [() => a.normalLogProb(buf, 2, 0, 0, 2, 0, 0, 8, 1), /normalLogProb: expected/],
      [() => a.normalLogProb(buf, 2, 0, 0, 0, 0, 2, 8, 1), /normalLogProb: expected/],
      [() => a.normalLogProb(buf, -2, 0, 0, 0, 0, 0, 8, 1), /normalLogProb: expected/],
      [() => a.normalLogProb(notBuffer, 2, 0, 0, 0, 0, 0, 8, 1), /normalLogProb: expected/],
      [() => a.normalLogProbGrad(3, buf, 2, 0, 0, 0, 0, 0, 0, 8, 1), /normalLogProbGrad: expected/],
      [() => a.normalLogProbGrad(-1, buf, 2, 0, 0, 0, 0, 0, 0, 8, 1), /normalLogProbGrad: expected/],
      [() => a.normalLogProbGrad(0, buf, 2, 0, 0, 0, 2, 0, 0, 8, 1), /normalLogProbGrad: expected/],
      [() => a.normalLogProbGrad(0, buf, 2, 0, 0, 2, 0, 0, 0, 8, 1), /normalLogProbGrad: an operand lies outside/],   // misaligned μ
      [() => a.normalLogProbGrad(2, heap, 2, 0, 0, 0, 0, 0, 0, end, 1), /normalLogProbGrad: an operand lies outside/],
      [() => a.normalLogProbGrad(1, buf, 4, 0, 0, 0, 1, 0, 1, 50, 1), /normalLogProbGrad: an operand lies outside/],
      // inner: at least 1 and dividing n; the summed output and the gradient's dy hold n / inner floats
      [() => a.bernoulliLogProb(buf, 4, 0, 0, 0, 0), /bernoulliLogProb: expected/],
      [() => a.bernoulliLogProb(buf, 4, 0, 0, 0, 3), /bernoulliLogProb: expected/],
      [() => a.bernoulliLogProb(buf, 4, 0, 0, 60, 2), /bernoulliLogProb: an operand lies outside/],
      [() => a.bernoulliLogProbGrad(buf, 6, 0, 0, 0, 0, 4), /bernoulliLogProbGrad: expected/],
      [() => a.bernoulliLogProbGrad(buf, 4, 60, 0, 0, 0, 2), /bernoulliLogProbGrad: an operand lies outside/],
      [() => a.normalLogProb(buf, 4, 0, 0, 0, 0, 0, 8, 0), /normalLogProb: expected/],
      [() => a.normalLogProb(buf, 4, 0, 0, 0, 0, 0, 60, 2), /normalLogProb: an operand lies outside/],
      [() => a.normalLogProbGrad(0, buf, 4, 0, 0, 0, 0, 0, 0, 8, 3), /normalLogProbGrad: expected/],
      [() => a.normalLogProbGrad(0, buf, 4, 60, 0, 0, 0, 0, 0, 8, 2), /normalLogProbGrad: an operand lies outside/],
    ]
    for (const [f, message] of cases) {
      const e = rejected(f)
      expect([e.name, e.code]).toEqual(['RangeError', 'TFPPL_NATIVE'])
      expect(e.message).toMatch(message)
    }
    // In-bounds calls on a private buffer succeed: x, μ, σ (= 1), out at 0, 16, 32, 48.
    new Float32Array(buf).fill(1)
    expect(() => a.normalLogProb(buf, 4, 0, 16, 1, 32, 1, 48, 1)).not.toThrow()
    expect(() => a.normalLogProbGrad(2, buf, 4, 0, 0, 16, 1, 32, 1, 48, 1)).not.toThrow()
    expect(() => a.bernoulliLogProbGrad(buf, 4, 0, 16, 32, 48, 1)).not.toThrow()
    expect(() => a.bernoulliLogProb(buf, 4, 0, 16, 60, 4)).not.toThrow()   // one sum of 4: the last float of the buffer
  })

  it('writes nothing for n = 0, not even the one log σ of a broadcast σ (was: 4 bytes written at the offset, which may be the end of the heap)', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const buf = new ArrayBuffer(64), f = new Float32Array(buf).fill(2)
    n.addon.normalLogProb(buf, 0, 0, 0, 0, 0, 0, 56, 1)
    expect(Array.from(f)).toEqual(Array<number>(16).fill(2))
  })

  it('the kernels refuse operands that are not float32 with n values (or one, for μ and σ), naming kernel and input', () => {
    const [x, l] = [tf.zeros([4]), tf.zeros([2])]
    try {
      expect(() => tf.engine().runKernel('TfpplBernoulliLogProb', { x, logits: l })).toThrow(/TfpplBernoulliLogProb: input 'logits' is float32 \[2\]; expected float32 with 4 values/)
      expect(() => tf.tidy(() => tf.engine().runKernel('TfpplNormalLogProb', { x, loc: l, scale: tf.ones([1]) }))).toThrow(/TfpplNormalLogProb: input 'loc' is float32 \[2\]; expected float32 with 4 values or one/)
    } finally { tf.dispose([x, l]) }
  })
})

describe('log densities at fixed points (every backend)', () => {
  it('equal the float64 formulas to 1e-6 relative, values and gradients', () => {
    const [x, loc, scale, one] = [tf.scalar(1), tf.scalar(0.5), tf.scalar(2), tf.scalar(1)]
    const [nv, ...ng] = valueAndGrads(normalOf(normalLogDensity), [x, loc, scale], one).map((v) => v[0]!)
    const w = 0.25
    const close = (got: number, want: number): void => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want) + 1e-30)
    close(nv!, -0.5 * w * w - Math.log(2) - 0.5 * Math.log(2 * Math.PI))
    ;[-w / 2, w / 2, (w * w - 1) / 2].forEach((g, i) => close(ng[i]!, g))
    for (const [xv, lv] of [[1, -3], [0, 40], [1, 0.7], [0, -12]] as const) {
      const [bx, bl] = [tf.scalar(xv), tf.scalar(lv)]
      const [bv, dx, dl] = valueAndGrads(bernoulliOf(bernoulliLogDensity), [bx, bl], one).map((v) => v[0]!)
      close(bv!, xv * lv - softplus64(lv))
      close(dx!, lv)
      close(dl!, xv - 1 / (1 + Math.exp(-lv)))
      tf.dispose([bx, bl])
    }
    tf.dispose([x, loc, scale, one])
  })

  it('leave no tensors behind, forward or backward', () => {
    const n = normalInputs([3, 4], [1], [3, 4], 21), b = bernoulliInputs([3, 4], 22)
    const u = tf.ones([3, 4])
    expectNoLeak(() => normalLogDensity(n[0]!, n[1]!, n[2]!))
    expectNoLeak(() => bernoulliLogDensity(b[0]!, b[1]!))
    expectNoLeak(() => tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(normalLogDensity(t[0]!, t[1]!, t[2]!), u)))(n))
    expectNoLeak(() => tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(bernoulliLogDensity(t[0]!, t[1]!), u)))(b))
    expectNoLeak(() => tf.grad((l: tf.Tensor) => bernoulliLogDensity(b[0]!, l))(b[1]!, u))
    tf.dispose([...n, ...b, u])
  })
})
