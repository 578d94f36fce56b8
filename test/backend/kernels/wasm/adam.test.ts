/**
 * `TfpplAdam`, Adam as one wasm kernel per variable (`kernels/wasm/adam.ts`, `kernels/wasm/adam-simd.ts`, `fused-adam.ts`).
 * On stock wasm (accelerator off: the SIMD function, then the JavaScript tail) `applyFiniteGradients`
 * follows tfjs's own `applyGradients` over 300 steps — variables, `iterations` and the moment
 * variables `getWeights` returns — for sizes that exercise the SIMD body and the tail, also after the
 * wasm memory grows; the stock and the C paths agree bit for bit on random data with extreme
 * magnitudes; `adamUpdate` and `simdAdam` agree bit for bit with a `Math.fround` reference on a private
 * memory, and both report a non-finite gradient or an x′ that overflows; a NaN or ±∞ gradient in
 * the SIMD part or the tail changes nothing; the kernel replaces tfjs's Adam kernels (with the
 * accelerator, `applyFiniteGradients` launches one `TfpplAdamAll` for all variables instead: its
 * 'native' mode here, and test/backend/kernels/native/adam.test.ts); no tensors leak. Skipped off wasm; the C comparisons skip without the accelerator.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend, setNative } from '../../../../src/backend/init.js'
import { applyFiniteGradients } from '../../../../src/backend/fused-adam.js'
import { ADAM_KERNEL, adamUpdate } from '../../../../src/backend/kernels/wasm/adam.js'
import { ADAM_ALL_KERNEL } from '../../../../src/backend/kernels/native/adam.js'
import type { AdamConstants } from '../../../../src/backend/kernels/wasm/adam.js'
import { simdAdam } from '../../../../src/backend/kernels/wasm/adam-simd.js'
import type { WasmMemory } from '../../../../src/backend/kernels/wasm/adam-simd.js'
import { expectClose, FC, read } from '../../../helpers.js'

const info = await initBackend()
const onWasm = info.name === 'wasm', nativeOn = info.native
type Mode = 'stock' | 'native'
const MODES: Mode[] = nativeOn ? ['stock', 'native'] : ['stock']
/** Runs `f` on the stock path (accelerator switched off, then back on) or, for 'native', as is. */
const inMode = <T>(mode: Mode, f: () => T): T => {
  if (mode === 'native' || !nativeOn) return f()
  setNative(false)
  try { return f() } finally { setNative(true) }
}
const wasmOf = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array; asm: { memory: WasmMemory } } }).wasm
const F = Math.fround
const MAX = 3.4028234663852886e38   // the largest float32

/** One `applyFiniteGradients` step of `o` on `vars` with gradients `gs` (loss `loss`). */
const apply = (o: tf.Optimizer, vars: tf.Variable[], gs: tf.Tensor[], loss = 0): boolean =>
  tf.tidy(() => applyFiniteGradients(o, tf.scalar(loss), Object.fromEntries(vars.map((v, i) => [v.name, gs[i]!]))))
const plainStep = (o: tf.Optimizer, vars: tf.Variable[], gs: tf.Tensor[]): void =>
  tf.tidy(() => o.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, gs[i]!]))))

/** tfjs 4.22's private Adam state (what `fused-adam.ts` reads and writes). */
interface AdamPrivate { accumulatedFirstMoment: ({ variable: tf.Variable } | undefined)[]; accumulatedSecondMoment: ({ variable: tf.Variable } | undefined)[]; accBeta1: tf.Variable; accBeta2: tf.Variable }
/** x, m, v of every variable (empty where a slot does not exist), then β₁ᵗ and β₂ᵗ: copies, read now. */
const stateOf = (o: tf.Optimizer, vars: tf.Variable[]): Float32Array[] => {
  const p = o as unknown as AdamPrivate
  const slots = vars.flatMap((x, i) => [x, p.accumulatedFirstMoment[i]?.variable, p.accumulatedSecondMoment[i]?.variable])
  return [...slots, p.accBeta1, p.accBeta2].map((t) => (t === undefined ? new Float32Array(0) : t.dataSync<'float32'>()))
}
const PART = ['x′', 'm′', 'v′']

