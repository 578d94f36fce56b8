import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { lowRankMultivariateNormal } from '../../src/distributions/low-rank-multivariate-normal.js'
import type { LowRankMultivariateNormal } from '../../src/distributions/low-rank-multivariate-normal.js'
import { klMvnMvn, multivariateNormal } from '../../src/distributions/multivariate-normal.js'
import { InvalidArgumentError, NonFiniteArgumentError, ShapeError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, noLeakLaw, shapeLaws } from './laws.js'
import { zeros, mul64, tr64, eye64, chol64, inv64, logDet64, logDensity64, kl64 } from './linalg64.js'
import type { M } from './linalg64.js'

// ---------------------------------------------------------------------------------------------
// float64 references

/** Σ = W Wᵀ + diag(D) in doubles. */
const sigma64 = (w: M, d: readonly number[]): M => mul64(w, tr64(w)).map((r, i) => r.map((v, j) => v + (i === j ? d[i]! : 0)))

// ---------------------------------------------------------------------------------------------
// cases

const chunks = (xs: readonly number[], k: number): number[][] => Array.from({ length: xs.length / k }, (_, i) => xs.slice(i * k, (i + 1) * k))

const cases = fc.tuple(smallShape, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })).chain(([batch, n, r]) => fc.record({
  loc: doubles(sizeOf(batch) * n, -5, 5), w: doubles(sizeOf(batch) * n * r, -1, 1), logD: doubles(sizeOf(batch) * n, -1, 0.5),
}).map((p) => {
  const loc = p.loc.map(Math.fround), w = p.w.map(Math.fround), d = p.logD.map((u) => Math.fround(10 ** u))
  const ws = chunks(w, n * r).map((m) => chunks(m, r)), ds = chunks(d, n)
  return {
    batch, event: [n], n, locs: chunks(loc, n), sigmas: ws.map((m, i) => sigma64(m, ds[i]!)),
    make: () => lowRankMultivariateNormal(t(loc, [...batch, n]), t(w, [...batch, n, r]), t(d, [...batch, n])),
  }
}))

const MU = [0.5, -1, 2], W: M = [[1, 0.2], [-0.5, 0.8], [0.3, -1]], D = [0.5, 0.25, 1]
const SIGMA = sigma64(W, D)
const lowRank = (mu = MU, w = W, d = D): LowRankMultivariateNormal => lowRankMultivariateNormal(t(mu, [3]), t(w.flat(), [3, 2]), t(d, [3]))

