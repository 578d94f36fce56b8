import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dirichlet, klDirichletDirichlet } from '../../src/distributions/dirichlet.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'
import { lgamma64, logGammaDerivative64 } from '../backend/special-reference.js'
import { expectKlMatchesMonteCarlo, expectPathwiseGradient } from './gamma-laws.js'
import { doubles, noLeakLaw, shapeLaws } from './laws.js'

const digamma64 = (x: number): number => logGammaDerivative64(1, x)
const sum = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0)
const logB64 = (a: readonly number[]): number => sum(a.map(lgamma64)) - lgamma64(sum(a))
const ref = (x: readonly number[], a: readonly number[]): number => sum(a.map((v, k) => (v - 1) * Math.log(x[k]!))) - logB64(a)
const entropy64 = (a: readonly number[]): number =>
  logB64(a) + (sum(a) - a.length) * digamma64(sum(a)) - sum(a.map((v) => (v - 1) * digamma64(v)))
const kl64 = (p: readonly number[], q: readonly number[]): number =>
  logB64(q) - logB64(p) + sum(p.map((v, k) => (v - q[k]!) * (digamma64(v) - digamma64(sum(p)))))
const rows = (xs: readonly number[], k: number): number[][] => Array.from({ length: xs.length / k }, (_, i) => xs.slice(i * k, (i + 1) * k))

/** A batch shape, K ∈ 2..4 and concentrations log-uniform in [0.1, 100], flat over [...batch, K]. */
const withParams = fc.tuple(smallShape, fc.integer({ min: 2, max: 4 })).chain(([batch, k]) => fc.record({
  batch: fc.constant(batch), k: fc.constant(k), a: doubles(sizeOf(batch) * k, -1, 2),
})).map(({ batch, k, a }) => ({ batch, k, a: a.map((u) => 10 ** u) }))

