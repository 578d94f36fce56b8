/**
 * `applyFiniteGradients` refuses a step whose update writes NaN or ±∞ into a parameter (an overflowing
 * learning rate, a parameter near the float32 maximum), not only one whose loss or gradients are
 * non-finite: the variables, the optimizer's moment / accumulator variables, its slot arrays and its
 * iteration count are left exactly (bit for bit) as they were, and a finite step then applies. On every
 * path: tfjs's own `applyGradients` (cpu, and any optimizer but Adam on wasm) and the fused `TfpplAdam`
 * kernels on wasm, with the accelerator (`TfpplAdamAll`, C) and without it (WebAssembly SIMD body, JavaScript tail).
 * A gradient naming no variable is one named error on every path.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { initBackend, setNative } from '../../src/backend/init.js'
import { applyFiniteGradients, applyGradientsAsync } from '../../src/backend/fused-adam.js'

const info = await initBackend()
const nativeOn = info.native
type Mode = 'as initialised' | 'accelerator off'
const MODES: Mode[] = nativeOn ? ['as initialised', 'accelerator off'] : ['as initialised']
const inMode = <T>(mode: Mode, f: () => T): T => {
  if (mode === 'as initialised') return f()
  setNative(false)
  try { return f() } finally { setNative(true) }
}

/** One step of `o` on `vars` with gradients `gs` (a loss of `loss`): whether it was applied. */
const apply = (o: tf.Optimizer, vars: tf.Variable[], gs: number[][], loss = 0): boolean =>
  tf.tidy(() => applyFiniteGradients(o, tf.scalar(loss), Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor1d(gs[i]!)]))))

interface Slot { readonly variable: tf.Variable }
/** Everything a step may change, read now: each variable, then every optimizer variable and slot (own fields), and `iterations`. */
const stateOf = (o: tf.Optimizer, vars: tf.Variable[]): unknown[] => {
  const own = Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).flatMap(([k, v]): unknown[] =>
    v instanceof tf.Variable ? [k, Array.from(v.dataSync())]
      : Array.isArray(v) ? [k, v.length, ...v.map((s: Slot | undefined) => (s === undefined ? 'none' : Array.from(s.variable.dataSync())))]
        : [])
  return [...vars.map((v) => Array.from(v.dataSync())), ...own, o.iterations]
}
/** Bit patterns, so that −0 vs 0 and NaN payloads count as differences. */
const bits = (state: unknown[]): string => JSON.stringify(state, (_, v: unknown) =>
  typeof v === 'number' ? `${v}:${new Uint32Array(new Float32Array([v]).buffer)[0]}` : v)

const MAX = 3.4028234663852886e38

/** [name, optimizer, gradients of a warm-up step that changes the state and applies, gradients whose update overflows]. */
const CASES: ReadonlyArray<readonly [string, () => tf.Optimizer, number[][], number[][]]> = [
  // x − 1e38 · 10 = −∞.
  ['sgd(1e38), gradient 10', () => tf.train.sgd(1e38), [[1e-38, 0], [0]], [[10, 10], [1]]],
  // Momentum's accumulator is updated in place by tfjs before the variable: it must be restored too.
  ['momentum(1e38, 0.9)', () => tf.train.momentum(1e38, 0.9), [[1e-37, 0], [0]], [[10, 1], [0]]],
  // A parameter near the float32 maximum: Adam's first real step is ≈ lr; 3e38 + 1e38 · 0.74 = +∞.
  ['adam(1e38), a parameter at 3e38', () => tf.train.adam(1e38), [[0, 0], [0]], [[-1, 1], [0]]],
  ['rmsprop(1e38)', () => tf.train.rmsprop(1e38), [[0, 0], [0]], [[-1, 1], [0]]],
]
const start = (): tf.Variable[] => [tf.variable(tf.tensor1d([3e38, 1])), tf.variable(tf.tensor1d([2]))]

