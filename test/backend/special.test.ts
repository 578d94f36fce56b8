/**
 * The special functions against float64 references computed in the tests (special-reference.ts):
 * log Γ, ψ and its derivatives by the recurrence up to x ≥ 20 and the Bernoulli (Stirling) series there.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { digamma, lbeta, lgamma, polygamma, trigamma } from '../../src/backend/special.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { expectNoLeak, read, t } from '../helpers.js'
import { logGammaDerivative64 } from './special-reference.js'

/** |a − b| ≤ atol + rtol |b| elementwise; returns the worst excess ratio |a − b| / (atol + rtol |b|). */
const worst = (a: readonly number[], b: readonly number[], rtol: number, atol: number): { ratio: number; at: number } =>
  a.reduce((w, v, i) => {
    const r = Math.abs(v - b[i]!) / (atol + rtol * Math.abs(b[i]!))
    return r > w.ratio || Number.isNaN(r) ? { ratio: r, at: i } : w
  }, { ratio: 0, at: -1 })

/** 600 points log-uniform on [1e-3, 1e4], plus the integers and half-integers to 20. */
const GRID = [
  ...Array.from({ length: 600 }, (_, i) => 10 ** (-3 + (7 * i) / 599)),
  ...Array.from({ length: 40 }, (_, i) => 0.5 + i / 2),
]

/** Asserts f(xs) against the float64 d-th derivative of log Γ: |a − b| ≤ atol + rtol |b|. */
const check = (f: (x: tf.Tensor) => tf.Tensor, ref: (x: number) => number, xs: readonly number[], rtol: number, atol: number): void => tf.tidy(() => {
  const got = read(f(t(xs, [xs.length])))
  const want = xs.map(ref)
  const w = worst(got, want, rtol, atol)
  if (w.ratio > 1) expect.fail(`x = ${xs[w.at]}: got ${got[w.at]}, expected ${want[w.at]} (rtol ${rtol}, atol ${atol})`)
})

const away = (zeros: readonly number[]) => GRID.filter((x) => zeros.every((z) => Math.abs(x - z) > 0.05))
const near = (zeros: readonly number[]) => zeros.flatMap((z) => Array.from({ length: 41 }, (_, i) => z + (i - 20) * 2.5e-3))
const PSI_ZERO = 1.4616321449683622
const ZETA3 = 1.2020569031595942