/** A float32's bits as an integer ordered like the floats (−0 and +0 one apart), for ulp distances. */
const ordered = (v: number): number => {
  const bits = new Int32Array(new Float32Array([v]).buffer)[0]!
  return bits >= 0 ? bits : -1 - (bits & 0x7fffffff)
}
const ulps = (a: number, b: number): number => (Object.is(a, b) ? 0 : Number.isNaN(a) || Number.isNaN(b) ? Infinity : Math.abs(ordered(a) - ordered(b)))
/** Fails, naming the part, how many floats differ and the worst ulp distance, unless every float is identical (Object.is). */
const expectSameBits = (label: string, a: ArrayLike<number>, b: ArrayLike<number>): void => {
  expect(a.length, label).toBe(b.length)
  let differ = 0, worst = 0, at = -1
  for (let i = 0; i < a.length; i++) {
    const d = ulps(a[i]!, b[i]!)
    if (d > 0) differ++
    if (d > worst) [worst, at] = [d, i]
  }
  if (differ > 0) expect.fail(`${label}: ${differ} of ${a.length} differ, worst ${worst} ulps at ${at} (${a[at]} vs ${b[at]})`)
}

/** mulberry32: a seeded uniform [0, 1). */
const rng = (seed: number) => (): number => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
/** Mixed-sign float32s: ±0, subnormals, tiny, ordinary, and magnitudes up to 10^maxExp. */
const mixed = (r: () => number, n: number, maxExp: number): Float32Array => Float32Array.from({ length: n }, () => {
  const s = r() < 0.5 ? -1 : 1, k = r()
  return s * (k < 0.05 ? 0 : k < 0.15 ? 2 ** -149 * Math.ceil(r() * 2 ** 23) : k < 0.3 ? 10 ** (-37 + 30 * r()) : k < 0.9 ? 10 ** (-3 + 4 * r()) : 10 ** (5 + (maxExp - 5) * r()))
})
const hyper = fc.constantFrom({ lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-7 }, { lr: 0.3, b1: 0.5, b2: 0.75, eps: 1e-3 }, { lr: 1e-4, b1: 0.99, b2: 0.9999, eps: 1e-8 })
const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })

/** The update of one element, every operation rounded to float32 (no float64 intermediate survives): [x′, m′, v′]. */
const reference = (x: number, g: number, m: number, v: number, c: AdamConstants): number[] => {
  const [b1, b2, ob1, ob2, eps, c1, c2, negLr] = [c.beta1, c.beta2, 1 - c.beta1, 1 - c.beta2, c.epsilon, c.c1, c.c2, -c.lr].map(F) as [number, number, number, number, number, number, number, number]
  const m2 = F(F(b1 * m) + F(ob1 * g)), v2 = F(F(b2 * v) + F(ob2 * F(g * g)))
  return [F(F(negLr * F(F(m2 / c1) / F(F(Math.sqrt(F(v2 / c2))) + eps))) + x), m2, v2]
}

const SHAPES = [[37, 5], [3], [4], [6, 7], [1]]   // 185 = 46·4 + 1, tail only, SIMD only, 42 = 10·4 + 2, 1
const normals = (shapes: number[][], seed: number): tf.Tensor[] => shapes.map((s, i) => tf.randomNormal(s, 0.1, 1, 'float32', seed + i))

