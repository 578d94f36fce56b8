import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { categorical } from '../../src/distributions/categorical.js'
import type { Distribution } from '../../src/distributions/distribution.js'
import { hasKl, kl, registerKl } from '../../src/distributions/kl.js'
import { laplace } from '../../src/distributions/laplace.js'
import { multivariateNormal } from '../../src/distributions/multivariate-normal.js'
import { normal } from '../../src/distributions/normal.js'
import { oneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import { uniform } from '../../src/distributions/uniform.js'
import { ShapeError } from '../../src/errors.js'
import { FC, expectNoLeak, read, t } from '../helpers.js'

const B = 3 // batch size of every pair below
const vec = (min: number, max: number, n = B) => fc.array(fc.double({ min, max, noNaN: true }), { minLength: n, maxLength: n })

/** A pair (p, q) of one family with random parameters, batch shape [B]. */
interface PairCase {
  readonly name: string
  readonly arb: fc.Arbitrary<readonly [() => Distribution, () => Distribution]>
}

const locScale = (make: (loc: tf.Tensor, scale: tf.Tensor) => Distribution) =>
  fc.tuple(vec(-3, 3), vec(-1, 1), vec(-3, 3), vec(-1, 1)).map(([l1, s1, l2, s2]) => [
    () => make(t(l1, [B]), t(s1.map(Math.exp), [B])), () => make(t(l2, [B]), t(s2.map(Math.exp), [B]))] as const)

const logitsK = (make: (logits: tf.Tensor) => Distribution, k: number) =>
  fc.tuple(vec(-4, 4, B * k), vec(-4, 4, B * k)).map(([a, b]) => [() => make(t(a, [B, k])), () => make(t(b, [B, k]))] as const)

const CASES: PairCase[] = [
  { name: 'Normal', arb: locScale((l, s) => normal(l, s)) },
  { name: 'Laplace', arb: locScale((l, s) => laplace(l, s)) },
  { name: 'Bernoulli', arb: fc.tuple(vec(-5, 5), vec(-5, 5)).map(([a, b]) => [() => bernoulli({ logits: t(a, [B]) }), () => bernoulli({ logits: t(b, [B]) })] as const) },
  { name: 'Categorical', arb: logitsK((l) => categorical({ logits: l }), 4) },
  { name: 'OneHotCategorical', arb: logitsK((l) => oneHotCategorical({ logits: l }), 4) },
  // q's interval covers p's: [lo − a, hi + b] ⊇ [lo, hi]
  { name: 'Uniform', arb: fc.tuple(vec(-2, 2), vec(0.1, 2), vec(0, 1), vec(0, 1)).map(([lo, w, a, b]) => [
    () => uniform(t(lo, [B]), t(lo.map((v, i) => v + w[i]!), [B])),
    () => uniform(t(lo.map((v, i) => v - a[i]!), [B]), t(lo.map((v, i) => v + w[i]! + b[i]!), [B]))] as const) },
  { name: 'Independent(Normal)', arb: locScale((l, s) => normal(l, s).toEvent(1)) },
]

/** Monte Carlo KL: mean of log p(x) − log q(x) over n draws of p, and its standard error. */
const mcKl = (p: Distribution, q: Distribution, n: number, seed: number) => tf.tidy(() => {
  const x = p.sample([n], seed)
  const d = tf.sub(p.logProb(x), q.logProb(x))
  const { mean, variance } = tf.moments(d, 0)
  return { mean: read(mean), se: read(tf.sqrt(tf.div(variance, n))) }
})

describe.each(CASES)('kl($name)', ({ arb }) => {
  it('has a closed form, KL(p‖q) ≥ 0 and KL(p‖p) = 0', () => {
    fc.assert(fc.property(arb, ([mp, mq]) => tf.tidy(() => {
      const p = mp(), q = mq()
      expect(hasKl(p, q)).toBe(true)
      read(kl(p, q)!).forEach((v) => expect(v).toBeGreaterThanOrEqual(-1e-5))
      read(kl(p, p)!).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5))
    })), FC)
  })

  it('agrees with its Monte Carlo estimate within 5 standard errors', () => {
    fc.assert(fc.property(arb, fc.nat(), ([mp, mq], seed) => tf.tidy(() => {
      const p = mp(), q = mq()
      const exact = read(kl(p, q)!)
      const { mean, se } = mcKl(p, q, 4000, seed)
      exact.forEach((v, i) => expect(Math.abs(v - mean[i]!)).toBeLessThanOrEqual(5 * se[i]! + 1e-4 * Math.abs(v) + 1e-5))
    })), { ...FC, numRuns: 10 })
  })

  it('leaves numTensors unchanged', () => {
    const [mp, mq] = fc.sample(arb, { numRuns: 1, seed: 1 })[0]!
    const p = mp(), q = mq()
    expectNoLeak(() => kl(p, q))
  })
})

describe('kl registry', () => {
  it('uniform KL is +∞ when q does not cover p', () => tf.tidy(() => {
    expect(read(kl(uniform(0, 2), uniform(1, 3))!)).toEqual([Infinity])
  }))

  it('returns undefined for a pair with no closed form', () => tf.tidy(() => {
    expect(kl(normal(0, 1), bernoulli({ logits: 0 }))).toBeUndefined()
    expect(kl(normal([0, 0], 1).toEvent(1), laplace([0, 0], 1).toEvent(1))).toBeUndefined()
  }))

  it('is open: a registered pair is used', () => tf.tidy(() => {
    expect(hasKl(laplace(0, 1), normal(0, 1))).toBe(false)
    registerKl<Distribution, Distribution>('Laplace', 'Normal', (p) => tf.fill([...p.batchShape], 42))
    expect(read(kl(laplace(0, 1), normal(0, 1))!)).toEqual([42])
  }))

  it('rejects mismatched event shapes with a named error', () => tf.tidy(() => {
    expect(() => kl(normal([0, 0], 1).toEvent(1), normal(0, 1))).toThrow(ShapeError)
    expect(() => kl(normal([0, 0], 1).toEvent(1), normal(0, 1))).toThrow(/event shapes differ: \[2\] vs \[\] \(scalar\)/)
  }))

  it('an Independent p dispatches on its base and rank: diagonal Normal vectors against an MVN, and nothing for other bases', () => tf.tidy(() => {
    const q = multivariateNormal(tf.tensor1d([0.5, -1]), { covariance: tf.tensor2d([[2, 0.3], [0.3, 1]]) })
    const p = normal(tf.tensor1d([0.1, 0.2]), tf.tensor1d([0.7, 1.3])).toEvent(1)
    expect(hasKl(p, q)).toBe(true)
    // The same KL through the MVN/MVN pair, with p written as a diagonal MVN.
    const pm = multivariateNormal(tf.tensor1d([0.1, 0.2]), { scaleTril: tf.tensor2d([[0.7, 0], [0, 1.3]]) })
    expect(read(kl(p, q)!)[0]).toBeCloseTo(read(kl(pm, q)!)[0]!, 5)
    expect(hasKl(bernoulli({ probs: tf.tensor1d([0.2, 0.4]) }).toEvent(1), q)).toBe(false)
    expect(hasKl(normal(tf.zeros([2, 2]), 1).toEvent(2), q)).toBe(false)
  }))
})
