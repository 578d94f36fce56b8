/**
 * `TfpplAdamAll` (`kernels/native/adam.ts`, `native/adam.c`): Adam over every variable of a step in
 * one launch and one native call. On random shapes and float32 data (±0, subnormals, the float32
 * extremes, NaN, ±∞) its outputs and its finiteness flag are bit-identical to one `TfpplAdam` launch
 * per variable, also when allocating its outputs grows the wasm memory mid-call; through
 * `applyFiniteGradients` it follows the per-variable path of the accelerator-off configuration bit
 * for bit — variables, moments, β-powers, iterations — before and after the memory grows, refused
 * steps included; one step launches it once and nothing else of Adam's; bad operands are refused
 * with a named error, in TypeScript and in C. Skipped where the accelerator is inactive.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend, setNative } from '../../../../src/backend/init.js'
import { loadNative } from '../../../../src/backend/native.js'
import { applyFiniteGradients } from '../../../../src/backend/fused-adam.js'
import { heapBuffer } from '../../../../src/backend/kernels/heap.js'
import type { WasmHeapBackend } from '../../../../src/backend/kernels/heap.js'
import { ADAM_ALL_KERNEL, nativeAdamAllInstalled } from '../../../../src/backend/kernels/native/adam.js'
import { ADAM_KERNEL } from '../../../../src/backend/kernels/wasm/adam.js'
import { FC } from '../../../helpers.js'

const info = await initBackend()
const active = info.native && nativeAdamAllInstalled()
const heapBytes = (): number => heapBuffer(tf.backend() as unknown as WasmHeapBackend).byteLength

/** Bits of every float, so that NaN payloads and −0 count. */
const bitsOf = (t: tf.Tensor): Uint32Array => new Uint32Array(Float32Array.from(t.dataSync()).buffer)

interface Operands { x: tf.Tensor; g: tf.Tensor; m: tf.Tensor; v: tf.Tensor }
const ATTRS = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, c1: Math.fround(1 - 0.9 ** 3), c2: Math.fround(1 - 0.999 ** 3) }

/** [x′, m′, v′ of every variable…, finite] from one TfpplAdamAll launch. */
const allAtOnce = (ops: readonly Operands[], attrs = ATTRS): tf.Tensor[] => tf.engine().runKernel(ADAM_ALL_KERNEL,
  Object.fromEntries(ops.flatMap((o, i) => [[`x${i}`, o.x], [`g${i}`, o.g], [`m${i}`, o.m], [`v${i}`, o.v]])), { ...attrs, count: ops.length }) as tf.Tensor[]

/** The same from one TfpplAdam launch per variable (the accelerator's per-variable path), the flags and-ed. */
const perVariable = (ops: readonly Operands[], attrs = ATTRS): tf.Tensor[] => {
  const each = ops.map((o) => tf.engine().runKernel(ADAM_KERNEL, { ...o }, attrs) as tf.Tensor[])
  return [...each.flatMap((r) => r.slice(0, 3)), tf.scalar(each.every((r) => r[3]!.dataSync()[0] === 1), 'bool')]
}

/** Fails naming the output (variable, part), how many floats differ and the first, unless both lists are bit-identical. */
const expectSame = (a: readonly tf.Tensor[], b: readonly tf.Tensor[]): void => {
  expect(a.length).toBe(b.length)
  a.forEach((t, k) => {
    const label = k === a.length - 1 ? 'finite' : `variable ${Math.floor(k / 3)}, ${['x′', 'm′', 'v′'][k % 3]}`
    expect(t.shape, label).toEqual(b[k]!.shape)
    const [p, q] = [bitsOf(t), bitsOf(b[k]!)]
    let differ = 0, first = -1
    for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) { differ++; if (first < 0) first = i }
    if (differ > 0) expect.fail(`${label}: ${differ} of ${p.length} floats differ, the first at ${first} (bits ${p[first]} vs ${q[first]})`)
  })
}

const dims = fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 3 })
const floats = (n: number, extra: Parameters<typeof fc.float32Array>[0] = {}) => fc.float32Array({ minLength: n, maxLength: n, ...extra })
/** One variable: a shape and its x, g (NaN and ±∞ allowed), m, v ≥ 0. */
const variable = dims.chain((shape) => {
  const n = shape.reduce((a, b) => a * b, 1)
  const finite = { noNaN: true, noDefaultInfinity: true }
  return fc.record({ shape: fc.constant(shape), x: floats(n, finite), g: floats(n), m: floats(n, finite), v: floats(n, finite).map((a) => a.map(Math.abs)) })
})
type Variable = typeof variable extends fc.Arbitrary<infer V> ? V : never
const tensors = (vs: readonly Variable[]): Operands[] => vs.map((v) => ({ x: tf.tensor(v.x, v.shape), g: tf.tensor(v.g, v.shape), m: tf.tensor(v.m, v.shape), v: tf.tensor(v.v, v.shape) }))