/** 300 (or `steps`) steps of ours (applyFiniteGradients) and theirs (tfjs's applyGradients) from the same start, `between` after step `at`. */
const race = (mode: Mode, shapes: number[][], steps: number, between = (_step: number): void => {}) => {
  const init = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', i + 1))
  const ours = init.map((t) => tf.variable(t)), theirs = init.map((t) => tf.variable(t))
  const [o1, o2] = [tf.train.adam(0.01), tf.train.adam(0.01)]
  inMode(mode, () => {
    for (let step = 0; step < steps; step++) {
      between(step)
      const gs = normals(shapes, 1000 * step)
      expect(apply(o1, ours, gs)).toBe(true)
      plainStep(o2, theirs, gs)
      tf.dispose(gs)
    }
  })
  ours.forEach((v, i) => expectClose(read(v), read(theirs[i]!), 1e-5, 1e-6))
  tf.dispose(init)
  return { ours, theirs, o1, o2, done: () => { tf.dispose([...ours, ...theirs]); o1.dispose(); o2.dispose() } }
}

describe.skipIf(!onWasm)('TfpplAdam on wasm', () => {
  it.each(MODES)('%s: follows tfjs applyGradients over 300 steps, iterations and getWeights included', async (mode) => {
    const { ours, theirs, o1, o2, done } = race(mode, SHAPES, 300)
    expect([o1.iterations, o2.iterations]).toEqual([300, 300])
    const [w1, w2] = [await o1.getWeights(), await o2.getWeights()]
    const names = (vs: tf.Variable[]) => ['iter', ...vs.map((v) => `${v.name}/m`), ...vs.map((v) => `${v.name}/v`)]
    expect([w1.map((w) => w.name), w2.map((w) => w.name)]).toEqual([names(ours), names(theirs)])
    w1.forEach((w, k) => expectClose(read(w.tensor), read(w2[k]!.tensor), 1e-5, 1e-6))
    // The β-powers, advanced without a kernel, are tfjs's float32 products bit for bit.
    const powers = (o: tf.Optimizer) => { const p = o as unknown as AdamPrivate; return [p.accBeta1, p.accBeta2].map((t) => t.dataSync()[0]) }
    expect(powers(o1)).toEqual(powers(o2))
    tf.dispose([w1[0]!.tensor, w2[0]!.tensor]); done()
  })

  it.skipIf(!nativeOn)('the stock path (SIMD + JS tail) and the C path agree bit for bit over 50 steps', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 3 }), seed, hyper, (sizes, s, h) => {
      const r = rng(s), x0 = sizes.map((n) => mixed(r, n, 30))
      const [a, b] = [0, 1].map(() => x0.map((x) => tf.variable(tf.tensor1d(x)))) as [tf.Variable[], tf.Variable[]]
      const oa = tf.train.adam(h.lr, h.b1, h.b2, h.eps), ob = tf.train.adam(h.lr, h.b1, h.b2, h.eps)
      try {
        for (let step = 0; step < 50; step++) {
          const gs = sizes.map((n) => tf.tensor1d(mixed(r, n, 20)))   // |g| up to 1e20: g² overflows to ∞ sometimes
          const okStock = inMode('stock', () => apply(oa, a, gs)), okNative = apply(ob, b, gs)
          tf.dispose(gs)
          expect([okStock, okNative]).toEqual([true, true])
          const [sa, sb] = [stateOf(oa, a), stateOf(ob, b)]
          sizes.forEach((n, i) => PART.forEach((p, j) => expectSameBits(`step ${step}, ${p} of variable ${i} (size ${n})`, sa[3 * i + j]!, sb[3 * i + j]!)))
        }
      } finally { tf.dispose([...a, ...b]); oa.dispose(); ob.dispose() }
    }), FC)
  })

  it('adamUpdate and simdAdam agree bit for bit with a Math.fround reference on a private memory', () => {
    const memory = new (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemory } }).WebAssembly.Memory({ initial: 1 })
    const simd = simdAdam(memory)!
    expect(simd).toBeTypeOf('function')
    fc.assert(fc.property(fc.integer({ min: 0, max: 128 }), seed, hyper, fc.integer({ min: 1, max: 2000 }), fc.constantFrom(NaN, Infinity, -Infinity), (k, s, h, t, bad) => {
      const n = 4 * k, r = rng(s), heap = new Float32Array(memory.buffer)
      ;[mixed(r, n, 30), mixed(r, n, 20), mixed(r, n, 30), mixed(r, n, 30).map(Math.abs)].forEach((d, j) => heap.set(d, j * n))   // x g m v
      const c: AdamConstants = { lr: h.lr, beta1: h.b1, beta2: h.b2, epsilon: h.eps, c1: F(1 - F(h.b1 ** t)), c2: F(1 - F(h.b2 ** t)) }
      const run = (): [boolean, number] => [
        adamUpdate(heap, n, { x: 0, g: n, m: 2 * n, v: 3 * n, x2: 4 * n, m2: 5 * n, v2: 6 * n }, c),   // regions 4–6: JS; 7–9: SIMD
        simd(n, 0, 4 * n, 8 * n, 12 * n, 28 * n, 32 * n, 36 * n, F(c.beta1), F(c.beta2), F(1 - c.beta1), F(1 - c.beta2), F(c.epsilon), F(c.c1), F(c.c2), F(-c.lr))]
      const region = (j: number): Float32Array => heap.slice(j * n, (j + 1) * n)
      const check = (): void => PART.forEach((p, j) => {
        expectSameBits(`${p}: adamUpdate vs simdAdam (n ${n})`, region(4 + j), region(7 + j))
        expectSameBits(`${p}: adamUpdate vs reference (n ${n})`, region(4 + j), Float32Array.from({ length: n }, (_, i) => reference(heap[i]!, heap[n + i]!, heap[2 * n + i]!, heap[3 * n + i]!, c)[j]!))
      })
      expect(run()).toEqual([true, 0])
      check()
      if (n === 0) return
      heap[n + (s % n)] = bad   // one non-finite gradient: both say so, and still agree elsewhere
      expect(run()).toEqual([false, 1])
      check()
      // Finite inputs whose update overflows x′ (x at the float32 maximum, a large m, v = g = 0): both say so too.
      const j = (7 * s) % n
      heap[n + (s % n)] = 0
      heap[j] = MAX; heap[n + j] = 0; heap[2 * n + j] = -1e30; heap[3 * n + j] = 0   // x g m v
      expect(run()).toEqual([false, 1])
      check()
    }), FC)
  })

  it.each(MODES)('%s: a NaN or ±∞ gradient in the SIMD part or the tail changes nothing; a finite step then applies', (mode) => inMode(mode, () => {
    for (const n of [185, 7, 3]) {
      for (const at of [0, n >> 1, n - 1]) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const vars = [tf.variable(tf.ones([5])), tf.variable(tf.randomNormal([n], 0, 1, 'float32', n)), tf.variable(tf.ones([6]))]
          const o = tf.train.adam(0.1)
          const good = () => [tf.ones([5]), tf.randomNormal([n], 0, 1, 'float32', at), tf.ones([6])]
          tf.tidy(() => { expect(apply(o, vars, good())).toBe(true) })   // creates the slots
          const before = stateOf(o, vars)
          tf.tidy(() => {
            const g = tf.tensor1d(Float32Array.from(read(tf.ones([n])), (x, i) => (i === at ? bad : x)))
            expect(apply(o, vars, [tf.ones([5]), g, tf.ones([6])]), `n ${n}, g[${at}] = ${bad}`).toBe(false)
            expect(apply(o, vars, good(), bad)).toBe(false)   // a non-finite loss: refused as well
          })
          expect(o.iterations).toBe(1)
          stateOf(o, vars).forEach((s, k) => expectSameBits(`n ${n}, g[${at}] = ${bad}, part ${k}`, s, before[k]!))
          tf.tidy(() => { expect(apply(o, vars, good())).toBe(true) })
          expect([o.iterations, read(vars[0]!)[0]! < 0.85]).toEqual([2, true])
          tf.dispose(vars); o.dispose()
        }
      }
    }
  }))

  it.each(MODES)('%s: a rejected first step leaves variables and iterations alone and creates no moment slots (as tfjs\'s own path)', (mode) => inMode(mode, () => {
    const x = tf.variable(tf.ones([9])), o = tf.train.adam(0.1)
    tf.tidy(() => { expect(apply(o, [x], [tf.tensor1d([1, 1, 1, 1, 1, 1, 1, 1, NaN])])).toBe(false) })
    const [xs, m, v] = stateOf(o, [x])
    expect([Array.from(xs!), m!.length, v!.length, o.iterations]).toEqual([Array(9).fill(1), 0, 0, 0])
    tf.tidy(() => { expect(apply(o, [x], [tf.ones([9])])).toBe(true) })
    expectClose(read(x), Array(9).fill(0.9), 1e-6, 1e-6)
    x.dispose(); o.dispose()
  }))

  it.each(MODES)('%s: launches one TfpplAdam per variable (stock) or one TfpplAdamAll for all (native), and none of tfjs\'s Adam kernels', async (mode) => {
    const memory = wasmOf().asm.memory
    expect(simdAdam(memory)).toBeTypeOf('function')   // the SIMD function exists for the backend's memory (else the JS loop does all)
    expect(simdAdam(memory)).toBe(simdAdam(memory))
    const vars = [tf.variable(tf.ones([1024])), tf.variable(tf.ones([3]))], o = tf.train.adam(0.1)
    const step = () => tf.profile(() => { tf.tidy(() => { apply(o, vars, [tf.fill([1024], 0.5), tf.ones([3])]) }) })
    if (mode === 'stock' && nativeOn) setNative(false)
    let names: string[]
    try { names = (await step()).kernels.map((k) => k.name) } finally { if (mode === 'stock' && nativeOn) setNative(true) }
    expect([names.filter((k) => k === ADAM_KERNEL).length, names.filter((k) => k === ADAM_ALL_KERNEL).length]).toEqual(mode === 'native' ? [0, 1] : [2, 0])
    // Multiply: the β-powers advance without a kernel.
    expect(names.filter((k) => ['Sqrt', 'RealDiv', 'Square', 'Sub', 'Add', 'AddV2', 'Multiply'].includes(k))).toEqual([])
    expectClose(read(vars[0]!), Array(1024).fill(0.9), 1e-6, 1e-6)
    tf.dispose(vars); o.dispose()
  })

  it.each(MODES)('%s: follows tfjs after the wasm memory grows between steps and during a step', (mode) => {
    let grown = 0
    const { done } = race(mode, [[37, 5], [3]], 20, (step) => {
      if (step !== 10) return
      const before = wasmOf().HEAPU8.buffer.byteLength
      tf.dispose(tf.zeros([before / 4 + 4096]))   // larger than the whole heap
      grown = wasmOf().HEAPU8.buffer.byteLength - before
    })
    expect(grown).toBeGreaterThan(0)
    done()
    // x, its copy, their start and g take half the heap; the moment slots and the kernel outputs 5/8 more.
    const before = wasmOf().HEAPU8.buffer.byteLength
    const big = race(mode, [[before / 4 / 8]], 1)
    expect(wasmOf().HEAPU8.buffer.byteLength).toBeGreaterThan(before)
    big.done()
  })

  it.each(MODES)('%s: leaks no tensors over 20 steps, rejected ones included', (mode) => inMode(mode, () => {
    const vars = SHAPES.map((s) => tf.variable(tf.zeros(s))), o = tf.train.adam(0.01)
    tf.tidy(() => { apply(o, vars, normals(SHAPES, 0)) })
    const before = tf.memory().numTensors
    for (let step = 1; step <= 20; step++) tf.tidy(() => { apply(o, vars, normals(SHAPES, 10 * step), step % 5 === 0 ? NaN : 0) })
    expect([tf.memory().numTensors, o.iterations]).toEqual([before, 17])
    tf.dispose(vars); o.dispose()
  }))
})
