import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BackendName, backendInfo, initBackend, setNative } from '../../../../src/backend/init.js'
import { swapPays } from '../../../../src/backend/kernels/wasm/batch-mat-mul.js'
import { FC, read, sizeOf } from '../../../helpers.js'

/** op(A)·op(B) in doubles, batch dims broadcast; A is [...ba, r, c] row-major. */
const reference = (a: number[], sa: number[], b: number[], sb: number[], tA: boolean, tB: boolean): number[] => {
  const [ar, ac] = sa.slice(-2) as [number, number], [br, bc] = sb.slice(-2) as [number, number]
  const [m, k, n] = [tA ? ac : ar, tA ? ar : ac, tB ? br : bc]
  const batchA = sizeOf(sa.slice(0, -2)), batchB = sizeOf(sb.slice(0, -2)), batch = Math.max(batchA, batchB)
  const out: number[] = []
  for (let q = 0; q < batch; q++) {
    const oa = (batchA === 1 ? 0 : q) * ar * ac, ob = (batchB === 1 ? 0 : q) * br * bc
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let p = 0; p < k; p++) {
          s += a[oa + (tA ? p * ac + i : i * ac + p)]! * b[ob + (tB ? j * bc + p : p * bc + j)]!
        }
        out.push(s)
      }
    }
  }
  return out
}

const product = fc.record({
  m: fc.integer({ min: 1, max: 33 }), k: fc.integer({ min: 1, max: 33 }), n: fc.integer({ min: 1, max: 33 }),
  batch: fc.constantFrom<[number[], number[]]>([[], []], [[3], [3]], [[1], [2]], [[2], []], [[2, 2], [2, 2]], [[1, 1], [2, 3]]),
  tA: fc.boolean(), tB: fc.boolean(), seed: fc.integer({ min: 0, max: 1000 }),
})

describe('wasm BatchMatMul with transpose flags (transpose, then XNNPACK)', () => {
  let chosen: BackendName = 'wasm'
  beforeAll(async () => { chosen = backendInfo().name; await initBackend({ backend: 'wasm' }) })
  afterAll(async () => { await initBackend({ backend: chosen }) })

  it('equals the double-precision product for every flag, batch and broadcast batch', () => {
    fc.assert(fc.property(product, ({ m, k, n, batch: [ba, bb], tA, tB, seed }) => {
      const sa = [...ba, ...(tA ? [k, m] : [m, k])], sb = [...bb, ...(tB ? [n, k] : [k, n])]
      const a = Array.from({ length: sizeOf(sa) }, (_, i) => Math.sin(seed + i * 1.7))
      const b = Array.from({ length: sizeOf(sb) }, (_, i) => Math.cos(seed + i * 0.3))
      const dataBefore = tf.engine().backend.numDataIds()
      const got = tf.tidy(() => read(tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), tA, tB)))
      expect(tf.engine().backend.numDataIds()).toBe(dataBefore) // the transposed copies were freed
      const want = reference(a, sa, b, sb, tA, tB)
      expect(got.length).toBe(want.length)
      got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(1e-5 * k + 1e-5 * Math.abs(want[i]!)))
    }), FC)
  })

  it('runs a product whose right operand is much larger transposed, packing the smaller, with the same bits', () => {
    // The cost model: the VAE's big products swap, the small-left or already-small-right ones do not.
    expect([swapPays(128, 784, 400, false, false), swapPays(128, 784, 400, false, true), swapPays(784, 128, 400, true, false),
      swapPays(400, 128, 784, true, false), swapPays(128, 400, 50, false, true), swapPays(4, 4, 4, false, false)]).toEqual([true, true, false, false, false, false])
    const native = backendInfo().native
    setNative(false)   // the stock kernel (the accelerator's own product replaces it otherwise)
    try {
      for (const [m, k, n, tA, tB] of [[9, 40, 70, false, false], [9, 40, 70, false, true], [3, 5, 60, true, true]] as const) {
        expect(swapPays(m, k, n, tA, tB)).toBe(true)
        const a = tf.randomNormal(tA ? [k, m] : [m, k], 0, 1, 'float32', m), b = tf.randomNormal(tB ? [n, k] : [k, n], 0, 1, 'float32', n)
        const dataBefore = tf.engine().backend.numDataIds()
        const first = tf.tidy(() => read(tf.matMul(a, b, tA, tB)))     // swapped
        const again = tf.tidy(() => read(tf.matMul(a, b, tA, tB)))     // b seen before: plain when untransposed (XNNPACK's cache)
        const plain = tf.tidy(() => read(tf.matMul(tA ? tf.transpose(a) : a, tB ? tf.transpose(b) : b)))
        expect(tf.engine().backend.numDataIds()).toBe(dataBefore)
        expect([first.every((x, i) => Object.is(x, plain[i])), again.every((x, i) => Object.is(x, plain[i]))]).toEqual([true, true])
        const want = reference(Array.from(a.dataSync()), a.shape, Array.from(b.dataSync()), b.shape, tA, tB)
        first.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(1e-5 * k + 1e-5 * Math.abs(want[i]!)))
        tf.dispose([a, b])
      }
    } finally {
      setNative(native)
    }
  })

  it('gives the same gradients of a dense layer as the cpu backend', async () => {
    const run = () => tf.tidy(() => {
      const x = tf.tensor(Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i)), [6, 5])
      const w = tf.tensor(Array.from({ length: 5 * 4 }, (_, i) => Math.cos(i)), [5, 4])
      const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.matMul(xx, ww))))([x, w])
      return [read(gx!), read(gw!)]
    })
    const fast = run()
    await initBackend({ backend: 'cpu' })
    const slow = run()
    await initBackend({ backend: 'wasm' })
    fast.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(slow[i]![j]!, 4)))
  })
})
