import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { clampProbs, log1mexp, log1p, logAddExp, logSigmoid, logSumExp, probsToLogits, reshapeTo, softplus, FLOAT32_EPS } from '../../src/backend/numerics.js'
import { FC, expectClose, expectNoLeak, logSumExp64, read, softplus64, t } from '../helpers.js'

const finite = fc.double({ min: -80, max: 80, noNaN: true })

describe('numerics', () => {
  it('softplus and logSigmoid match float64 for |x| ≤ 80 and stay exact at ±1000', () => {
    fc.assert(fc.property(fc.array(finite, { minLength: 1, maxLength: 20 }), (xs) => tf.tidy(() => {
      const x = t(xs, [xs.length]), x64 = read(x)
      expectClose(read(softplus(x)), x64.map(softplus64), 1e-5, 1e-7)
      expectClose(read(logSigmoid(x)), x64.map((v) => -softplus64(-v)), 1e-5, 1e-7)
    })), FC)
    tf.tidy(() => { expect(read(softplus(t([1000, -1000], [2])))).toEqual([1000, 0]) })
  })

  it('log1p is accurate for tiny arguments on every backend', () => tf.tidy(() => {
    const xs = [1e-10, -1e-9, 3e-8, 0.5, -0.5, 10]
    const x64 = read(t(xs, [xs.length]))
    expectClose(read(log1p(t(xs, [xs.length]))), x64.map(Math.log1p), 1e-6, 0)
  }))

  it('logSumExp is exact where the naive form overflows', () => tf.tidy(() => {
    expectClose(read(logSumExp(t([1000, 1000, 999], [3]))), [logSumExp64([1000, 1000, 999])], 1e-6)
    expectClose(read(logSumExp(t([-1000, -1000], [1, 2]), -1)), [-1000 + Math.LN2], 1e-6)
  }))

  it('logAddExp matches float64', () => {
    fc.assert(fc.property(finite, finite, (a, b) => tf.tidy(() => {
      const [a32, b32] = [Math.fround(a), Math.fround(b)]
      expectClose(read(logAddExp(tf.scalar(a32), tf.scalar(b32))), [logSumExp64([a32, b32])], 1e-5, 1e-6)
    })), FC)
  })

  it('log1mexp is accurate near 0 and far from it, with finite gradients', () => tf.tidy(() => {
    const xs = [-1e-6, -0.1, -0.6931, -0.7, -5, -50]
    const x64 = read(t(xs, [xs.length]))
    expectClose(read(log1mexp(t(xs, [xs.length]))), x64.map((v) => Math.log(-Math.expm1(v))), 1e-4)
    read(tf.grad((x: tf.Tensor) => tf.sum(log1mexp(x)))(t(xs, [xs.length]))).forEach((g) => expect(Number.isFinite(g)).toBe(true))
  }))

  it('clampProbs keeps logs finite; probsToLogits inverts sigmoid', () => tf.tidy(() => {
    const c = read(clampProbs(t([0, 0.5, 1], [3])))
    expect(c[0]).toBeCloseTo(FLOAT32_EPS, 12)
    expect(c[2]).toBeLessThan(1)
    expectClose(read(probsToLogits(t([0.1, 0.5, 0.9], [3]))), [Math.log(1 / 9), 0, Math.log(9)], 1e-5, 1e-6)
  }))

  it('reshapeTo is x itself at its own shape (no launch), else the reshape', async () => {
    const x = tf.ones([2, 3, 4])
    const same = await tf.profile(() => { expect(reshapeTo(x, [2, 3, 4])).toBe(x); expect(reshapeTo(x, [-1, 3, 4])).toBe(x); return [] })
    expect(same.kernels).toEqual([])
    tf.tidy(() => {
      const y = reshapeTo(x, [-1, 4])
      expect(y).not.toBe(x)
      expect(y.shape).toEqual([6, 4])
      expect(() => reshapeTo(x, [5, 5])).toThrow()
      // The gradient flows through either way.
      expect(read(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(reshapeTo(a, [2, 3, 4]), 2)))(x))).toEqual(new Array<number>(24).fill(2))
    })
    x.dispose()
  })

  it('helpers leak nothing', () => {
    const x = t([-3, -0.1, 2], [3]), negative = t([-3, -0.1, -2], [3])
    expectNoLeak(() => [softplus(x), logSigmoid(x), logSumExp(x), log1mexp(negative), logAddExp(x, negative)])
    tf.dispose([x, negative])
  })
})