describe.skipIf(!active)('TfpplAdamAll', () => {
  it('is bit-identical to one TfpplAdam per variable on random shapes and float32 data, the finiteness flag included', () => {
    fc.assert(fc.property(fc.array(variable, { minLength: 1, maxLength: 6 }), fc.boolean(), (vs, finiteG) => tf.tidy(() => {
      const ops = tensors(finiteG ? vs.map((v) => ({ ...v, g: v.g.map((g) => (Number.isFinite(g) ? g : 1)) })) : vs)
      expectSame(allAtOnce(ops), perVariable(ops))
    })), { ...FC, numRuns: 60 })
  })

  it('with 2 and 3 threads (≥ 2^16 elements, shared between threads) it is bit-identical to one thread, a NaN gradient in any share included', () => {
    // Variables of uneven sizes, so the shares' boundaries fall inside variables; 70,003 elements in all.
    const sizes = [5, 40_000, 3, 29_990, 5]
    const ops = sizes.map((n, i) => ({ x: tf.randomNormal([n], 0, 1, 'float32', i), g: tf.randomNormal([n], 0, 1, 'float32', 10 + i), m: tf.randomNormal([n], 0, 0.1, 'float32', 20 + i), v: tf.randomUniform([n], 0, 0.1, 'float32', 30 + i) }))
    const withNaN = ops.map((o, i) => i === 3 ? { ...o, g: tf.tidy(() => tf.concat([o.g.slice(0, 29_000), tf.fill([1], Number.NaN), o.g.slice(29_001)])) } : o)
    try {
      for (const operands of [ops, withNaN]) {
        const one = allAtOnce(operands)
        for (const threads of [2, 3]) {
          setNative(true, threads)
          const split = allAtOnce(operands)
          setNative(true, 1)
          try { expectSame(split, one) } finally { tf.dispose(split) }
        }
        expect(one[one.length - 1]!.dataSync()[0]).toBe(operands === ops ? 1 : 0)
        tf.dispose(one)
      }
    } finally { setNative(true, 1); tf.dispose([...ops.flatMap(Object.values), withNaN[3]!.g]) }
  })

  it('stays bit-identical when allocating its outputs grows the wasm memory mid-call', () => {
    const n = Math.ceil(heapBytes() / 4 / 2)   // two variables whose 4 inputs fill the old heap: the 6 outputs cannot fit beside them
    const ops = [0, 1].map((i) => ({ x: tf.randomNormal([n], 0, 1, 'float32', i), g: tf.randomNormal([n], 0, 1, 'float32', 10 + i), m: tf.randomNormal([n], 0, 0.1, 'float32', 20 + i), v: tf.randomUniform([n], 0, 0.1, 'float32', 30 + i) }))
    const before = heapBytes()
    const all = allAtOnce(ops)
    expect(heapBytes()).toBeGreaterThan(before)
    const each = perVariable(ops)
    try { expectSame(all, each) } finally { tf.dispose([...ops.flatMap(Object.values), ...all, ...each]) }
  })

  it('refuses operands that are missing, not float32 or not of x\'s size, naming them', () => tf.tidy(() => {
    const ok = { x: tf.ones([3]), g: tf.ones([3]), m: tf.zeros([3]), v: tf.zeros([3]) }
    expect(() => allAtOnce([ok, { ...ok, g: tf.ones([4]) }])).toThrow(/TfpplAdamAll: input 'g1' is float32 \[4\]; expected float32 with 3 values, as x1/)
    expect(() => allAtOnce([{ ...ok, m: tf.zeros([3], 'int32') }])).toThrow(/input 'm0' is int32/)
    expect(() => tf.engine().runKernel(ADAM_ALL_KERNEL, { x0: ok.x, g0: ok.g, m0: ok.m }, { ...ATTRS, count: 1 })).toThrow(/input 'v0' is missing/)
  }))

  it('rejects bad arguments in C with a RangeError (code TFPPL_NATIVE), before writing anything', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const adamAll = n.addon.adamAll!, heap = new ArrayBuffer(1024), f32 = new Float32Array(heap)
    f32.fill(7)
    const row = (size: number, ...offsets: number[]): number[] => [size, ...offsets]
    const good = row(4, 0, 16, 32, 48, 64, 80, 96)
    const call = (table: number[] | Float64Array): unknown => adamAll(heap, Array.isArray(table) ? Float64Array.from(table) : table, 0.1, 0.9, 0.999, 1e-7, 0.1, 0.001)
    const rejects = (table: number[] | Float64Array, message: RegExp): void => {
      try { call(table); expect.fail('did not throw') } catch (e) {
        expect([(e as Error).name, (e as { code?: unknown }).code]).toEqual(['RangeError', 'TFPPL_NATIVE'])
        expect((e as Error).message).toMatch(message)
      }
    }
    rejects([...good, ...row(4, 0, 16, 32, 48, 1024, 80, 96)], /outside the wasm heap/)   // the second variable's x′ ends past the heap: the first is not written either
    rejects([...good, ...row(4, 0, 16, 32, 48, 2, 80, 96)], /outside the wasm heap/)   // unaligned
    rejects([...good, 1.5, 0, 0, 0, 0, 0, 0, 0], /not a size or an offset/)
    rejects(good.slice(0, 7), /8 numbers per variable/)
    rejects(new Float32Array(good) as unknown as Float64Array, /Float64Array/)
    expect(Array.from(f32.subarray(16, 28))).toEqual(Array(12).fill(7))   // no output was written
    expect(call(good)).toBe(true)
    expect(call([])).toBe(true)
  })
})

