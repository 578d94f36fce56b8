import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { affine, chain, exp, identity, sigmoid, softplus } from '../../src/distributions/bijectors.js'
import type { Bijector } from '../../src/distributions/bijectors.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, expectNoLeak, read, softplus64, t } from '../helpers.js'

/** Each bijector beside a float64 reference of its forward map and the range of x to test on. */
const cases: ReadonlyArray<{ name: string; make: () => Bijector; f64: (x: number) => number; lo: number; hi: number }> = [
  { name: 'identity', make: identity, f64: (x) => x, lo: -100, hi: 100 },
  { name: 'exp', make: exp, f64: Math.exp, lo: -20, hi: 20 },
  { name: 'softplus', make: softplus, f64: softplus64, lo: -20, hi: 40 },
  { name: 'chain(softplus, affine(0, 3))', make: () => chain(softplus(), affine(0, 3)), f64: (x) => 3 * softplus64(x), lo: -10, hi: 10 },
  { name: 'affine(1.5, -0.3)', make: () => affine(1.5, -0.3), f64: (x) => 1.5 - 0.3 * x, lo: -100, hi: 100 },
  { name: 'affine(-2, 40)', make: () => affine(-2, 40), f64: (x) => -2 + 40 * x, lo: -100, hi: 100 },
  { name: 'sigmoid', make: sigmoid, f64: (x) => 1 / (1 + Math.exp(-x)), lo: -15, hi: 15 },
  { name: 'chain(affine(0, 0.5), exp)', make: () => chain(affine(0, 0.5), exp()), f64: (x) => Math.exp(0.5 * x), lo: -30, hi: 30 },
  { name: 'chain(exp, affine(1, -2), sigmoid)', make: () => chain(exp(), affine(1, -2), sigmoid()), f64: (x) => 1 / (1 + Math.exp(-(1 - 2 * Math.exp(x)))), lo: -5, hi: 1.5 },
]

const xs = (lo: number, hi: number) => fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: 1, maxLength: 6 })

describe('bijectors', () => {
  for (const c of cases) {
    describe(c.name, () => {
      it('forward matches the float64 map and inverse(forward(x)) ≈ x', () => {
        const b = c.make()
        fc.assert(fc.property(xs(c.lo, c.hi), (v) => tf.tidy(() => {
          const x = t(v, [v.length])
          const y = b.forward(x)
          expectClose(read(y), read(x).map(c.f64), 1e-5, 1e-6)
          // the inverse is accurate to float32 rounding of y, amplified by 1/|f'(x)|
          const slope = read(b.forwardLogDetJacobian(x)).map((l) => Math.exp(-l))
          const back = read(b.inverse(y)), want = read(x), ys = read(y)
          back.forEach((u, i) => expect(Math.abs(u - want[i]!)).toBeLessThanOrEqual(1e-5 * Math.abs(want[i]!) + 4e-7 * (Math.abs(ys[i]!) + 1) * slope[i]! + 1e-6))
        })), FC)
      })

      it('log |dy/dx| equals log |finite-difference derivative| of the float64 map', () => {
        const b = c.make()
        fc.assert(fc.property(xs(c.lo, c.hi), (v) => tf.tidy(() => {
          const x = t(v, [v.length])
          const want = read(x).map((u) => Math.log(Math.abs(centralDiff(c.f64, u, 1e-5 * Math.max(1, Math.abs(u))))))
          expectClose(read(b.forwardLogDetJacobian(x)), want, 1e-4, 1e-4)
        })), FC)
      })

      it('log |dy/dx| equals log |tf.grad(forward)| and has the shape of y', () => tf.tidy(() => {
        const b = c.make()
        const x = t([c.lo / 2, 0.1, c.hi / 2], [3])
        const g = tf.grad((u: tf.Tensor) => tf.sum(b.forward(u)))(x)
        const ld = b.forwardLogDetJacobian(x)
        expect(ld.shape).toEqual(b.forward(x).shape)
        expectClose(read(ld), read(g).map((d) => Math.log(Math.abs(d))), 1e-4, 1e-4)
      }))

      it('forward maps the domain into the codomain', () => tf.tidy(() => {
        const b = c.make()
        const x = t([c.lo, -1, 0, 1, c.hi], [5])
        expect(read(b.domain.check(x)).every((v) => v === 1)).toBe(true)
        expect(read(b.codomain.check(b.forward(x))).every((v) => v === 1)).toBe(true)
      }))

      it('forward, inverse and forwardLogDetJacobian leave numTensors unchanged', () => {
        const b = c.make()
        const x = t([0.3, -0.2], [2])
        const y = b.forward(x)
        expectNoLeak(() => b.forward(x))
        expectNoLeak(() => b.inverse(y))
        expectNoLeak(() => b.forwardLogDetJacobian(x))
        tf.dispose([x, y])
      })
    })
  }

  it('exp log-det is exact at extremes (no overflow in log |dy/dx| = x)', () => tf.tidy(() => {
    expectClose(read(exp().forwardLogDetJacobian(t([-200, 200], [2]))), [-200, 200], 1e-6)
  }))

  it('sigmoid log-det is finite (and ≈ −|x|) at ±80, where σ′(x) underflows float32', () => tf.tidy(() => {
    const ld = read(sigmoid().forwardLogDetJacobian(t([-80, 80], [2])))
    expectClose(ld, [-80, -80], 1e-5)
    const g = read(tf.grad((u: tf.Tensor) => tf.sum(sigmoid().forwardLogDetJacobian(u)))(t([-80, 80], [2])))
    g.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    read(sigmoid().inverse(t([0, 1], [2]))).forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  it('softplus inverse is accurate from y = 1e-30 (x ≈ log y) to y = 1e4 (x ≈ y), and its log-det is finite at ±100', () => tf.tidy(() => {
    const ys = [1e-30, 1e-9, 1e-3, 1, 1e4]
    const want = ys.map((y) => y + Math.log(-Math.expm1(-y)))
    expectClose(read(softplus().inverse(t(ys, [5]))), want, 1e-5, 1e-5)
    expectClose(read(softplus().forwardLogDetJacobian(t([-100, 100], [2]))), [-100, 0], 1e-5, 1e-6)
  }))

  it('affine broadcasts its parameters and the log-det to the shape of y', () => tf.tidy(() => {
    const b = affine(t([0, 1, 2], [3]), t([1, -2, 0.5], [3]))
    const ld = b.forwardLogDetJacobian(tf.zeros([4, 3]))
    expect(ld.shape).toEqual([4, 3])
    expectClose(read(ld).slice(0, 3), [0, Math.log(2), Math.log(0.5)], 1e-6)
  }))

  it('affine constructs without leaking beyond its parameters', () => {
    const loc = t([0, 1], [2]), scale = t([2, 3], [2])
    expectNoLeak(() => { affine(loc, scale); return [] })
    tf.dispose([loc, scale])
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => affine(0, 0)).toThrow(InvalidArgumentError)
    expect(() => affine(0, [1, 0])).toThrow(/affine: argument 'scale' must satisfy x ≠ 0 \(finite\); got 0 at index \[1\]/)
    expect(() => affine(NaN, 1)).toThrow(/affine: argument 'loc' must satisfy finite real; got NaN/)
    // More than 64 elements: the vectorised check (the accelerator's, where active) must test ≠ 0, not finiteness only.
    const big = tf.ones([200]).concat(tf.zeros([1]))
    expect(() => affine(0, big)).toThrow(/affine: argument 'scale' must satisfy x ≠ 0 \(finite\)/)
    big.dispose()
    expect(() => chain()).toThrow(/chain: expected at least one bijector; got none/)
  })
})
