/**
 * autoNormal and autoDelta (Pyro's AutoNormal, AutoDelta) against closed-form posteriors:
 * a Normal–Normal model (mean within 0.1 posterior sd, sd within 10%), a positive site
 * through exp, MAP = posterior mode, local latents of a subsampled plate with per-element
 * params indexed by the subsample, init strategies and median.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { logNormal } from '../../../src/distributions/log-normal.js'
import { normal } from '../../../src/distributions/normal.js'
import { observe, plate, sample } from '../../../src/dsl/primitives.js'
import { gen } from '../../../src/dsl/program.js'
import { InvalidArgumentError } from '../../../src/errors.js'
import { initToMean, initToValue } from '../../../src/inference/autoguide/init.js'
import { autoDelta, autoNormal, guideList, probit } from '../../../src/inference/autoguide/mean-field.js'
import { elbo } from '../../../src/inference/elbo.js'
import { svi } from '../../../src/inference/svi.js'
import { read } from '../../helpers.js'

const X = [2.1, 3.4, 1.7, 2.9, 3.8, 2.2, 3.1, 2.6]
const N = X.length
/** mu ~ N(0, 10), x_i ~ N(mu, 1): posterior N(Σx / (N + 1/100), 1 / √(N + 1/100)). */
const model = (x: tf.Tensor) => gen(function* () {
  const mu = yield* sample('mu', normal(0, 10))
  yield* plate('data', N, {}, () => gen(function* () { yield* observe('x', normal(mu, 1), x) }))
})
const PREC = N + 1 / 100
const POST_MEAN = X.reduce((a, b) => a + b, 0) / PREC
const POST_SD = 1 / Math.sqrt(PREC)

const fitted = (guide: ReturnType<typeof autoNormal<[tf.Tensor], never>> | ReturnType<typeof autoDelta<[tf.Tensor], never>>, steps: number, lr: number, particles = 8) => {
  const x = tf.tensor1d(X)
  const s = svi({ optimizer: tf.train.adam(lr), loss: elbo({ numParticles: particles }), seed: 3 })
  for (let i = 0; i < steps; i++) s.step(model, guide as never, x)
  x.dispose()
  return s
}

describe('autoNormal', () => {
  it('recovers the Normal–Normal posterior: mean within 0.1 posterior sd, sd within 10%', () => {
    const guide = autoNormal(model)
    const x = tf.tensor1d(X)
    const s = svi({ optimizer: tf.train.adam(0.02), loss: elbo({ numParticles: 16 }), seed: 3 })
    for (let i = 0; i < 1500; i++) s.step(model, guide, x)
    const fine = svi({ optimizer: tf.train.adam(0.002), loss: elbo({ numParticles: 64 }), seed: 4, params: s.params })
    for (let i = 0; i < 500; i++) fine.step(model, guide, x)
    const loc = read(s.params.value('auto.mu.loc')!)[0]!, scale = read(s.params.value('auto.mu.scale')!)[0]!
    expect(Math.abs(loc - POST_MEAN)).toBeLessThan(0.1 * POST_SD)
    expect(Math.abs(scale - POST_SD) / POST_SD).toBeLessThan(0.1)
    expect(read(guide.median(s.params).mu!)[0]).toBeCloseTo(loc, 6)
    s.params.dispose(); x.dispose()
  })

  it('maps a positive site through exp: its draws stay positive and the fit lands on the log-normal posterior mode region', () => {
    // sigma ~ LogNormal(0, 1), x_i ~ N(0, sigma): the sample sd of X around 0 is ≈ 2.9.
    const m = (x: tf.Tensor) => gen(function* () {
      const sigma = yield* sample('sigma', logNormal(0, 1))
      yield* plate('data', N, {}, () => gen(function* () { yield* observe('x', normal(0, sigma), x) }))
    })
    const guide = autoNormal(m)
    const x = tf.tensor1d(X)
    const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo({ numParticles: 8 }), seed: 1 })
    const losses = Array.from({ length: 600 }, () => s.step(m, guide, x))
    expect(losses.every(Number.isFinite)).toBe(true)
    const med = read(guide.median(s.params).sigma!)[0]!
    const rms = Math.sqrt(X.reduce((a, v) => a + v * v, 0) / N)
    expect(med).toBeGreaterThan(0.7 * rms)
    expect(med).toBeLessThan(1.3 * rms)
    s.params.dispose(); x.dispose()
  })

  it('gives local latents of a subsampled plate one param per element, indexed by the subsample', () => {
    const M = 10
    const xs = tf.linspace(-2, 2, M)
    const local = (x: tf.Tensor) => plate('data', M, { subsampleSize: 4 }, (idx) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 0.5), tf.gather(x, idx))
    }))
    const guide = autoNormal(local)
    const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo({ numParticles: 16 }), seed: 2 })
    for (let i = 0; i < 600; i++) s.step(local, guide, xs)
    const fine = svi({ optimizer: tf.train.adam(0.005), loss: elbo({ numParticles: 16 }), seed: 5, params: s.params })
    for (let i = 0; i < 400; i++) fine.step(local, guide, xs)
    const loc = read(s.params.value('auto.z.loc')!)
    expect(loc).toHaveLength(M)
    // Posterior of z_i: precision 1 + 4, mean 4 x_i / 5 = 0.8 x_i, sd 0.447; every element was visited. 0.1 ≈ 0.22 posterior sd.
    read(xs).forEach((xi, i) => expect(Math.abs(loc[i]! - 0.8 * xi)).toBeLessThan(0.1))
    s.params.dispose(); xs.dispose()
  })

  it('init strategies set the initial location (constrained values), and a value of another shape is named', () => {
    const x = tf.tensor1d(X)
    const s = svi({ optimizer: tf.train.sgd(0), loss: elbo(), seed: 0 })
    s.init(model, autoNormal(model, { init: initToValue({ mu: tf.scalar(1.5) }) }), x)
    expect(read(s.params.value('auto.mu.loc')!)[0]).toBeCloseTo(1.5, 6)
    expect(read(s.params.value('auto.mu.scale')!)[0]).toBeCloseTo(0.1, 6)
    const t = svi({ optimizer: tf.train.sgd(0), loss: elbo(), seed: 0 })
    t.init(model, autoNormal(model, { init: initToMean() }), x)
    expect(read(t.params.value('auto.mu.loc')!)[0]).toBeCloseTo(0, 6)
    const u = svi({ optimizer: tf.train.sgd(0), loss: elbo(), seed: 0 })
    expect(() => u.init(model, autoNormal(model, { init: initToValue({ mu: tf.zeros([2]) }) }), x)).toThrow(InvalidArgumentError)
    expect(() => u.init(model, autoNormal(model, { init: initToValue({ mu: tf.zeros([2]) }) }), x)).toThrow(/initToValue: the value for site 'mu' has shape \[2\]/)
    s.params.dispose(); t.params.dispose(); u.params.dispose(); x.dispose()
  })
})