describe('special functions', () => {
  it('lgamma: 1e-5 relative on [1e-3, 1e4]; 1e-6 absolute around its zeros 1 and 2', () => {
    check(lgamma, (x) => logGammaDerivative64(0, x), away([1, 2]), 1e-5, 0)
    check(lgamma, (x) => logGammaDerivative64(0, x), near([1, 2]), 0, 1e-6)
  })

  it('digamma: 1e-5 relative on [1e-3, 1e4]; 1e-6 absolute around its zero 1.4616', () => {
    check(digamma, (x) => logGammaDerivative64(1, x), away([PSI_ZERO]), 1e-5, 0)
    check(digamma, (x) => logGammaDerivative64(1, x), near([PSI_ZERO]), 0, 1e-6)
  })

  it('trigamma and polygamma(2): 1e-5 relative on [1e-3, 1e4]', () => {
    check(trigamma, (x) => logGammaDerivative64(2, x), GRID, 1e-5, 0)
    check((x) => polygamma(2, x), (x) => logGammaDerivative64(3, x), GRID, 1e-5, 0)
    check((x) => polygamma(0, x), (x) => logGammaDerivative64(1, x), away([PSI_ZERO]), 1e-5, 0)
  })

  it('known values: log Γ(½) = log √π, ψ(1) = −γ, ψ′(1) = π²/6, ψ″(1) = −2ζ(3), log Γ(0) = ∞', () => tf.tidy(() => {
    const lg = read(lgamma(t([0.5, 1, 2, 0], [4])))
    expect(lg[0]).toBeCloseTo(0.5 * Math.log(Math.PI), 6)
    expect(lg.slice(1)).toEqual([0, 0, Infinity])
    expect(read(digamma(tf.scalar(1)))[0]).toBeCloseTo(-0.5772156649015329, 6)
    expect(read(trigamma(tf.scalar(1)))[0]).toBeCloseTo(Math.PI ** 2 / 6, 6)
    expect(read(polygamma(2, tf.scalar(1)))[0]).toBeCloseTo(-2 * ZETA3, 5)
  }))

  it('negative arguments by reflection: log |Γ|, ψ and ψ′ at −0.5, −1.5, −2.7 (1e-4 relative)', () => {
    // Γ(x)Γ(1 − x) = π / sin πx, in doubles, with the positive-side reference
    const refl = (d: number) => (x: number): number => {
      const s = Math.sin(Math.PI * x), c = Math.cos(Math.PI * x)
      const r = [Math.log(Math.PI / Math.abs(s)), (-Math.PI * c) / s, Math.PI ** 2 / s ** 2][d]!
      return r + (d % 2 === 0 ? -1 : 1) * logGammaDerivative64(d, 1 - x)
    }
    const xs = [-0.5, -1.5, -2.7]
    check(lgamma, refl(0), xs, 1e-4, 0)
    check(digamma, refl(1), xs, 1e-4, 0)
    check(trigamma, refl(2), xs, 1e-4, 0)
  })

  it('gradients are the next function of the family, to every order', () => tf.tidy(() => {
    const x = t([1e-3, 0.3, 1, 1.4616, 2.5, 7, 300], [7])
    expect(read(tf.grad(lgamma)(x))).toEqual(read(digamma(x)))
    expect(read(tf.grad(digamma)(x))).toEqual(read(trigamma(x)))
    expect(read(tf.grad(trigamma)(x))).toEqual(read(polygamma(2, x)))
    expect(read(tf.grad((y: tf.Tensor) => tf.grad(lgamma)(y))(x))).toEqual(read(trigamma(x)))
    expect(read(tf.grad((y: tf.Tensor) => tf.sum(tf.mul(3, lgamma(y))))(x))).toEqual(read(tf.mul(3, digamma(x))))
  }))

  it('lbeta: 1e-5 relative (1e-6 absolute near its zeros) over [1e-3, 1e4]², with broadcasting', () => tf.tidy(() => {
    const pts = Array.from({ length: 36 }, (_, i) => 10 ** (-3 + (7 * i) / 35))
    const a = pts.flatMap((x) => pts.map(() => x))
    const b = pts.flatMap(() => pts)
    const got = read(lbeta(t(a, [a.length]), t(b, [b.length])))
    const lg = (x: number) => logGammaDerivative64(0, x)
    const want = a.map((x, i) => lg(x) + lg(b[i]!) - lg(x + b[i]!))
    const w = worst(got, want, 1e-5, 1e-6)
    if (w.ratio > 1) expect.fail(`lbeta(${a[w.at]}, ${b[w.at]}) = ${got[w.at]}, expected ${want[w.at]}`)
    expect(lbeta(t([1, 2, 3], [3, 1]), t([2, 3], [2])).shape).toEqual([3, 2])
    expect(read(lbeta(tf.scalar(2), tf.scalar(3)))[0]).toBeCloseTo(-Math.log(12), 6)
  }))

  it('lbeta gradients are ψ(a) − ψ(a + b) and ψ(b) − ψ(a + b), summed over broadcast dims', () => tf.tidy(() => {
    const a = t([0.5, 3, 40], [3, 1]), b = t([0.2, 7], [2])
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(lbeta(x, y)))([a, b])
    const s = digamma(tf.add(a, b))
    expect(ga!.shape).toEqual([3, 1])
    expect(gb!.shape).toEqual([2])
    const close = (x: tf.Tensor, y: tf.Tensor) => read(x).forEach((v, i) => expect(v).toBeCloseTo(read(y)[i]!, 5))
    close(ga!, tf.sum(tf.sub(digamma(a), s), 1, true))
    close(gb!, tf.sum(tf.sub(digamma(b), s), 0))
  }))

  it('rejects a polygamma order outside 0 … 8 with a named error; casts int tensors', () => {
    expect(() => polygamma(-1, tf.scalar(1))).toThrow(InvalidArgumentError)
    expect(() => polygamma(1.5, tf.scalar(1))).toThrow(/polygamma: order n must be an integer in \[0, 8\]; got 1.5/)
    tf.tidy(() => { expect(read(lgamma(tf.tensor1d([3], 'int32')))[0]).toBeCloseTo(Math.log(2), 6) })
  })

  it('leaves numTensors unchanged (values, gradients, lbeta)', () => {
    const x = t([0.5, 2, 9], [3])
    expectNoLeak(() => [lgamma(x), digamma(x), trigamma(x), polygamma(3, x), lbeta(x, x)])
    expectNoLeak(() => [tf.grad(lgamma)(x), tf.grad(trigamma)(x), tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(lbeta(a, b)))([x, x])])
    x.dispose()
  })
})
