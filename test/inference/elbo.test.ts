import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { normal } from '../../src/distributions/normal.js'
import { factor, observe, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import { iwae } from '../../src/inference/iwae.js'
import { SiteError } from '../../src/inference/interpreter.js'
import type { Loss } from '../../src/inference/loss.js'
import type { SampleOptions } from '../../src/dsl/messages.js'
import { read, sampleMoments } from '../helpers.js'
import { LOG_EVIDENCE, POST_LOC, POST_SCALE, data, exactElbo, fixedGuide, guide, model } from './conjugate.js'

const ctx = (seed: number) => ({ seed, handlers: [], baselines: new Map() })

/** Per-seed estimates of the bound and its gradient in (loc, scale) for a fixed guide N(m, s). */
const estimates = (loss: Loss, m: number, s: number, seeds: number) => tf.tidy(() => {
  const x = data()
  const rows: number[][] = []
  for (let i = 0; i < seeds; i++) {
    const { value, grads } = tf.valueAndGrads((loc: tf.Tensor, scale: tf.Tensor) =>
      loss.estimate(model, fixedGuide(loc, scale), [x] as const, ctx(i)).surrogate)([tf.scalar(m), tf.scalar(s)])
    rows.push([read(value)[0]!, ...grads.map((g) => read(g)[0]!)])
  }
  return sampleMoments(tf.tensor2d(rows))
})

const within = (est: number, exact: number, variance: number, n: number, z = 5) =>
  expect(Math.abs(est - exact)).toBeLessThanOrEqual(z * Math.sqrt(variance / n) + 1e-4 * Math.abs(exact) + 1e-5)

describe('elbo on the Normal–Normal conjugate model', () => {
  it('with the exact posterior as guide, every single-particle ELBO equals log p(x) to 1e-4', () => tf.tidy(() => {
    for (const seed of [0, 1, 2]) {
      const b = elbo().estimate(model, guide({ loc: POST_LOC, scale: POST_SCALE }), [data()] as const, ctx(seed)).bound
      expect(Math.abs(read(b)[0]! - LOG_EVIDENCE)).toBeLessThan(1e-4 * Math.abs(LOG_EVIDENCE))
    }
  }))

  it.each([['mc', elbo()], ['auto', elbo({ kl: 'auto' })]] as const)('kl %s: the estimate and its gradient are unbiased (closed form, away from the optimum)', (_, loss) => {
    const [m, s, n] = [0.2, 1.5, 400]
    const est = estimates(loss, m, s, n)
    const exact = exactElbo(m, s)
    within(est.mean[0]!, exact.value, est.variance[0]!, n)
    within(est.mean[1]!, exact.dm, est.variance[1]!, n)
    within(est.mean[2]!, exact.ds, est.variance[2]!, n)
  })

  it('at the exact posterior the expected gradient is zero', () => {
    const est = estimates(elbo({ kl: 'auto' }), POST_LOC, POST_SCALE, 400)
    within(est.mean[1]!, 0, est.variance[1]!, 400)
    within(est.mean[2]!, 0, est.variance[2]!, 400)
  })

  it('at the exact posterior the Monte Carlo ELBO has zero variance (log p(x, z) − log q(z) is constant)', () => {
    const est = estimates(elbo(), POST_LOC, POST_SCALE, 50)
    expect(est.variance[0]!).toBeLessThan(1e-8)
  })
})

describe('elbo: analytic KL', () => {
  // A VAE-like case: 20 latent dims, one of them observed; q far from the prior.
  const D = 20
  const wide = (x: tf.Tensor) => gen(function* () {
    const z = yield* sample('z', normal(tf.zeros([D]), 1).toEvent(1))
    yield* observe('x', normal(tf.slice(z, [0], [1]), 1).toEvent(1), x)
  })
  const wideGuide = (_x: tf.Tensor) => gen(function* () { yield* sample('z', normal(tf.fill([D], 0.3), 0.7).toEvent(1)) })
  const bounds = (loss: Loss, n: number) => tf.tidy(() => {
    const x = tf.tensor1d([0.5])
    return sampleMoments(tf.tensor2d(Array.from({ length: n }, (_, i) => [read(loss.estimate(wide, wideGuide, [x] as const, ctx(i)).bound)[0]!])))
  })

  it('agrees with Monte Carlo KL in expectation and has lower variance where latents are weakly observed (measured)', () => {
    const n = 400
    const mc = bounds(elbo(), n), auto = bounds(elbo({ kl: 'auto' }), n)
    const se = Math.sqrt(mc.variance[0]! / n + auto.variance[0]! / n)
    expect(Math.abs(mc.mean[0]! - auto.mean[0]!)).toBeLessThan(5 * se)
    expect(auto.variance[0]!).toBeLessThan(mc.variance[0]! / 4)
  })
})

describe('elbo: discrete latents and the score function', () => {
  // z ~ Bernoulli(0.3); x | z ~ N(2z, 1), x = 1.5; guide q(z) = Bernoulli(σ(θ)).
  const bModel = (x: tf.Tensor) => gen(function* () {
    const z = yield* sample('z', bernoulli({ probs: 0.3 }))
    yield* observe('x', normal(tf.mul(z, 2), 1), x)
  })
  const bGuide = (theta: tf.Tensor, options: SampleOptions = {}) => (_x: tf.Tensor) => gen(function* () { yield* sample('z', bernoulli({ logits: theta }), options) })
  /** Exact d ELBO / dθ by enumerating z ∈ {0, 1}. */
  const exactGrad = (theta: number) => {
    const q1 = 1 / (1 + Math.exp(-theta))
    const logp = (z: number) => Math.log(z ? 0.3 : 0.7) - 0.5 * Math.log(2 * Math.PI) - 0.5 * (1.5 - 2 * z) ** 2
    const f = (z: number, q: number) => logp(z) - Math.log(z ? q : 1 - q)
    // ELBO(θ) = q1 f(1) + (1 − q1) f(0); d/dθ via dq1/dθ = q1(1 − q1) (the −log q terms' own derivatives cancel in expectation)
    return q1 * (1 - q1) * (f(1, q1) - f(0, q1))
  }
  const gradients = (theta: number, options: SampleOptions, n: number) => tf.tidy(() => {
    const x = tf.scalar(1.5)
    const gs: number[] = []
    for (let i = 0; i < n; i++) {
      const g = tf.grad((t: tf.Tensor) => elbo().estimate(bModel, bGuide(t, options), [x] as const, ctx(i)).surrogate)(tf.scalar(theta))
      gs.push(read(g)[0]!)
    }
    return sampleMoments(tf.tensor2d(gs, [n, 1]))
  })

  it('the score-function gradient matches the enumerated gradient within its standard error', () => {
    const g = gradients(0.4, {}, 600)
    within(g.mean[0]!, exactGrad(0.4), g.variance[0]!, 600)
  })

  it('a per-site baseline near the ELBO reduces the gradient variance (measured)', () => {
    const without = gradients(0.4, {}, 400)
    const exactValue = -2.2 // ≈ ELBO at θ = 0.4, a good baseline
    const withBaseline = gradients(0.4, { baseline: { value: exactValue } }, 400)
    within(withBaseline.mean[0]!, exactGrad(0.4), withBaseline.variance[0]!, 400)
    expect(withBaseline.variance[0]!).toBeLessThan(without.variance[0]! / 2)
  })

  it('the bound is the ELBO estimate, not the surrogate: log p(x, z) − log q(z) at the drawn z', () => tf.tidy(() => {
    const est = elbo().estimate(bModel, bGuide(tf.scalar(0.4)), [tf.scalar(1.5)] as const, ctx(3))
    const q1 = 1 / (1 + Math.exp(-0.4))
    const values = [0, 1].map((z) => Math.log(z ? 0.3 : 0.7) - 0.5 * Math.log(2 * Math.PI) - 0.5 * (1.5 - 2 * z) ** 2 - Math.log(z ? q1 : 1 - q1))
    const b = read(est.bound)[0]!
    expect(Math.min(...values.map((v) => Math.abs(v - b)))).toBeLessThan(1e-5)
  }))

  it('reparameterizedOnly rejects a score-function guide, naming the site', () => tf.tidy(() => {
    const loss = elbo({ reparameterizedOnly: true })
    expect(() => loss.estimate(bModel, bGuide(tf.scalar(0)), [tf.scalar(1.5)] as const, ctx(0))).toThrow(SiteError)
    expect(() => loss.estimate(bModel, bGuide(tf.scalar(0)), [tf.scalar(1.5)] as const, ctx(0))).toThrow(/guide site 'z' \(bernoulli\) is not reparameterised/)
  }))
})

describe('elbo: validity', () => {
  const m = (x: tf.Tensor) => gen(function* () {
    const z = yield* sample('z', normal(0, 1))
    yield* observe('x', normal(z, 1), x)
    yield* factor('reg', tf.scalar(-1))
  })
  it('factor terms enter the bound as they are', () => tf.tidy(() => {
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('z', normal(0, 1)) })
    const withFactor = read(elbo().estimate(m, g, [tf.scalar(0)] as const, ctx(0)).bound)[0]!
    const noFactor = read(elbo().estimate((x: tf.Tensor) => gen(function* () {
      const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), x)
    }), g, [tf.scalar(0)] as const, ctx(0)).bound)[0]!
    expect(withFactor - noFactor).toBeCloseTo(-1, 5)
  }))
  it('a guide factor is part of log q: it enters the bound negated (elbo and iwae(1) alike)', () => tf.tidy(() => {
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('z', normal(0, 1)) })
    const gf = (_x: tf.Tensor) => gen(function* () { yield* sample('z', normal(0, 1)); yield* factor('q_extra', tf.scalar(0.75)) })
    for (const loss of [elbo(), iwae(1)]) {
      const plain = read(loss.estimate(m, g, [tf.scalar(0)] as const, ctx(0)).bound)[0]!
      const withGuideFactor = read(loss.estimate(m, gf, [tf.scalar(0)] as const, ctx(0)).bound)[0]!
      expect(withGuideFactor - plain).toBeCloseTo(-0.75, 5)
    }
  }))

  it('a guide missing a latent site is a SiteError naming it', () => tf.tidy(() => {
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('w', normal(0, 1)) })
    expect(() => elbo().estimate(m, g, [tf.scalar(0)] as const, ctx(0))).toThrow(/the model's latent site 'z' is not sampled by the guide; the guide samples 'w'/)
  }))
  it('a guide sampling a site the model lacks is a SiteError naming it', () => tf.tidy(() => {
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('z', normal(0, 1)); yield* sample('extra', normal(0, 1)) })
    expect(() => elbo().estimate(m, g, [tf.scalar(0)] as const, ctx(0))).toThrow(/the guide samples site 'extra', which the model does not have/)
  }))
  it('an observation of the wrong shape names the site', () => tf.tidy(() => {
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('z', normal(0, 1)) })
    expect(() => elbo().estimate(m, g, [tf.zeros([3, 2])] as const, ctx(0))).not.toThrow()
    const strict = (x: tf.Tensor) => gen(function* () {
      const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(tf.broadcastTo(z, [3]), 1).toEvent(1), x)
    })
    expect(() => elbo().estimate(strict, g, [tf.zeros([2])] as const, ctx(0))).toThrow(/site 'x' \(observed\): normal.logProb: value of shape \[2\] does not fit/)
  }))
})