describe('autoDelta', () => {
  it('finds the MAP estimate: the posterior mode of the Normal–Normal model', () => {
    const guide = autoDelta(model)
    const s = fitted(guide as never, 1500, 0.05, 1)
    expect(Math.abs(read(guide.median(s.params).mu!)[0]! - POST_MEAN)).toBeLessThan(0.01)
    s.params.dispose()
  })
})

describe('quantiles, site selection and guide lists', () => {
  it('probit matches float64 reference quantiles of the standard normal', () => {
    // Φ⁻¹ at 0.5, 0.975, 0.001, 0.9 (float64 values).
    expect(probit(0.5)).toBeCloseTo(0, 12)
    expect(probit(0.975)).toBeCloseTo(1.959963984540054, 8)
    expect(probit(0.001)).toBeCloseTo(-3.090232306167813, 8)
    expect(probit(0.9)).toBeCloseTo(1.2815515655446004, 8)
    expect(() => probit(1)).toThrow(/each q must lie in \(0, 1\)/)
  })

  it('quantiles are T(loc + scale·Φ⁻¹(q)) in constrained space, stacked over q; autoDelta gives its point for every q', () => {
    const m = (x: tf.Tensor) => gen(function* () {
      const sigma = yield* sample('sigma', logNormal(0, 1))
      yield* plate('data', N, {}, () => gen(function* () { yield* observe('x', normal(0, sigma), x) }))
    })
    const x = tf.tensor1d(X)
    const guide = autoNormal(m)
    const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 1 })
    for (let i = 0; i < 20; i++) s.step(m, guide, x)
    const loc = read(s.params.value('auto.sigma.loc')!)[0]!, scale = read(s.params.value('auto.sigma.scale')!)[0]!
    const q = read(guide.quantiles(s.params, [0.1, 0.5, 0.9]).sigma!)
    expect(q).toHaveLength(3)
    ;[0.1, 0.5, 0.9].forEach((p, i) => expect(q[i]).toBeCloseTo(Math.exp(loc + scale * probit(p)), 4))
    const d = autoDelta(m)
    const t = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 1 })
    t.step(m, d, x)
    const point = read(d.median(t.params).sigma!)[0]!
    expect(read(d.quantiles(t.params, [0.1, 0.9]).sigma!)).toEqual([point, point])
    s.params.dispose(); t.params.dispose(); x.dispose()
  })

  it('a hand-written guide for some sites and autoNormal for the rest, as one guide (Pyro\'s AutoGuideList + block)', () => {
    // mu ~ N(0, 10), z_i ~ N(mu, 1), x_i ~ N(z_i, 0.5): z by hand (one param per point), mu by autoNormal.
    const m = (x: tf.Tensor) => gen(function* () {
      const mu = yield* sample('mu', normal(0, 10))
      yield* plate('data', N, {}, () => gen(function* () {
        const z = yield* sample('z', normal(mu, 1))
        yield* observe('x', normal(z, 0.5), x)
      }))
    })
    const local = (x: tf.Tensor) => plate('data', N, {}, () => gen(function* () {
      yield* sample('z', normal(tf.mul(x, 0.8), 0.45))
    }))
    const guide = guideList(local, autoNormal(m, { sites: { hide: ['z'] } }))
    const x = tf.tensor1d(X)
    const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo({ numParticles: 8 }), seed: 1 })
    for (let i = 0; i < 300; i++) s.step(m, guide, x)
    const fine = svi({ optimizer: tf.train.adam(0.005), loss: elbo({ numParticles: 32 }), seed: 2, params: s.params })
    for (let i = 0; i < 200; i++) fine.step(m, guide, x)
    expect(s.params.entries().map((e) => e.name).sort()).toEqual(['auto.mu.loc', 'auto.mu.scale'])
    // Given q(z_i) = N(0.8 x_i, ·), the ELBO's optimum for mu's location is Σ E[z_i] / (N + 1/100) = 0.8 Σ x_i / (N + 0.01);
    // q(mu)'s sd is then 1/√(N + 0.01) ≈ 0.35; after a fine phase (32 particles, lr 0.005) the location is within ±0.1.
    const mu = read(s.params.value('auto.mu.loc')!)[0]!
    expect(Math.abs(mu - 0.8 * X.reduce((a, b) => a + b, 0) / (N + 0.01))).toBeLessThan(0.1)
    s.params.dispose(); x.dispose()
  })
})
