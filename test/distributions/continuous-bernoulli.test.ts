import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { continuousBernoulli } from '../../src/distributions/continuous-bernoulli.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, expectMomentsMatch, read, simpson, sizeOf, softplus64, t } from '../helpers.js'
import { expectIntegratesToOne, logitsOrProbsParams, noLeakLaw, shapeLaws } from './laws.js'

const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x))

/**
 * Loaiza-Ganem & Cunningham's form, in λ = σ(l) rather than in logits:
 * p(x) = C(λ) λ^x (1 − λ)^(1−x), C(λ) = 2 artanh(1 − 2λ) / (1 − 2λ) (C(½) = 2), with
 * 1 − 2λ = σ(−l) − σ(l) and artanh(1 − 2λ) = ½ log((1 − λ)/λ) taken from log λ, log(1 − λ).
 */
const logC64 = (l: number): number => {
  const c = sigmoid64(-l) - sigmoid64(l)
  const artanh = 0.5 * (softplus64(-l) - softplus64(l))
  return c === 0 ? Math.LN2 : Math.log((2 * artanh) / c)
}
const ref = (x: number, l: number): number => logC64(l) - x * softplus64(-l) - (1 - x) * softplus64(l)
const density = (l: number) => (x: number): number => Math.exp(ref(x, l))

/** E[g(X)] by quadrature of the reference density, on a grid fine enough for |l| ≤ 80. */
const expect64 = (g: (x: number, l: number) => number, l: number): number => simpson((x) => g(x, l) * density(l)(x), 0, 1, 20000)

/** The CDF F(x) = (e^{lx} − 1)/(e^l − 1) (F(x) = x at l = 0), in doubles. */
const cdf64 = (x: number, l: number): number => (l === 0 ? x : Math.expm1(l * x) / Math.expm1(l))

/** A batch with logits ∈ [−10, 10] or near 0 (the series branch), or probs ∈ [0.001, 0.999]. */
const withParams = logitsOrProbsParams(fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: -0.3, max: 0.3, noNaN: true })),
  (v) => v, (v) => 0.001 + 0.998 * sigmoid64(v))
const make = (useLogits: boolean, values: number[], batch: number[]) =>
  continuousBernoulli(useLogits ? { logits: t(values, batch) } : { probs: t(values, batch) })

