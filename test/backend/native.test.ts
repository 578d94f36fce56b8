/**
 * The native accelerator against the kernels it replaces: random shapes, every transpose flag and
 * broadcast batch, a wasm memory growth in the middle of a call, the transcendentals, the fused
 * Adam against `tf.train.adam`, and the C bounds checks. Skipped where the accelerator is not
 * active (not built, `TFPPL_NATIVE=0`, or the cpu backend).
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { backendInfo, initBackend, setNative } from '../../src/backend/init.js'
import { loadNative } from '../../src/backend/native.js'
import { applyFiniteGradients } from '../../src/backend/fused-adam.js'
import { FC, read } from '../helpers.js'

/** Debian's pthread build of OpenBLAS, which the accelerator links first (native/binding.gyp). */
const PTHREAD_BLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0'

const info = await initBackend()
const loaded = loadNative()
const active = info.native
const withoutNative = <T>(f: () => T): T => {
  setNative(false)
  try { return f() } finally { setNative(true) }
}

/** max |native − original| / (|A|·|B|)ᵢⱼ: the error relative to the size of the sum each entry is. */
const productError = (a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean): number => tf.tidy(() => {
  const fast = read(tf.matMul(a, b, tA, tB))
  const [slow, scale] = withoutNative(() => [read(tf.matMul(a, b, tA, tB)), read(tf.matMul(tf.abs(a), tf.abs(b), tA, tB))])
  return fast.reduce((worst, v, i) => Math.max(worst, Math.abs(v - slow[i]!) / (scale[i]! + 1e-30)), 0)
})

