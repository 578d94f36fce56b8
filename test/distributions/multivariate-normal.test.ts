import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { kl } from '../../src/distributions/kl.js'
import { klMvnMvn, klNormalMvn, multivariateNormal } from '../../src/distributions/multivariate-normal.js'
import type { MultivariateNormal, MvnScale } from '../../src/distributions/multivariate-normal.js'
import { normal } from '../../src/distributions/normal.js'
import { InvalidArgumentError, NonFiniteArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, expectNoLeak, read, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, noLeakLaw, shapeLaws } from './laws.js'
import { zeros, mul64, tr64, eye64, f32, chol64, solve64, inv64, logDet64, logDensity64, kl64 } from './linalg64.js'
import type { M } from './linalg64.js'

// ---------------------------------------------------------------------------------------------
// float64 references

// ---------------------------------------------------------------------------------------------
// cases

const split = (xs: readonly number[], n: number, m = n): M[] =>
  Array.from({ length: xs.length / (n * m) }, (_, b) => Array.from({ length: n }, (_, i) => xs.slice(b * n * m + i * m, b * n * m + (i + 1) * m)))
const vectors = (xs: readonly number[], n: number): number[][] => Array.from({ length: xs.length / n }, (_, i) => xs.slice(i * n, (i + 1) * n))
const stack = (ms: readonly M[], batch: readonly number[]): tf.Tensor => t(ms.flat(2), [...batch, ms[0]!.length, ms[0]!.length])

type Kind = 'scaleTril' | 'covariance' | 'precision'
/** The scale argument of each kind for the covariances `sigmas` (float64), and the Σ each one means exactly. */
const scaleArg = (kind: Kind, ls: readonly M[], batch: readonly number[]): { arg: () => MvnScale; sigmas: M[] } => {
  const exact = ls.map((l) => f32(l)).map((l) => mul64(l, tr64(l)))
  if (kind === 'scaleTril') return { arg: () => ({ scaleTril: stack(ls.map(f32), batch) }), sigmas: exact }
  if (kind === 'covariance') return { arg: () => ({ covariance: stack(exact.map(f32), batch) }), sigmas: exact.map(f32) }
  const ps = exact.map((s) => f32(inv64(s)))
  return { arg: () => ({ precision: stack(ps, batch) }), sigmas: ps.map(inv64) }
}

/** Lower factors with diagonal 10^u (u ∈ [−½, ½]) and off-diagonal entries in [−1, 1]. */
const factors = (off: readonly number[], logDiag: readonly number[], n: number): M[] =>
  split(off, n).map((m, b) => m.map((row, i) => row.map((v, j) => (j > i ? 0 : i === j ? 10 ** logDiag[b * n + i]! : v))))

const cases = fc.tuple(smallShape, fc.integer({ min: 1, max: 4 }), fc.constantFrom<Kind>('scaleTril', 'covariance', 'precision'))
  .chain(([batch, n, kind]) => fc.record({
    loc: doubles(sizeOf(batch) * n, -5, 5), off: doubles(sizeOf(batch) * n * n, -1, 1), logDiag: doubles(sizeOf(batch) * n, -0.5, 0.5),
  }).map((r) => {
    const { arg, sigmas } = scaleArg(kind, factors(r.off, r.logDiag, n), batch)
    const loc = r.loc.map(Math.fround)
    return { batch, event: [n], n, kind, loc: vectors(loc, n), sigmas, make: () => multivariateNormal(t(loc, [...batch, n]), arg()) }
  }))

const SIGMA: M = [[2, 0.8, -0.3], [0.8, 1.5, 0.4], [-0.3, 0.4, 0.7]]
const MU = [0.5, -1, 2]
const mvn = (mu: readonly number[], sigma: M): MultivariateNormal => multivariateNormal(t(mu, [mu.length]), { covariance: stack([sigma], []) })