describe('applyFiniteGradients: an update that overflows a parameter is not applied', () => {
  describe.each(MODES)('%s', (mode) => {
    it.each(CASES)('%s: refused; variables, optimizer state and iterations unchanged bit for bit; a finite step then applies', (_, make, warm, bad) => inMode(mode, () => {
      const vars = start(), o = make()
      expect(apply(o, vars, warm)).toBe(true)
      expect(vars[0]!.dataSync()[0]).toBeLessThan(MAX)
      const before = bits(stateOf(o, vars))
      const tensors = tf.memory().numTensors
      expect(apply(o, vars, bad)).toBe(false)
      expect(bits(stateOf(o, vars))).toBe(before)
      expect(tf.memory().numTensors).toBe(tensors)
      expect(apply(o, vars, [[0, 1e-30], [1e-30]])).toBe(true)
      expect(o.iterations).toBe(2)
      expect(vars.every((v) => Array.from(v.dataSync()).every(Number.isFinite))).toBe(true)
      tf.dispose(vars); o.dispose()
    }))

    it.each(CASES)('%s: a refused first step creates no optimizer state', (_, make, __, bad) => inMode(mode, () => {
      const vars = start(), o = make()
      const before = bits(stateOf(o, vars))
      const tensors = tf.memory().numTensors
      expect(apply(o, vars, bad)).toBe(false)
      expect(bits(stateOf(o, vars))).toBe(before)
      expect(tf.memory().numTensors).toBe(tensors)
      tf.dispose(vars); o.dispose()
    }))

    it('a NaN or ±∞ gradient or loss is still refused on every optimizer, leaving everything as it was', () => inMode(mode, () => {
      for (const [name, make, warm] of CASES) {
        const vars = start(), o = make()
        expect(apply(o, vars, warm)).toBe(true)
        const before = bits(stateOf(o, vars))
        for (const g of [NaN, Infinity, -Infinity]) {
          expect(apply(o, vars, [[0, g], [0]]), `${name}, g ${g}`).toBe(false)
          expect(apply(o, vars, warm, g), `${name}, loss ${g}`).toBe(false)
        }
        expect(bits(stateOf(o, vars)), name).toBe(before)
        tf.dispose(vars); o.dispose()
      }
    }))

    it('large variables: an overflow in one element of the vectorised body or of the tail is caught', () => inMode(mode, () => {
      for (const n of [1031, 8, 3]) {
        for (const at of [0, n >> 1, n - 1]) {
          const x0 = Array.from({ length: n }, (_, i) => (i === at ? 3e38 : i / n))
          const vars = [tf.variable(tf.tensor1d(x0))], o = tf.train.adam(1e38)
          expect(apply(o, vars, [Array(n).fill(0)])).toBe(true)
          const before = bits(stateOf(o, vars))
          expect(apply(o, vars, [x0.map((_, i) => (i === at ? -1 : 0))]), `n ${n}, at ${at}`).toBe(false)
          expect(bits(stateOf(o, vars))).toBe(before)
          tf.dispose(vars); o.dispose()
        }
      }
    }))
  })
})

describe('gradients are mapped to variables by name, the same way on every path', () => {
  it('a gradient that names no variable is a BackendError naming it, from applyFiniteGradients and applyGradientsAsync alike, changing nothing', async () => {
    const x = tf.variable(tf.ones([2])), o = tf.train.adam(0.1)
    const grads = (): tf.NamedTensorMap => ({ [x.name]: tf.ones([2]), 'no such variable': tf.ones([2]) })
    expect(() => tf.tidy(() => applyFiniteGradients(o, tf.scalar(0), grads()))).toThrow(/the gradient 'no such variable' names no registered variable/)
    const g = grads()
    await expect(applyGradientsAsync(o, g)).rejects.toThrow(/the gradient 'no such variable' names no registered variable/)
    tf.dispose(Object.values(g))
    expect([Array.from(x.dataSync()), o.iterations]).toEqual([[1, 1], 0])
    x.dispose(); o.dispose()
  })
})
