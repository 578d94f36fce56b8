import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BackendName, backendInfo, initBackend } from '../../src/backend/init.js'
import { conv2dTranspose } from '../../src/backend/conv-grad.js'
import { expectClose, read } from '../helpers.js'

type Pad = 'same' | 'valid'
const CASES = [[1, 'same'], [2, 'same'], [1, 'valid'], [2, 'valid']] as const
const OUT_SHAPE: [number, number, number, number] = [2, 8, 8, 3]

/** Fixed pseudo-random data: x [2, 7, 6, 3], a conv filter [3, 2, 3, 4], z, and a transposed-conv filter [3, 3, 3, 5]. */
const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5)
const DATA = [rand(2 * 7 * 6 * 3, 1), rand(3 * 2 * 3 * 4, 2), rand(2 * 8 * 8 * 5, 3), rand(3 * 3 * 3 * 5, 4)] as const

/** The conv input x, its filter w, and the input z of a conv2dTranspose to OUT_SHAPE (sized by stride and padding). */
const inputs = (strides: number, pad: Pad) => {
  const x = tf.tensor4d(DATA[0], [2, 7, 6, 3]), w = tf.tensor4d(DATA[1], [3, 2, 3, 4])
  const inner = tf.conv2d(tf.zeros(OUT_SHAPE) as tf.Tensor4D, tf.zeros([3, 3, 3, 5]) as tf.Tensor4D, strides, pad).shape
  const z = tf.tensor4d(DATA[2].slice(0, inner.reduce((a, b) => a * b, 1)), inner as [number, number, number, number])
  return { x, w, z }
}

/** Filter gradients of conv2d and of tfjs's conv2dTranspose. */
const filterGrads = (strides: number, pad: Pad) => tf.tidy(() => {
  const { x, w, z } = inputs(strides, pad)
  const v = tf.tensor4d(DATA[3], [3, 3, 3, 5])
  const conv = tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, strides, pad))))(w)
  const convT = tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2dTranspose(z, f as tf.Tensor4D, OUT_SHAPE, strides, pad))))(v)
  return [read(conv), read(convT)]
})

/** Input gradient of conv2d, and value + both gradients of tfppl's conv2dTranspose. */
const inputAndTransposed = (strides: number, pad: Pad) => tf.tidy(() => {
  const { x, w, z } = inputs(strides, pad)
  const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.conv2d(v as tf.Tensor4D, w, strides, pad))))(x)
  const v = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.cos(i * 0.7) * 0.4), [3, 3, 3, 5])
  const f = (zz: tf.Tensor, vv: tf.Tensor) => tf.sum(tf.square(conv2dTranspose(zz as tf.Tensor4D, vv as tf.Tensor4D, OUT_SHAPE, strides, pad)))
  const [gz, gv] = tf.grads(f)([z, v])
  return [read(dx), read(conv2dTranspose(z, v, OUT_SHAPE, strides, pad)), read(gz!), read(gv!)]
})

/** Runs `f` on cpu (tfjs's own kernels) and on wasm (tfppl's rewrites) and compares every output. */
const expectWasmEqualsCpu = async (f: () => number[][], onWasm: () => void = () => undefined): Promise<void> => {
  await initBackend({ backend: 'cpu' })
  const reference = f()
  await initBackend({ backend: 'wasm' })
  onWasm()
  const patched = f()
  reference.forEach((r, i) => { try { expectClose(patched[i]!, r, 1e-4, 1e-4) } catch (e) { throw new Error(`output ${i}: ${String(e)}`) } })
}

describe('conv gradients and conv2dTranspose rewritten as convolutions on wasm', () => {
  let chosen: BackendName = 'wasm'
  beforeAll(() => { chosen = backendInfo().name })
  afterAll(async () => { await initBackend({ backend: chosen }) })

  it.each(CASES)('filter gradients, stride %i, %s padding: wasm (dilated conv) equals cpu (native kernel)', async (strides, pad) => {
    await expectWasmEqualsCpu(() => filterGrads(strides, pad), () => { expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined() })
  })

  it.each(CASES)('input gradient and conv2dTranspose, stride %i, %s padding: wasm equals cpu (tfjs kernels)', async (strides, pad) => {
    await expectWasmEqualsCpu(() => inputAndTransposed(strides, pad))
  })
})
