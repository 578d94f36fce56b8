import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backendInfo, initBackend } from '../../src/backend/init.js'
import { conv2dTranspose } from '../../src/backend/conv-grad.js'
import { expectClose, read } from '../helpers.js'

/** Filter gradients of conv2d and conv2dTranspose on one backend, for fixed data. */
const filterGrads = (strides: number, pad: 'same' | 'valid', xs: number[][]) => tf.tidy(() => {
  const [xData, wData, zData, vData] = xs as [number[], number[], number[], number[]]
  const x = tf.tensor4d(xData, [2, 7, 6, 3]), w = tf.tensor4d(wData, [3, 2, 3, 4])
  const conv = tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, strides, pad))))(w)
  const outShape: [number, number, number, number] = [2, 8, 8, 3]
  const inner = tf.conv2d(tf.zeros(outShape) as tf.Tensor4D, tf.zeros([3, 3, 3, 5]) as tf.Tensor4D, strides, pad).shape
  const z = tf.tensor4d(zData.slice(0, inner.reduce((a, b) => a * b, 1)), inner as [number, number, number, number])
  const v = tf.tensor4d(vData, [3, 3, 3, 5])
  const convT = tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2dTranspose(z, f as tf.Tensor4D, outShape, strides, pad))))(v)
  return [read(conv), read(convT)]
})

describe('conv filter gradients where the backend lacks Conv2DBackpropFilter', () => {
  let chosen: 'tensorflow' | 'wasm' | 'cpu' = 'wasm'
  beforeAll(() => { chosen = backendInfo().name })
  afterAll(async () => { await initBackend({ backend: chosen }) })

  it.each([[1, 'same'], [2, 'same'], [1, 'valid'], [2, 'valid']] as const)('stride %i, %s padding: wasm (dilated conv) equals cpu (native kernel)', async (strides, pad) => {
    const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5)
    const data = [rand(2 * 7 * 6 * 3, 1), rand(3 * 2 * 3 * 4, 2), rand(2 * 8 * 8 * 5, 3), rand(3 * 3 * 3 * 5, 4)]
    await initBackend({ backend: 'cpu' })
    const reference = filterGrads(strides, pad, data)
    await initBackend({ backend: 'wasm' })
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined()
    const patched = filterGrads(strides, pad, data)
    expectClose(patched[0]!, reference[0]!, 1e-4, 1e-4)
    expectClose(patched[1]!, reference[1]!, 1e-4, 1e-4)
  })
})

/** Input gradient of conv2d, and value + both gradients of tfppl's conv2dTranspose, for fixed data. */
const inputAndTransposed = (strides: number, pad: 'same' | 'valid', xs: number[][]) => tf.tidy(() => {
  const [xData, wData, zData] = xs as [number[], number[], number[]]
  const x = tf.tensor4d(xData, [2, 7, 6, 3]), w = tf.tensor4d(wData, [3, 2, 3, 4])
  const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.conv2d(v as tf.Tensor4D, w, strides, pad))))(x)
  const outShape: [number, number, number, number] = [2, 8, 8, 3]
  const inner = tf.conv2d(tf.zeros(outShape) as tf.Tensor4D, tf.zeros([3, 3, 3, 5]) as tf.Tensor4D, strides, pad).shape
  const z = tf.tensor4d(zData.slice(0, inner.reduce((a, b) => a * b, 1)), inner as [number, number, number, number])
  const v = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.cos(i * 0.7) * 0.4), [3, 3, 3, 5])
  const f = (zz: tf.Tensor, vv: tf.Tensor) => tf.sum(tf.square(conv2dTranspose(zz as tf.Tensor4D, vv as tf.Tensor4D, outShape, strides, pad)))
  const [gz, gv] = tf.grads(f)([z, v])
  return [read(dx), read(conv2dTranspose(z, v, outShape, strides, pad)), read(gz!), read(gv!)]
})

describe('conv input gradients and conv2dTranspose as stride-1 convolutions on wasm', () => {
  let chosen: 'tensorflow' | 'wasm' | 'cpu' = 'wasm'
  beforeAll(() => { chosen = backendInfo().name })
  afterAll(async () => { await initBackend({ backend: chosen }) })

  it.each([[1, 'same'], [2, 'same'], [1, 'valid'], [2, 'valid']] as const)('stride %i, %s padding: wasm equals cpu (tfjs kernels)', async (strides, pad) => {
    const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5)
    const data = [rand(2 * 7 * 6 * 3, 1), rand(3 * 2 * 3 * 4, 2), rand(2 * 8 * 8 * 5, 3)]
    await initBackend({ backend: 'cpu' })
    const reference = inputAndTransposed(strides, pad, data)
    await initBackend({ backend: 'wasm' })
    const patched = inputAndTransposed(strides, pad, data)
    reference.forEach((r, i) => { try { expectClose(patched[i]!, r, 1e-4, 1e-4) } catch (e) { throw new Error(`output ${i}: ${String(e)}`) } })
  })
})