describe('multivariateNormal', () => {
  shapeLaws(cases, { reparameterized: true, tag: 'MultivariateNormal', repeatable: 'rsample', expandedLogProb: true })

  it('logProb equals the float64 density to 1e-4 relative, for each parameterisation', () => {
    fc.assert(fc.property(cases, fc.nat(), (c, seed) => tf.tidy(() => {
      const d = c.make(), x = d.sample([3], seed), k = c.sigmas.length
      const ref = vectors(read(x), c.n).map((v, i) => logDensity64(v, c.loc[i % k]!, c.sigmas[i % k]!))
      expectClose(read(d.logProb(x)), ref, 1e-4, 1e-4)
    })), FC)
  })

  it('the three parameterisations agree: logProb, entropy, scaleTril, covariance, precision', () => tf.tidy(() => {
    const l = chol64(SIGMA), x = t([0, 0, 0, 1, -2, 3.5], [2, 3])
    const ds = [{ scaleTril: stack([l], []) }, { covariance: stack([SIGMA], []) }, { precision: stack([inv64(SIGMA)], []) }].map((s) => multivariateNormal(t(MU, [3]), s))
    const ref = vectors(read(x), 3).map((v) => logDensity64(v, MU, SIGMA))
    const entropy = 0.5 * logDet64(SIGMA) + 1.5 * (1 + Math.log(2 * Math.PI))
    for (const d of ds) {
      expectClose(read(d.logProb(x)), ref, 1e-5, 1e-5)
      expectClose(read(d.entropy()), [entropy], 1e-5)
      expectClose(read(d.scaleTril), l.flat(), 1e-5, 1e-6)
      expectClose(read(d.covariance), SIGMA.flat(), 1e-5, 1e-6)
      expectClose(read(d.precision), inv64(SIGMA).flat(), 1e-5, 1e-5)
      expectClose(read(d.variance), SIGMA.map((r, i) => r[i]!), 1e-5)
    }
  }))

  it('entropy equals the float64 closed form ½ log det(2πe Σ)', () => {
    fc.assert(fc.property(cases, (c) => tf.tidy(() => {
      expectClose(read(c.make().entropy()), c.sigmas.map((s) => 0.5 * logDet64(s) + 0.5 * c.n * (1 + Math.log(2 * Math.PI))), 1e-4, 1e-5)
    })), FC)
  })

  it('sample means, variances and covariances match mean and Σ (CLT bounds)', () => tf.tidy(() => {
    const d = mvn(MU, SIGMA), x = d.sample([20000], 11), n = 20000
    expectMomentsMatch(x, read(d.mean), read(d.variance))
    const xs = vectors(read(x), 3), m = [0, 1, 2].map((i) => xs.reduce((s, v) => s + v[i]!, 0) / n)
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) {
      const c = xs.reduce((s, v) => s + (v[i]! - m[i]!) * (v[j]! - m[j]!), 0) / (n - 1)
      expect(Math.abs(c - SIGMA[i]![j]!)).toBeLessThan(5 * Math.sqrt((SIGMA[i]![i]! * SIGMA[j]![j]! + SIGMA[i]![j]! ** 2) / n))
    }
  }))

  describe('KL', () => {
    it('klMvnMvn equals the float64 closed form, is ≥ 0, and KL(p ‖ p) = 0', () => {
      fc.assert(fc.property(cases, fc.nat(), (p, seed) => tf.tidy(() => {
        const q = multivariateNormal(tf.randomNormal([p.n], 0, 1, 'float32', seed), { scaleTril: tf.eye(p.n) })
        const got = read(klMvnMvn(p.make(), q))
        const ref = p.sigmas.map((s, i) => kl64(p.loc[i]!, s, read(q.loc), eye64(p.n)))
        expectClose(got, ref, 1e-4, 1e-5)
        got.forEach((v) => expect(v).toBeGreaterThanOrEqual(0))
        expectClose(read(klMvnMvn(p.make(), p.make())), p.sigmas.map(() => 0), 0, 1e-5)
      })), FC)
    })

    it('klMvnMvn between general pairs (batch dims broadcast) equals float64', () => tf.tidy(() => {
      const sq: M = [[1, -0.5, 0], [-0.5, 2, 0.3], [0, 0.3, 0.5]]
      const p = multivariateNormal(t([...MU, 0, 0, 0], [2, 3]), { covariance: stack([SIGMA], []) }), q = mvn([1, 1, -1], sq)
      expectClose(read(klMvnMvn(p, q)), [kl64(MU, SIGMA, [1, 1, -1], sq), kl64([0, 0, 0], SIGMA, [1, 1, -1], sq)], 1e-5)
      expectClose(read(klMvnMvn(q, p)), [kl64([1, 1, -1], sq, MU, SIGMA), kl64([1, 1, -1], sq, [0, 0, 0], SIGMA)], 1e-5)
    }))

    it('KL matches its Monte Carlo estimate E_p[log p − log q] (CLT bound)', () => tf.tidy(() => {
      const p = mvn(MU, SIGMA), q = mvn([0, 0, 1], [[1, 0.2, 0], [0.2, 1, 0.1], [0, 0.1, 2]])
      const x = p.sample([20000], 5), r = read(tf.sub(p.logProb(x), q.logProb(x)))
      const mean = r.reduce((a, b) => a + b, 0) / r.length, sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / r.length)
      expect(Math.abs(read(klMvnMvn(p, q))[0]! - mean)).toBeLessThan(5 * sd / Math.sqrt(r.length))
    }))
  })

  describe('with a diagonal covariance it is normal(loc, σ).toEvent(1)', () => {
    const sd = [0.5, 2, 1.3], sdQ = [1, 0.7, 3], muQ = [1, 0, -2]
    const diag = (s: readonly number[]): M => eye64(s.length).map((r, i) => r.map((v) => v * s[i]! ** 2))
    it('in logProb and entropy', () => tf.tidy(() => {
      const m = mvn(MU, diag(sd)), n = normal(t(MU, [3]), t(sd, [3])).toEvent(1), x = t([0, 1, 2, -3, 0.5, 4], [2, 3])
      expectClose(read(m.logProb(x)), read(n.logProb(x)), 1e-5, 1e-6)
      expectClose(read(m.entropy()), read(n.entropy()), 1e-5, 1e-6)
    }))
    it('in KL: klMvnMvn of diagonal MVNs and klNormalMvn equal the Normal/Normal KL summed', () => tf.tidy(() => {
      const np = normal(t(MU, [3]), t(sd, [3])).toEvent(1), nq = normal(t(muQ, [3]), t(sdQ, [3])).toEvent(1)
      const ref = read(kl(np, nq)!)
      expectClose(ref, [kl64(MU, diag(sd), muQ, diag(sdQ))], 1e-5)
      expectClose(read(klMvnMvn(mvn(MU, diag(sd)), mvn(muQ, diag(sdQ)))), ref, 1e-5)
      expectClose(read(klNormalMvn(np, mvn(muQ, diag(sdQ)))), ref, 1e-5)
      expectClose(read(klNormalMvn(np, mvn(muQ, SIGMA))), [kl64(MU, diag(sd), muQ, SIGMA)], 1e-5)
    }))
    it('klNormalMvn broadcasts batch dims and rejects other reinterpretations', () => tf.tidy(() => {
      const np = normal(t([...MU, ...muQ], [2, 3]), t(sd, [3])).toEvent(1)
      expectClose(read(klNormalMvn(np, mvn(muQ, SIGMA))), [kl64(MU, diag(sd), muQ, SIGMA), kl64(muQ, diag(sd), muQ, SIGMA)], 1e-5)
      expect(() => klNormalMvn(normal(tf.zeros([2, 3]), 1).toEvent(2), mvn(muQ, SIGMA))).toThrow(ShapeError)
    }))
  })

  describe('reparameterised gradients', () => {
    const S = 20000
    /** ∂/∂(loc, L) of the mean over rsample([S]) of f(x); also returns the draws' ε = L⁻¹(x − μ). */
    const gradsOf = (f: (x: tf.Tensor) => tf.Tensor, seed: number) => tf.tidy(() => {
      const l = chol64(SIGMA)
      const loss = (mu: tf.Tensor, st: tf.Tensor) => tf.mean(f(multivariateNormal(mu, { scaleTril: st }).rsample!([S], seed)))
      const [gm, gl] = tf.grads(loss)([t(MU, [3]), stack([l], [])]).map(read)
      const x = vectors(read(multivariateNormal(t(MU, [3]), { scaleTril: stack([l], []) }).sample([S], seed)), 3)
      return { gm: gm!, gl: gl!, l, x, eps: x.map((v) => solve64(l, v.map((u, i) => u - MU[i]!))) }
    })
    const W: M = [[1, 0.5, -0.2], [0.5, -1, 0.3], [-0.2, 0.3, 2]], w = [0.7, -1.2, 0.4]

    it('of E[w·x]: ∂/∂μ = w exactly, ∂/∂L = the pathwise mean of w εᵀ (→ 0)', () => {
      const { gm, gl, eps } = gradsOf((x) => tf.sum(tf.mul(x, t(w, [3])), -1), 3)
      expectClose(gm, w, 1e-3)   // the float32 sum of 20000 gradients of the mean, 1/20000 each
      const pathwise = w.map((wi, i) => [0, 1, 2].map((j) => (j > i ? 0 : wi * eps.reduce((s, e) => s + e[j]!, 0) / S)))
      expectClose(gl, pathwise.flat(), 1e-3, 1e-5)
      gl.forEach((v) => expect(Math.abs(v)).toBeLessThan(5 * 2 / Math.sqrt(S)))
    })

    it('of E[xᵀWx] = tr(W(Σ + μμᵀ)): ∂/∂μ = 2Wμ and ∂/∂L = 2WL (lower part), within Monte Carlo error', () => {
      const { gm, gl, l, x, eps } = gradsOf((v) => tf.sum(tf.mul(v, tf.matMul(v, stack([W], []))), -1), 7)
      const wMu = W.map((r) => 2 * r.reduce((s, v, j) => s + v * MU[j]!, 0))
      const wl = mul64(W, l).map((r, i) => r.map((v, j) => (j > i ? 0 : 2 * v)))
      const pathwise = wl.map((r, i) => r.map((_, j) => (j > i ? 0 : x.reduce((s, xs, k) => s + 2 * W[i]!.reduce((u, wv, m) => u + wv * xs[m]!, 0) * eps[k]![j]!, 0) / S)))
      expectClose(gl, pathwise.flat(), 1e-3, 1e-4)
      expectClose(gm, wMu, 0.05, 0.05)
      expectClose(gl, wl.flat(), 0.05, 0.05)
    })

    it('of E[xᵀWx] through a covariance parameter: ∂/∂Σ = W, within Monte Carlo error', () => tf.tidy(() => {
      const loss = (c: tf.Tensor) => tf.mean(tf.sum(tf.mul(tf.square(multivariateNormal(tf.zeros([3]), { covariance: c }).rsample!([S], 9)), t([1, 2, 3], [3])), -1))
      expectClose(read(tf.grad(loss)(stack([SIGMA], []))), [1, 0, 0, 0, 2, 0, 0, 0, 3], 0.05, 0.05)
    }))

    it('logProb gradients equal their closed forms: ∂/∂Σ = ½(Σ⁻¹ddᵀΣ⁻¹ − Σ⁻¹), ∂/∂P = ½(Σ − ddᵀ), ∂/∂μ = Σ⁻¹d', () => tf.tidy(() => {
      const x = [1, -2, 0.5], d = x.map((v, i) => v - MU[i]!), si = inv64(SIGMA)
      const sd = si.map((r) => r.reduce((s, v, j) => s + v * d[j]!, 0))
      const lp = (mu: tf.Tensor, s: tf.Tensor, kind: 'covariance' | 'precision') =>
        multivariateNormal(mu, kind === 'covariance' ? { covariance: s } : { precision: s }).logProb(t(x, [3]))
      const [gm, gc] = tf.grads((mu: tf.Tensor, s: tf.Tensor) => lp(mu, s, 'covariance'))([t(MU, [3]), stack([SIGMA], [])]).map(read)
      expectClose(gm!, sd, 1e-4, 1e-5)
      expectClose(gc!, SIGMA.flatMap((r, i) => r.map((_, j) => 0.5 * (sd[i]! * sd[j]! - si[i]![j]!))), 1e-4, 1e-5)
      const gp = read(tf.grad((s: tf.Tensor) => lp(t(MU, [3]), s, 'precision'))(stack([si], [])))
      expectClose(gp, SIGMA.flatMap((r, i) => r.map((v, j) => 0.5 * (v - d[i]! * d[j]!))), 1e-4, 1e-5)
    }))
  })

  it('rejects bad arguments with named errors', () => tf.tidy(() => {
    const l = stack([chol64(SIGMA)], [])
    expect(() => multivariateNormal([0, 0, 0], {} as MvnScale)).toThrow(/give exactly one of scaleTril, covariance or precision; got none/)
    expect(() => multivariateNormal([0, 0, 0], undefined as unknown as MvnScale)).toThrow(InvalidArgumentError)
    expect(() => multivariateNormal([0, 0, 0], { scaleTril: l, covariance: l } as unknown as MvnScale)).toThrow(/got scaleTril and covariance/)
    expect(() => multivariateNormal([0, 0, 0], { scaleTril: tf.transpose(l) })).toThrow(/argument 'scaleTril' must satisfy lower-triangular/)
    expect(() => multivariateNormal([0, 0], { scaleTril: [[1, 0], [0, -1]] })).toThrow(InvalidArgumentError)
    expect(() => multivariateNormal([0, 0], { covariance: [[1, 0.5], [0.4, 1]] })).toThrow(/argument 'covariance' must satisfy symmetric positive-definite/)
    expect(() => multivariateNormal([0, 0], { covariance: [[1, 2], [2, 1]] })).toThrow(/argument 'covariance' must be symmetric positive-definite; its Cholesky factorisation failed .* at batch index \[\]/)
    expect(() => multivariateNormal([0, 0], { precision: [[[1, 0], [0, 1]], [[1, 2], [2, 1]]] })).toThrow(/'precision' .* factorisation failed .* at batch index \[1\]/)
    expect(() => multivariateNormal([0, 0], { covariance: [[1, NaN], [NaN, 1]] })).toThrow(InvalidArgumentError)
    expect(() => multivariateNormal([0, NaN], { scaleTril: [[1, 0], [0, 1]] })).toThrow(NonFiniteArgumentError)
    expect(() => multivariateNormal([0, 0, 0], { scaleTril: [[1, 0], [0, 1]] })).toThrow(/'scaleTril' must have shape \[\.\.\., 3, 3\]/)
    expect(() => multivariateNormal(0, { scaleTril: [[1]] })).toThrow(ShapeError)
    expect(() => multivariateNormal(tf.zeros([2, 3]), { scaleTril: tf.zeros([3, 3, 3]).add(l) })).toThrow(ShapeError)
    const d = mvn(MU, SIGMA)
    expect(() => d.logProb(t([0, 0], [2]))).toThrow(/value of shape \[2\] does not fit/)
    expect(() => d.logProb(t([0, NaN, 0], [3]))).toThrow(SupportError)
    expect(() => d.toEvent(1)).toThrow(ShapeError)
  }))

  noLeakLaw(() => {
    const loc = t([0, 1, 2, 3, 4, 5], [2, 3]), st = stack([chol64(SIGMA)], []), x = t([0.5, 0.5, 0.5, 1, 1, 1], [2, 3]), cov = stack([SIGMA], [])
    const d = multivariateNormal(loc, { scaleTril: st })
    return {
      d, x, expandedOwns: (e) => [e.loc, e.scaleTril],
      also: [
        () => { const m = multivariateNormal([0, 0], { covariance: [[2, 1], [1, 2]] }); return [m.loc, m.scaleTril] },
        () => { const m = multivariateNormal([0, 0], { precision: [[2, 1], [1, 2]] }); return [m.loc, m.scaleTril] },
        () => [d.covariance, d.precision, klMvnMvn(d, d), klNormalMvn(normal(loc, x).toEvent(1), d)],
        () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(multivariateNormal(a, { covariance: b }).logProb(x)))([loc, cov]),
        () => { try { multivariateNormal([0, 0], { covariance: [[1, 2], [2, 1]] }) } catch { /* named error */ } },
      ],
      dispose: [loc, st, x, cov],
    }
  })
})