describe.skipIf(!active)('native accelerator', () => {
  it('reports itself active in backendInfo', () => {
    expect(backendInfo().nativeStatus).toMatch(/^active \(OpenBLAS \d+\.\d+\.\d+, (pthread|OpenMP|sequential) build, \d+ threads?\)$/)
  })

  // binding.gyp puts Debian's pthread build first (RUNPATH), whatever the alternatives select: with 2 threads
  // the OpenMP build was ≈ 16× slower on this machine's products (bench/RESULTS.md, issue 21 point 3).
  it.skipIf(!existsSync(PTHREAD_BLAS) || (process.env['LD_LIBRARY_PATH'] ?? '') !== '')('loads the pthread build of OpenBLAS where it is installed', () => {
    expect(backendInfo().nativeStatus).toContain('pthread build')
    const maps = readFileSync('/proc/self/maps', 'utf8')
    expect(maps).toMatch(/\/openblas-pthread\/libopenblas/)
    expect(maps).not.toMatch(/\/openblas-openmp\//)
  })

  // With 2 threads only the products with every side ≥ 32 and m·n·k ≥ 2²² are split between threads, along C's
  // longer side (native/batch-mat-mul.c, native/parallel.c). A product of fewer rows or columns rounds some
  // entries differently in OpenBLAS (not bit-identical), so: within float32 rounding (relative to the largest
  // entry), above and below the threshold, split by rows and by columns, every transpose, 2, 3 and 20 threads, and
  // with every product split.
  it('products agree at 1, 2, 3 and 20 threads, above and below the threading threshold, for every transpose', () => {
    const shapes: ReadonlyArray<readonly [number, number, number]> = [[128, 784, 400], [64, 256, 256], [2048, 16, 64], [300, 9, 32], [517, 96, 131]]
    try {
      for (const [m, k, n] of shapes) {
        for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const a = tf.randomNormal(tA ? [k, m] : [m, k], 0, 1, 'float32', m)
          const b = tf.randomNormal(tB ? [n, k] : [k, n], 0, 1, 'float32', n)
          // Every result is kept until the end, so no product's output lands in a freed buffer that already
          // holds the same values (an entry a split product failed to write would then go unseen).
          const results: tf.Tensor[] = []
          const at = (threads: number, every = 0): Float32Array => {
            setNative(true, threads)
            if (every === 1 && loaded.ok) loaded.addon.setThreads(threads, 1)
            const c = tf.matMul(a, b, tA, tB)
            results.push(c)
            return c.dataSync() as Float32Array
          }
          const one = at(1), largest = one.reduce((w, v) => Math.max(w, Math.abs(v)), 0)
          // 20 threads: more than native/parallel.c's 16 shares, so each call caps its shares at 16.
          for (const other of [at(2), at(2, 1), at(3), at(3, 1), at(20), at(20, 1)]) {
            expect(other.reduce((w, v, i) => Math.max(w, Math.abs(v - one[i]!)), 0) / largest).toBeLessThan(1e-6)
          }
          tf.dispose([a, b, ...results])
        }
      }
    } finally { setNative(true) }
  })

  it('BatchMatMul equals the original kernel for random shapes, transposes and broadcast batches', () => {
    const dims = fc.integer({ min: 1, max: 40 })
    fc.assert(fc.property(dims, dims, dims, fc.boolean(), fc.boolean(), fc.constantFrom([] as number[], [3], [2, 2]), fc.constantFrom('both', 'a', 'b'),
      (m, n, k, tA, tB, batch, broadcast) => {
        const a = tf.randomNormal([...(broadcast === 'b' ? [] : batch), ...(tA ? [k, m] : [m, k])])
        const b = tf.randomNormal([...(broadcast === 'a' ? [] : batch), ...(tB ? [n, k] : [k, n])])
        try { expect(productError(a, b, tA, tB)).toBeLessThan(1e-5) } finally { tf.dispose([a, b]) }
      }), FC)
  })

  it('stays correct when allocating the output grows the wasm memory mid-call', () => {
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm
    const before = heap.HEAPU8.buffer.byteLength
    const side = Math.ceil(Math.sqrt(before / 4)) + 64   // the output alone is larger than the whole heap
    const a = tf.randomNormal([side, 2]), b = tf.randomNormal([2, side])
    const c = tf.matMul(a, b, false, false)
    expect(heap.HEAPU8.buffer.byteLength).toBeGreaterThan(before)
    const rows = [0, side - 1].map((i) => read(tf.tidy(() => tf.slice(c, [i, 0], [1, side]))))
    const [av, bv] = [read(a), read(b)]
    for (const [r, i] of [[0, 0], [1, side - 1]] as const) {
      for (const j of [0, side >> 1, side - 1]) expect(rows[r]![j]).toBeCloseTo(av[2 * i]! * bv[j]! + av[2 * i + 1]! * bv[side + j]!, 4)
    }
    tf.dispose([a, b, c])
  })

  it.each(['softplus', 'exp', 'log', 'sigmoid', 'tanh', 'sqrt'] as const)('%s equals the stock kernel to 1e-6 relative', (op) => {
    const x = op === 'log' || op === 'sqrt' ? tf.linspace(1e-6, 1e4, 4099) : tf.linspace(-85, 85, 4099)   // e^±85 stays finite in float32
    const fast = read(tf[op](x)), slow = withoutNative(() => read(tf[op](x)))
    fast.forEach((v, i) => expect(Math.abs(v - slow[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(slow[i]!) + 1e-37))
    x.dispose()
  })

  it('keeps NaN and ±∞ as the stock kernels do', () => {
    const x = tf.tensor1d([NaN, Infinity, -Infinity, 0])
    for (const op of ['softplus', 'exp', 'sigmoid', 'tanh', 'log', 'sqrt'] as const) expect(read(tf[op](x))).toEqual(withoutNative(() => read(tf[op](x))))
    x.dispose()
  })

  it('the fused Adam follows tf.train.adam over 300 steps', () => {
    const init = [tf.randomNormal([37, 5], 0, 1, 'float32', 1), tf.randomNormal([5], 0, 1, 'float32', 2)]
    const fused = init.map((t) => tf.variable(t)), plain = init.map((t) => tf.variable(t))
    const [o1, o2] = [tf.train.adam(0.01), tf.train.adam(0.01)]
    for (let step = 0; step < 300; step++) {
      const gs = init.map((t, i) => tf.randomNormal(t.shape, 0.1, 1, 'float32', 1000 * step + i))
      tf.tidy(() => {
        expect(applyFiniteGradients(o1, tf.scalar(0), Object.fromEntries(fused.map((v, i) => [v.name, gs[i]!])))).toBe(true)
        o2.applyGradients(plain.map((v, i) => ({ name: v.name, tensor: gs[i]! })))   // tfjs's own Adam kernels
      })
      tf.dispose(gs)
    }
    fused.forEach((v, i) => {
      const [a, b] = [read(v), read(plain[i]!)]
      a.forEach((x, j) => expect(Math.abs(x - b[j]!)).toBeLessThanOrEqual(1e-5 * Math.abs(b[j]!) + 1e-6))
    })
    expect(o1.iterations).toBe(300)
    tf.dispose([...init, ...fused, ...plain]); o1.dispose(); o2.dispose()
  })

  it('the fused Adam applies nothing when any gradient is not finite', () => {
    const [a, b] = [tf.variable(tf.ones([300])), tf.variable(tf.ones([3]))]
    const o = tf.train.adam(0.1)
    const bad = tf.tidy(() => tf.concat([tf.ones([299]), tf.tensor1d([NaN])]))
    expect(applyFiniteGradients(o, tf.scalar(0), { [a.name]: bad, [b.name]: tf.ones([3]) })).toBe(false)
    expect([read(a).every((x) => x === 1), read(b).every((x) => x === 1), o.iterations]).toEqual([true, true, 0])
    expect(applyFiniteGradients(o, tf.scalar(NaN), { [a.name]: tf.ones([300]), [b.name]: tf.ones([3]) })).toBe(false)
    expect(applyFiniteGradients(o, tf.scalar(0), { [a.name]: tf.ones([300]), [b.name]: tf.ones([3]) })).toBe(true)
    expect(read(b)[0]).toBeCloseTo(0.9, 5)
    tf.dispose([a, b, bad]); o.dispose()
  })

  it('refuses offsets outside the heap, in C, with a named RangeError', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const buf = new ArrayBuffer(64)
    expect(() => n.addon.gemm(buf, 1, 4, 4, 4, 0, 0, 0, 0, 0, 0, 16)).toThrow(/gemm: an operand lies outside the wasm heap/)
    expect(() => n.addon.unary(0, buf, 0, 60, 2)).toThrow(/unary: an operand lies outside the wasm heap/)
    expect(() => n.addon.unary(9, buf, 0, 0, 1)).toThrow(/unary: expected/)
    // dense: X 2×2 at 0, W 2×2 at 16, b 2 at 32, Y 2×2 at 48 fits in 64 bytes; Y at 52 does not.
    expect(() => n.addon.dense(buf, 2, 2, 2, 1, 0, 16, 32, 48)).not.toThrow()
    expect(() => n.addon.dense(buf, 2, 2, 2, 1, 0, 16, 32, 52)).toThrow(/dense: an operand lies outside the wasm heap/)
    expect(() => n.addon.dense(buf, 2, 2, 2, 7, 0, 16, 32, 48)).toThrow(/dense: expected/)
    expect(() => n.addon.denseGrad(buf, 1, 2, 2, 2, 1, 0, 16, 32, 52)).toThrow(/denseGrad: an operand lies outside the wasm heap/)
    expect(() => n.addon.denseGrad(buf, 4, 2, 2, 2, 1, 0, 16, 32, 48)).toThrow(/denseGrad: expected/)
    expect(() => n.addon.denseGrad(buf, 3, 2, 2, 2, 1, 0, 16, 0, 48)).not.toThrow()
    expect(() => n.addon.denseGrad(buf, 3, 2, 2, 2, 1, 0, 16, 0, 52)).toThrow(/denseGrad: an operand lies outside the wasm heap/)   // dpre: m×n floats
    expect(() => n.addon.check(0, buf, 0, 16)).not.toThrow()
    expect(() => n.addon.check(0, buf, 4, 16)).toThrow(/check: the operand lies outside the wasm heap/)
    expect(() => n.addon.check(4, buf, 0, 1)).toThrow(/check: expected/)
    expect(() => n.addon.setThreads(0)).toThrow(/setThreads/)
    expect(() => n.addon.setThreads(2, 2)).toThrow(/everyProduct 0 or 1/)
  })
})

describe('native accelerator status', () => {
  it('says why it is inactive, or that it is active', () => {
    const status = backendInfo().nativeStatus
    if (backendInfo().native) expect(status).toMatch(/^active/)
    else expect(status).toMatch(/disabled \(TFPPL_NATIVE=0\)|not built|library missing|wasm backend only|pinned to|failed to load|switched off/)
  })

  it.skipIf(process.env['TFPPL_NATIVE'] !== '0')('TFPPL_NATIVE=0 disables it', () => {
    expect(loadNative()).toEqual({ ok: false, reason: 'disabled (TFPPL_NATIVE=0)' })
  })
})