describe('dirichlet', () => {
  const cases = withParams.map((p) => ({ ...p, event: [p.k], make: () => dirichlet(t(p.a, [...p.batch, p.k])) }))
  shapeLaws(cases, { reparameterized: true, tag: 'Dirichlet', repeatable: 'sample' })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(cases, fc.nat(), (c, seed) => tf.tidy(() => {
      const d = c.make()
      const x = d.sample([3], seed)
      const alphas = rows(c.a, c.k)
      expectClose(read(d.logProb(x)), rows(read(x), c.k).map((r, i) => ref(r, alphas[i % alphas.length]!)), 1e-4, 2e-4)
    })), FC)
  })

  it('the density integrates to 1: K = 2 over logit x₁, K = 3 over the triangle', () => tf.tidy(() => {
    const g = simpsonGrid(-85, 0, 6000)
    const x = g.nodes.map((u) => 1 / (1 + Math.exp(-u)))
    const half = (a: number, b: number) => read(tf.exp(dirichlet([a, b]).logProb(t(x.flatMap((v) => [v, 1 - v]), [x.length, 2]))))
      .reduce((s, v, i) => s + v * x[i]! * (1 - x[i]!) * g.weights[i]!, 0)
    expect(half(0.4, 3) + half(3, 0.4)).toBeCloseTo(1, 4)
    // x₂ = (1 − x₁) s, dx₂ = (1 − x₁) ds, on a 200 × 200 Simpson grid
    const o = simpsonGrid(0, 1, 200)
    const pts = o.nodes.flatMap((x1) => o.nodes.map((s) => [x1, (1 - x1) * s, (1 - x1) * (1 - s)]))
    const p = read(tf.exp(dirichlet([2, 3, 4.5]).logProb(t(pts.flat(), [pts.length, 3]))))
    const total = p.reduce((acc, v, i) => {
      const [i1, i2] = [Math.floor(i / o.nodes.length), i % o.nodes.length]
      return acc + (Number.isFinite(v) ? v : 0) * (1 - o.nodes[i1]!) * o.weights[i1]! * o.weights[i2]!
    }, 0)
    expect(total).toBeCloseTo(1, 4)
  }))

  it('mean, variance and entropy equal their float64 closed forms (1e-4); sample moments match (CLT)', () => tf.tidy(() => {
    const a = [[0.2, 1, 4.5], [3, 30, 60]]
    const d = dirichlet(a)
    expectClose(read(d.mean), a.flatMap((r) => r.map((v) => v / sum(r))), 1e-5)
    expectClose(read(d.variance), a.flatMap((r) => r.map((v) => (v * (sum(r) - v)) / (sum(r) ** 2 * (sum(r) + 1)))), 1e-5)
    expectClose(read(d.entropy()), a.map(entropy64), 1e-4, 1e-6)
    expectMomentsMatch(d.sample([20000], 7).reshape([20000, 6]), read(d.mean), read(d.variance))
  }))

  it('KL: float64 closed form (1e-4), ≥ 0, exactly 0 for p = q, and equal to its Monte Carlo estimate', () => {
    fc.assert(fc.property(doubles(6, -1, 1.3), (u) => tf.tidy(() => {
      const p = u.slice(0, 3).map((v) => 10 ** v), q = u.slice(3).map((v) => 10 ** v)
      const got = read(klDirichletDirichlet(dirichlet(p), dirichlet(q)))[0]!
      expect(got).toBeGreaterThanOrEqual(0)
      expectClose([got], [kl64(p, q)], 1e-4, 2e-5)
      expect(read(klDirichletDirichlet(dirichlet(p), dirichlet(p)))).toEqual([0])
    })), FC)
    tf.tidy(() => {
      const p = dirichlet([[0.5, 3, 2], [20, 4, 9]]), q = dirichlet([[1, 2, 2], [25, 5, 5]])
      expectKlMatchesMonteCarlo(p, q, read(klDirichletDirichlet(p, q)))
    })
  })

  it('reparameterised: ∂E[c · x]/∂αⱼ = (cⱼ α₀ − c · α)/α₀² (pathwise, 5 standard errors)', () => {
    const av = [0.3, 2, 7], c = [1, 2, 3]
    const a0 = sum(av), ca = sum(av.map((v, k) => v * c[k]!))
    const a = t(av, [3])
    expectPathwiseGradient((seed, al) => tf.sum(tf.mul(tf.mean(dirichlet(al!).rsample([2000], seed), 0), c)), [a],
      [c.map((ck) => (ck * a0 - ca) / a0 ** 2)])
    a.dispose()
  })

  it('draws stay on the simplex with every component positive for tiny concentrations', () => tf.tidy(() => {
    const d = dirichlet([[1e-3, 1e-3, 1e-2], [1e3, 1e-2, 1]])
    const x = d.sample([2000], 1)
    expect(read(d.support.check(x)).every((v) => v === 1)).toBe(true)
    read(x).forEach((v) => expect(v > 0).toBe(true))
    read(d.logProb(d.sample([100], 2))).forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  noLeakLaw(() => {
    const a = t([0.5, 2, 1, 3, 1, 1], [2, 3]), x = t([0.2, 0.3, 0.5, 0.6, 0.3, 0.1], [2, 3])
    return {
      d: dirichlet(a), x, expandedOwns: (e) => [e.concentration],
      also: [() => dirichlet([1, 2]).concentration, () => klDirichletDirichlet(dirichlet(a), dirichlet(a)),
        () => tf.grad((u: tf.Tensor) => tf.sum(dirichlet(u).rsample([4])))(a)],
      dispose: [a, x],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => dirichlet(1)).toThrow(ShapeError)
    expect(() => dirichlet(1)).toThrow(/dirichlet: argument 'concentration' must have a last dim of at least 1 \(the event dim K\); got shape \[\] \(scalar\)/)
    expect(() => dirichlet([1, 0, 2])).toThrow(InvalidArgumentError)
    expect(() => dirichlet([1, -1])).toThrow(/dirichlet: argument 'concentration' must satisfy x > 0; got -1 at index \[1\]/)
    const d = dirichlet([1, 2, 3])
    expect(() => d.logProb(t([0.5, 0.6, 0.1], [3]))).toThrow(SupportError)
    expect(() => d.logProb(t([0.5, 0.5], [2]))).toThrow(/value of shape \[2\] does not fit/)
    expect(() => d.toEvent(1)).toThrow(ShapeError)
  })
})