describe.skipIf(!active)('applyFiniteGradients with TfpplAdamAll', () => {
  const SHAPES = [[37, 5], [3], [], [6, 7], [1]]
  /** One step of `o` on `vars` with gradients from `seed` (a NaN in one of them when `poison`): whether applied. */
  const step = (o: tf.Optimizer, vars: tf.Variable[], seed: number, poison = false): boolean => tf.tidy(() => {
    const gs = vars.map((v, i) => tf.randomNormal(v.shape, 0, 1, 'float32', 1 + seed + i))   // tfjs draws unseeded for seed 0
    if (poison) gs[2] = tf.scalar(Number.NaN)
    return applyFiniteGradients(o, tf.scalar(1), Object.fromEntries(vars.map((v, i) => [v.name, gs[i]!])))
  })
  /** Every float of the state a step may change, as bits: variables, moments, β-powers; and iterations. */
  const stateOf = (o: tf.Optimizer, vars: tf.Variable[]): unknown[] => {
    const p = o as unknown as { accumulatedFirstMoment: { variable: tf.Variable }[]; accumulatedSecondMoment: { variable: tf.Variable }[]; accBeta1: tf.Variable; accBeta2: tf.Variable }
    const all = [...vars, ...p.accumulatedFirstMoment.map((s) => s.variable), ...p.accumulatedSecondMoment.map((s) => s.variable), p.accBeta1, p.accBeta2]
    return [...all.map((t) => Array.from(bitsOf(t))), o.iterations]
  }

  it('follows the per-variable path (accelerator off) bit for bit over 40 steps, refused steps and a memory growth included', () => {
    const init = SHAPES.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 100 + i))
    const [ours, theirs] = [0, 1].map(() => init.map((t) => tf.variable(t))) as [tf.Variable[], tf.Variable[]]
    const [o1, o2] = [tf.train.adam(0.05), tf.train.adam(0.05)]
    let grown = false
    try {
      for (let s = 0; s < 40; s++) {
        if (s === 20) { const before = heapBytes(); tf.dispose(tf.zeros([before / 4 + 4096])); grown = heapBytes() > before }
        const poison = s % 9 === 4
        expect(step(o1, ours, 7 * s, poison)).toBe(!poison)
        setNative(false)
        try { expect(step(o2, theirs, 7 * s, poison)).toBe(!poison) } finally { setNative(true) }
        expect(stateOf(o1, ours), `step ${s}`).toEqual(stateOf(o2, theirs))
      }
      expect([grown, o1.iterations]).toEqual([true, 40 - 4])   // steps 4, 13, 22 and 31 refused
    } finally { tf.dispose([...init, ...ours, ...theirs]); o1.dispose(); o2.dispose() }
  })

  it('one step launches TfpplAdamAll once, no TfpplAdam and none of tfjs\'s Adam kernels', async () => {
    const vars = SHAPES.map((s) => tf.variable(tf.ones(s))), o = tf.train.adam(0.1)
    step(o, vars, 0)
    const p = await tf.profile(() => { step(o, vars, 1) })
    const names = p.kernels.map((k) => k.name)
    expect(names.filter((k) => k !== 'RandomStandardNormal' && k !== 'Identity' && k !== 'Reshape')).toEqual([ADAM_ALL_KERNEL])
    tf.dispose(vars); o.dispose()
  })
})