describe('lowRankMultivariateNormal', () => {
  shapeLaws(cases, { reparameterized: true, tag: 'LowRankMultivariateNormal', repeatable: 'rsample', expandedLogProb: true })

  it('logProb and entropy equal the float64 closed forms (Σ = W Wᵀ + D) to 1e-4 relative', () => {
    fc.assert(fc.property(cases, fc.nat(), (c, seed) => tf.tidy(() => {
      const d = c.make(), x = d.sample([3], seed), k = c.sigmas.length
      const ref = chunks(read(x), c.n).map((v, i) => logDensity64(v, c.locs[i % k]!, c.sigmas[i % k]!))
      expectClose(read(d.logProb(x)), ref, 1e-4, 1e-4)
      expectClose(read(d.entropy()), c.sigmas.map((s) => 0.5 * logDet64(s) + 0.5 * c.n * (1 + Math.log(2 * Math.PI))), 1e-4, 1e-5)
    })), FC)
  })

  it('is the multivariate normal with covariance W Wᵀ + D: logProb, variance, covariance, precision, scaleTril', () => tf.tidy(() => {
    const d = lowRank(), m = multivariateNormal(t(MU, [3]), { covariance: t(SIGMA.flat(), [3, 3]) }), x = t([0, 0, 0, 1, -2, 3.5], [2, 3])
    expectClose(read(d.logProb(x)), read(m.logProb(x)), 1e-5, 1e-5)
    expectClose(read(d.logProb(x)), chunks(read(x), 3).map((v) => logDensity64(v, MU, SIGMA)), 1e-5, 1e-5)
    expectClose(read(d.variance), SIGMA.map((r, i) => r[i]!), 1e-6)
    expectClose(read(d.covariance), SIGMA.flat(), 1e-6, 1e-7)
    expectClose(read(d.precision), inv64(SIGMA).flat(), 1e-5, 1e-5)
    expectClose(read(d.scaleTril), chol64(SIGMA).flat(), 1e-5, 1e-6)
    expectClose(read(d.mean), MU, 0)
  }))

  it('sample means, variances and covariances match mean and Σ (CLT bounds)', () => tf.tidy(() => {
    const d = lowRank(), n = 20000, x = d.sample([n], 4)
    expectMomentsMatch(x, read(d.mean), read(d.variance))
    const xs = chunks(read(x), 3), m = [0, 1, 2].map((i) => xs.reduce((s, v) => s + v[i]!, 0) / n)
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) {
      const c = xs.reduce((s, v) => s + (v[i]! - m[i]!) * (v[j]! - m[j]!), 0) / (n - 1)
      expect(Math.abs(c - SIGMA[i]![j]!)).toBeLessThan(5 * Math.sqrt((SIGMA[i]![i]! * SIGMA[j]![j]! + SIGMA[i]![j]! ** 2) / n))
    }
  }))

  it('klMvnMvn reads it as a Gaussian: against an MVN and another low-rank one it equals float64; KL(p ‖ p) = 0', () => {
    fc.assert(fc.property(cases, (c) => tf.tidy(() => {
      const q = multivariateNormal(tf.zeros([c.n]), { scaleTril: tf.eye(c.n) })
      const zero = new Array<number>(c.n).fill(0)
      expectClose(read(klMvnMvn(c.make(), q)), c.sigmas.map((s, i) => kl64(c.locs[i]!, s, zero, eye64(c.n))), 1e-4, 1e-5)
      expectClose(read(klMvnMvn(q, c.make())), c.sigmas.map((s, i) => kl64(zero, eye64(c.n), c.locs[i]!, s)), 1e-4, 1e-5)
      expectClose(read(klMvnMvn(c.make(), c.make())), c.sigmas.map(() => 0), 0, 1e-5)
    })), FC)
  })

  describe('gradients', () => {
    const S = 20000, c = [1, 2, 3]
    it('of E[Σ cᵢ xᵢ²] by rsample: ∂/∂μ = 2cμ, ∂/∂W = 2cᵢWᵢₖ, ∂/∂D = c, within Monte Carlo error', () => tf.tidy(() => {
      const loss = (mu: tf.Tensor, w: tf.Tensor, d: tf.Tensor) =>
        tf.mean(tf.sum(tf.mul(tf.square(lowRankMultivariateNormal(mu, w, d).rsample!([S], 6)), t(c, [3])), -1))
      const [gm, gw, gd] = tf.grads(loss)([t(MU, [3]), t(W.flat(), [3, 2]), t(D, [3])]).map(read)
      expectClose(gm!, MU.map((v, i) => 2 * c[i]! * v), 0.05, 0.05)
      expectClose(gw!, W.flatMap((r, i) => r.map((v) => 2 * c[i]! * v)), 0.05, 0.05)
      expectClose(gd!, c, 0.05, 0.05)
    }))

    it('of logProb equal the closed forms: with G = ½(Σ⁻¹ddᵀΣ⁻¹ − Σ⁻¹), ∂/∂W = 2GW, ∂/∂D = diag G, ∂/∂μ = Σ⁻¹d', () => tf.tidy(() => {
      const x = [1, -2, 0.5], dv = x.map((v, i) => v - MU[i]!), si = inv64(SIGMA)
      const sd = si.map((r) => r.reduce((s, v, j) => s + v * dv[j]!, 0))
      const g = si.map((r, i) => r.map((v, j) => 0.5 * (sd[i]! * sd[j]! - v)))
      const [gm, gw, gd] = tf.grads((mu: tf.Tensor, w: tf.Tensor, d: tf.Tensor) => lowRankMultivariateNormal(mu, w, d).logProb(t(x, [3])))(
        [t(MU, [3]), t(W.flat(), [3, 2]), t(D, [3])]).map(read)
      expectClose(gm!, sd, 1e-4, 1e-5)
      expectClose(gw!, mul64(g, W).flat().map((v) => 2 * v), 1e-4, 1e-5)
      expectClose(gd!, g.map((r, i) => r[i]!), 1e-4, 1e-5)
    }))
  })

  it('rejects bad arguments with named errors', () => tf.tidy(() => {
    expect(() => lowRank(MU, W, [0.5, 0, 1])).toThrow(/lowRankMultivariateNormal: argument 'covDiag' must satisfy x > 0; got 0/)
    expect(() => lowRank(MU, W, [0.5, -1, 1])).toThrow(InvalidArgumentError)
    expect(() => lowRank(MU, [[1, NaN], [0, 0], [0, 0]], D)).toThrow(NonFiniteArgumentError)
    expect(() => lowRank([0, Infinity, 0], W, D)).toThrow(NonFiniteArgumentError)
    expect(() => lowRankMultivariateNormal([0, 0], [[1], [1], [1]], [1, 1])).toThrow(/'covFactor' must have shape \[\.\.\., 2, r\]/)
    expect(() => lowRankMultivariateNormal([0, 0], [[1], [1]], [1, 1, 1])).toThrow(/'covDiag' must have shape \[\.\.\., 2\]/)
    expect(() => lowRankMultivariateNormal(tf.zeros([2, 3]), tf.zeros([4, 3, 1]), tf.ones([3]))).toThrow(ShapeError)
    expect(() => lowRank().logProb(t([0, 0], [2]))).toThrow(ShapeError)
  }))

  noLeakLaw(() => {
    const loc = t([0, 1, 2, 3, 4, 5], [2, 3]), w = t(W.flat(), [3, 2]), d = t(D, [3]), x = t([0.5, 0.5, 0.5, 1, 1, 1], [2, 3])
    const dist = lowRankMultivariateNormal(loc, w, d), mvn = multivariateNormal(loc, { scaleTril: tf.eye(3) })
    return {
      d: dist, x, expandedOwns: (e) => [e.loc, e.covFactor, e.covDiag],
      also: [
        () => [dist.covariance, dist.precision, dist.scaleTril, klMvnMvn(dist, mvn), klMvnMvn(mvn, dist)],
        () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(lowRankMultivariateNormal(loc, a, b).logProb(x)))([w, d]),
        () => { const m = lowRankMultivariateNormal([0, 0], [[1], [2]], [1, 1]); return [m.loc, m.covFactor, m.covDiag] },
      ],
      dispose: [loc, w, d, x, mvn.scaleTril],
    }
  })
})