describe('continuousBernoulli', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => make(p.useLogits, p.values, p.batch) })), {
    reparameterized: true, repeatable: 'rsample',
    expandTiles: { param: (d) => d.probs, rel: 1e-6, abs: 0 },
    checkShapes: (d, c) => expect([d.mean.shape, d.variance.shape, d.entropy().shape]).toEqual([c.batch, c.batch, c.batch]),
  })

  it('logProb equals the float64 λ-form density to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, useLogits, values }, seed) => tf.tidy(() => {
      const d = make(useLogits, values, batch)
      const x = d.sample([3], seed)
      const xs = [...read(x), 0, 1, 0.5], k = sizeOf(batch)
      const ls = read(d.logits)
      const lp = read(d.logProb(t(xs.slice(0, 3 * k), [3, ...batch])))
      expectClose(lp, xs.slice(0, 3 * k).map((v, i) => ref(v, ls[i % k]!)), 1e-4, 1e-4)
      for (const v of [0, 0.5, 1]) expectClose(read(d.logProb(tf.fill(batch, v))), ls.map((l) => ref(v, l)), 1e-4, 1e-4)
    })), FC)
  })

  it('the density integrates to 1', () => {
    for (const l of [0, 1e-3, -0.2, 0.7, -3, 15, -40, 80]) expectIntegratesToOne(() => continuousBernoulli({ logits: l }), 0, 1, 8000)
  })

  it('mean, variance and entropy equal float64 quadrature of the reference density', () => tf.tidy(() => {
    const ls = [-80, -12, -2, -0.3, -0.05, -1e-4, 0, 0.004, 0.1, 0.24, 0.26, 1, 5, 30, 80]
    const d = continuousBernoulli({ logits: t(ls, [ls.length]) })
    const mean = ls.map((l) => expect64((x) => x, l))
    expectClose(read(d.mean), mean, 1e-4, 1e-6)
    expectClose(read(d.variance), ls.map((l, i) => expect64((x) => (x - mean[i]!) ** 2, l)), 1e-4, 1e-7)
    expectClose(read(d.entropy()), ls.map((l) => expect64((x, ll) => -ref(x, ll), l)), 1e-4, 1e-5)
  }))

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const d = continuousBernoulli({ logits: t([-5, -0.05, 0, 0.5, 8], [5]) })
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('samples follow the CDF (Kolmogorov–Smirnov), including logits near 0 and ±80', () => tf.tidy(() => {
    const ls = [-80, -3, -0.005, 0, 1e-3, 0.1, 2, 80]
    const n = 20000
    const xs = read(continuousBernoulli({ logits: t(ls, [ls.length]) }).sample([n], 11))
    ls.forEach((l, j) => {
      const u = Array.from({ length: n }, (_, i) => cdf64(xs[i * ls.length + j]!, l)).sort((a, b) => a - b)
      const ks = Math.max(...u.map((v, i) => Math.max((i + 1) / n - v, v - i / n)))
      expect(ks).toBeLessThan(1.95 / Math.sqrt(n)) // the 0.1% critical value
    })
  }))

  it('rsample is the inverse CDF: draws with one seed share their uniforms, so F_l(x_l) = x_0 = u', () => tf.tidy(() => {
    const n = 2000
    const u = read(continuousBernoulli({ logits: 0 }).rsample([n], 5)) // at l = 0, F⁻¹(u) = u
    for (const l of [-200, -80, -7, -0.6, -0.2, -0.01, -1e-3, 1e-4, 0.005, 0.02, 0.3, 1, 4, 30, 80, 200]) {
      const x = read(continuousBernoulli({ logits: l }).rsample([n], 5))
      x.forEach((xi, i) => {
        // float32 rounding of x moves F by about p(x) · 2⁻²⁴ · x.
        const tol = 2e-6 + 1.2e-7 * density(l)(xi)
        if (!(Math.abs(cdf64(xi, l) - u[i]!) <= tol)) expect.fail(`l = ${l}: F(${xi}) = ${cdf64(xi, l)}, expected u = ${u[i]}`)
      })
    }
  }))

  it('rsample gradients w.r.t. logits match finite differences (both signs and the series branch)', () => {
    for (const [l0, h] of [[1.3, 1e-2], [-0.7, 1e-2], [0.003, 1e-3], [25, 1e-2]] as const) {
      const f = (l: number) => tf.tidy(() => read(tf.sum(tf.square(continuousBernoulli({ logits: l }).rsample([50], 3))))[0]!)
      const g = tf.tidy(() => read(tf.grad((l: tf.Tensor) => tf.sum(tf.square(continuousBernoulli({ logits: l }).rsample([50], 3))))(tf.scalar(l0)))[0]!)
      expectClose([g], [centralDiff(f, l0, h)], 1e-2, 1e-3)
    }
  })

  it('extreme logits (0, ±1e-6, ±80, ±200) and probs near 0/1 give finite logProb, moments and gradients', () => tf.tidy(() => {
    const x = t([0, 0.5, 1], [3])
    const stats = (d: ReturnType<typeof continuousBernoulli>) =>
      tf.addN([tf.sum(d.logProb(tf.expandDims(x, -1))), tf.sum(d.mean), tf.sum(d.variance), tf.sum(d.entropy()), tf.sum(d.rsample([5], 2))])
    const logits = t([0, 1e-6, -1e-6, 80, -80, 200, -200], [7])
    const probs = t([0, 1e-7, 0.5, 1 - 1e-7, 1], [5])
    const values = [
      read(stats(continuousBernoulli({ logits }))), read(tf.grad((l: tf.Tensor) => stats(continuousBernoulli({ logits: l })))(logits)),
      read(stats(continuousBernoulli({ probs }))), read(tf.grad((p: tf.Tensor) => stats(continuousBernoulli({ probs: p })))(probs)),
    ].flat()
    values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  it('samples lie in the support [0, 1]', () => tf.tidy(() => {
    const d = continuousBernoulli({ logits: t([-200, -80, -1e-5, 0, 0.02, 80, 200], [7]) })
    const x = d.sample([1000], 1)
    expect(read(tf.cast(d.support.check(x), 'float32')).every((v) => v === 1)).toBe(true)
  }))

  noLeakLaw(() => {
    const logits = t([0, 1], [2]), x = t([0.5, 0.5], [2])
    return {
      d: continuousBernoulli({ logits }), x, expandedOwns: (e) => [e.logits, e.probs],
      also: [() => { const n = continuousBernoulli({ probs: 0.3 }); return [n.logits, n.probs] }],
      dispose: [logits, x],
    }
  })

  it('a constructor that throws on its arguments leaves numTensors unchanged', () => {
    const ints = tf.tensor1d([0, 2], 'int32')   // cast inside the constructor, then rejected
    for (const params of [{ probs: 1.5 }, { probs: [0.5, -0.1] }, { logits: NaN }, { logits: [0, Infinity] }, { probs: ints }]) {
      const before = tf.memory().numTensors
      expect(() => continuousBernoulli(params)).toThrow(InvalidArgumentError)
      expect(tf.memory().numTensors, JSON.stringify(params)).toBe(before)
    }
    expect(ints.isDisposed).toBe(false)
    ints.dispose()
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => continuousBernoulli({ probs: 1.5 })).toThrow(InvalidArgumentError)
    expect(() => continuousBernoulli({ probs: -0.5 })).toThrow(/continuousBernoulli: argument 'probs' must satisfy 0 ≤ x ≤ 1; got -0.5/)
    expect(() => continuousBernoulli({ logits: Infinity })).toThrow(/continuousBernoulli: argument 'logits' must satisfy finite real; got Infinity/)
    expect(() => continuousBernoulli({ logits: 0, probs: 0.5 } as never)).toThrow(/continuousBernoulli: expected exactly one of/)
    const d = continuousBernoulli({ logits: [0, 0] })
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([-0.1, 0.5], [2]))).toThrow(/continuousBernoulli.logProb: value outside the support \(0 ≤ x ≤ 1\); got -0.1/)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(/toEvent\(2\)/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
