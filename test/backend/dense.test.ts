/**
 * `dense`: y = act(x·W + b) and its gradients. On every backend against values computed here in
 * JavaScript (float64); with the accelerator, the fused kernels against the composite tfjs ops on
 * random shapes for every activation, forward bit-identical and gradients to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../src/backend/init.js'
import { dense } from '../../src/backend/dense.js'
import type { DenseActivation } from '../../src/backend/dense.js'
import { FC, read } from '../helpers.js'

const info = await initBackend()
const ACTIVATIONS: readonly DenseActivation[] = ['linear', 'softplus', 'relu', 'tanh']

/** act(a) and act′(a) in float64. */
const reference = (act: DenseActivation, a: number): [number, number] => {
  const s = 1 / (1 + Math.exp(-a))
  return act === 'softplus' ? [Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))), s]
    : act === 'relu' ? [Math.max(a, 0), a > 0 ? 1 : 0]
      : act === 'tanh' ? [Math.tanh(a), 1 - Math.tanh(a) ** 2] : [a, 1]
}

type Layer = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, act: DenseActivation) => tf.Tensor

/** The layer as separate tfjs ops (what `dense` does when it does not fuse). */
const composite: Layer = (x, w, b, act) => {
  const a = tf.add(tf.matMul(x, w), b)
  return act === 'softplus' ? tf.softplus(a) : act === 'relu' ? tf.relu(a) : act === 'tanh' ? tf.tanh(a) : a
}

/** y and the gradients of Σ y ⊙ u in x, W, b. */
const run = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, u: tf.Tensor2D, act: DenseActivation, layer: Layer = dense): number[][] => tf.tidy(() => {
  const y = layer(x, w, b, act)
  const g = tf.grads((x2: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => tf.sum(tf.mul(layer(x2, w2, b2, act), u)))([x, w, b])
  return [y, ...g].map(read)
})

describe('dense', () => {
  it.each(ACTIVATIONS)('%s: values and gradients equal the float64 formulas', (act) => {
    const [m, k, n] = [3, 4, 5]
    const xs = Array.from({ length: m * k }, (_, i) => Math.sin(i + 1)), ws = Array.from({ length: k * n }, (_, i) => Math.cos(2 * i) / 2)
    const bs = Array.from({ length: n }, (_, i) => 0.3 * i - 0.6), us = Array.from({ length: m * n }, (_, i) => 1 + (i % 3))
    const [y, dx, dw, db] = run(tf.tensor2d(xs, [m, k]), tf.tensor2d(ws, [k, n]), tf.tensor1d(bs), tf.tensor2d(us, [m, n]), act)
    const pre = (i: number, j: number) => bs[j]! + xs.slice(i * k, i * k + k).reduce((s, v, l) => s + v * ws[l * n + j]!, 0)
    const dpre = (i: number, j: number) => us[i * n + j]! * reference(act, pre(i, j))[1]
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        expect(y![i * n + j]).toBeCloseTo(reference(act, pre(i, j))[0], 5)
        expect(dw![(i % k) * n + j]).toBeCloseTo([...Array(m).keys()].reduce((s, r) => s + xs[r * k + (i % k)]! * dpre(r, j), 0), 4)
      }
      for (let l = 0; l < k; l++) expect(dx![i * k + l]).toBeCloseTo([...Array(n).keys()].reduce((s, j) => s + dpre(i, j) * ws[l * n + j]!, 0), 4)
    }
    for (let j = 0; j < n; j++) expect(db![j]).toBeCloseTo([...Array(m).keys()].reduce((s, r) => s + dpre(r, j), 0), 4)
  })

  it('folds leading (particle, plate) dims into rows: equal to the layer on each slice, values and gradients', () => tf.tidy(() => {
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1), w = tf.randomNormal([4, 5], 0, 1, 'float32', 2), b = tf.randomNormal([5], 0, 1, 'float32', 3)
    const u = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 4)
    const folded = tf.grads((x2: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => tf.sum(tf.mul(dense(x2, w2, b2, 'tanh'), u)))([x, w, b])
    const sliced = tf.grads((x2: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => tf.addN([0, 1].map((i) =>
      tf.sum(tf.mul(composite(tf.squeeze(tf.slice(x2, [i, 0, 0], [1, 3, 4]), [0]), w2, b2, 'tanh'), tf.squeeze(tf.slice(u, [i, 0, 0], [1, 3, 5]), [0]))))))([x, w, b])
    expect(dense(x, w, b, 'tanh').shape).toEqual([2, 3, 5])
    folded.forEach((g, i) => { read(g).forEach((v, j) => expect(v).toBeCloseTo(read(sliced[i]!)[j]!, 4)) })
  }))

  it('leaves no tensors behind, forward or backward', () => {
    const [x, w, b] = [tf.randomNormal([8, 6]), tf.randomNormal([6, 3]), tf.zeros([3])] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D]
    const before = tf.memory().numTensors
    run(x, w, b, tf.tidy(() => tf.onesLike(tf.zeros([8, 3]))) as tf.Tensor2D, 'softplus')
    expect(tf.memory().numTensors).toBe(before + 1)   // only the ones made for u
    tf.dispose([x, w, b])
  })

  describe.skipIf(!info.native)('with the accelerator', () => {
    it('fused kernels equal the composite ops: forward bit-identical, gradients to float32 rounding', () => {
      const dims = fc.integer({ min: 1, max: 70 })
      fc.assert(fc.property(dims, dims, dims, fc.constantFrom(...ACTIVATIONS), (m, k, n, act) => {
        const t = tf.tidy(() => [tf.randomNormal([m, k], 0, 2), tf.randomNormal([k, n]), tf.randomNormal([n]), tf.randomNormal([m, n])]) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D]
        try {
          const fused = run(...t, act), parts = run(...t, act, composite)
          expect(Array.from(fused[0]!)).toEqual(Array.from(parts[0]!))
          for (const [i, g] of fused.slice(1).entries()) {
            const c = parts[i + 1]!, scale = c.reduce((s, v) => Math.max(s, Math.abs(v)), 1e-3)
            g.forEach((v, j) => expect(Math.abs(v - c[j]!) / scale).toBeLessThan(2e-5))
          }
        } finally { tf.dispose(t) }
      }), FC)
    })

    it('launches dpre = dy ⊙ act′ once (non-linear only), then one backward kernel per input that needs a gradient (no dx for data)', async () => {
      const [x, w, b] = [tf.randomNormal([4, 3]), tf.variable(tf.randomNormal([3, 2])), tf.variable(tf.zeros([2]))]
      const launches = async (f: () => tf.Tensor): Promise<number> => (await tf.profile(() => { tf.dispose(f()) })).kernels.filter((k) => k.name === 'TfpplDenseGrad').length
      expect(await launches(() => tf.tidy(() => Object.values(tf.variableGrads(() => tf.sum(dense(x, w, b, 'tanh')) as tf.Scalar).grads)[0]!))).toBe(3)
      expect(await launches(() => tf.tidy(() => Object.values(tf.variableGrads(() => tf.sum(dense(x, w, b, 'linear')) as tf.Scalar).grads)[0]!))).toBe(2)
      expect(await launches(() => tf.tidy(() => tf.grad((x2: tf.Tensor) => tf.sum(dense(x2, w, b, 'tanh')))(x)))).toBe(2)
      tf.dispose([x, w, b])
    })
  })
})
