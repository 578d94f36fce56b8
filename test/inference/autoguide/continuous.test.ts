/**
 * autoMultivariateNormal and autoLowRankMultivariateNormal (Pyro's AutoContinuous): a correlated
 * posterior recovered (Bayesian linear regression, closed form) where autoNormal cannot; the ELBO
 * of fixed params against a float64 formula for fixed draws (the auxiliary site counted once, the
 * log-Jacobian with its sign), looped and vectorised particles (u of shape [K, 1, D] unpacked to
 * each site's shape), low rank = D as full rank, init, median and quantiles, named errors; and
 * auxiliary guide sites under coverage, every estimator and the warnings.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { subSeed } from '../../../src/backend/seed.js'
import { transformTo } from '../../../src/distributions/biject.js'
import { bernoulli } from '../../../src/distributions/bernoulli.js'
import * as constraints from '../../../src/distributions/constraints.js'
import { logNormal } from '../../../src/distributions/log-normal.js'
import { normal } from '../../../src/distributions/normal.js'
import { observe, plate, sample } from '../../../src/dsl/primitives.js'
import { gen } from '../../../src/dsl/program.js'
import { InvalidArgumentError } from '../../../src/errors.js'
import { autoLowRankMultivariateNormal, autoMultivariateNormal } from '../../../src/inference/autoguide/continuous.js'
import { initToValue } from '../../../src/inference/autoguide/init.js'
import { autoNormal, guideList, probit } from '../../../src/inference/autoguide/mean-field.js'
import { elbo } from '../../../src/inference/elbo.js'
import { SiteError } from '../../../src/inference/interpreter.js'
import { iwae } from '../../../src/inference/iwae.js'
import type { ProgramFn } from '../../../src/inference/loss.js'
import { paramStore } from '../../../src/inference/params.js'
import type { ParamStore } from '../../../src/inference/params.js'
import { vectorizedTraces } from '../../../src/inference/particles.js'
import { traceReplayed } from '../../../src/inference/replayed.js'
import { svi } from '../../../src/inference/svi.js'
import type { SampleSite, Trace } from '../../../src/inference/trace.js'
import type { TfpplWarning } from '../../../src/inference/warnings.js'
import { expectClose, read } from '../../helpers.js'

// -------------------------------------------------------------------------------------
// float64 references
// -------------------------------------------------------------------------------------

const LOG_2PI = Math.log(2 * Math.PI)
const normalLp = (x: number, m: number, s: number): number => -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI
const logNormalLp = (x: number, m: number, s: number): number => normalLp(Math.log(x), m, s) - Math.log(x)

/** log N(u; m, L Lᵀ) by forward substitution. */
const mvnLp = (u: readonly number[], m: readonly number[], l: readonly number[]): number => {
  const n = u.length, z: number[] = []
  for (let i = 0; i < n; i++) {
    let s = u[i]! - m[i]!
    for (let j = 0; j < i; j++) s -= l[i * n + j]! * z[j]!
    z.push(s / l[i * n + i]!)
  }
  return -0.5 * z.reduce((a, v) => a + v * v, 0) - Array.from({ length: n }, (_, i) => Math.log(l[i * n + i]!)).reduce((a, b) => a + b, 0) - 0.5 * n * LOG_2PI
}

/** L Lᵀ of a row-major n × n matrix. */
const outer = (l: readonly number[], n: number): number[] =>
  Array.from({ length: n * n }, (_, k) => { const [i, j] = [Math.floor(k / n), k % n]; let s = 0; for (let r = 0; r < n; r++) s += l[i * n + r]! * l[j * n + r]!; return s })

// -------------------------------------------------------------------------------------
// Bayesian linear regression: a, b ~ N(0, 10), y_i ~ N(a + b x_i, 0.5), a correlated posterior
// -------------------------------------------------------------------------------------

const XS = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]
const YS = [1.9, 2.1, 2.8, 3.1, 3.2, 3.9, 4.1, 4.6]
const SIGMA = 0.5
const regression = (x: tf.Tensor, y: tf.Tensor) => gen(function* () {
  const a = yield* sample('a', normal(0, 10))
  const b = yield* sample('b', normal(0, 10))
  yield* plate('data', XS.length, {}, () => gen(function* () { yield* observe('y', normal(tf.add(a, tf.mul(b, x)), SIGMA), y) }))
})

/** The exact posterior: precision P = XᵀX/σ² + I/100, covariance P⁻¹, mean P⁻¹ Xᵀy/σ². */
const POSTERIOR = (() => {
  const s2 = SIGMA * SIGMA, sum = (f: (i: number) => number) => XS.reduce((acc, _, i) => acc + f(i), 0)
  const p = [sum(() => 1) / s2 + 0.01, sum((i) => XS[i]!) / s2, sum((i) => XS[i]!) / s2, sum((i) => XS[i]! ** 2) / s2 + 0.01]
  const det = p[0]! * p[3]! - p[1]! * p[2]!
  const cov = [p[3]! / det, -p[1]! / det, -p[2]! / det, p[0]! / det]
  const r = [sum((i) => YS[i]!) / s2, sum((i) => XS[i]! * YS[i]!) / s2]
  return { mean: [cov[0]! * r[0]! + cov[1]! * r[1]!, cov[2]! * r[0]! + cov[3]! * r[1]!], cov, corr: cov[1]! / Math.sqrt(cov[0]! * cov[3]!), precDiag: [p[0]!, p[3]!] }
})()

type Guide = ProgramFn<[tf.Tensor, tf.Tensor]>

/**
 * Adam at lr 0.05 with 16 vectorised particles, then lr 0.001 with 64: over seeds 3, 5, 7 the fit
 * ends within 0.03 posterior sd of the mean and 5% of each variance (the tolerances are 0.1 and 10%).
 */
const fitRegression = (guide: Guide): ParamStore => {
  const [x, y] = [tf.tensor1d(XS), tf.tensor1d(YS)]
  const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo({ numParticles: 16 }), seed: 3 })
  for (let i = 0; i < 1500; i++) s.step(regression, guide as never, x, y)
  const fine = svi({ optimizer: tf.train.adam(0.001), loss: elbo({ numParticles: 64 }), seed: 4, params: s.params })
  for (let i = 0; i < 600; i++) fine.step(regression, guide as never, x, y)
  tf.dispose([x, y])
  return s.params
}

const expectPosterior = (mean: readonly number[], cov: readonly number[]): void => {
  const { mean: m, cov: c, corr } = POSTERIOR
  ;[0, 1].forEach((i) => expect(Math.abs(mean[i]! - m[i]!)).toBeLessThan(0.1 * Math.sqrt(c[3 * i]!)))
  ;[0, 3].forEach((k) => expect(Math.abs(cov[k]! - c[k]!) / c[k]!).toBeLessThan(0.1))
  const r = cov[1]! / Math.sqrt(cov[0]! * cov[3]!)
  expect(Math.abs(r - corr) / Math.abs(corr)).toBeLessThan(0.1)
}

describe('autoMultivariateNormal', () => {
  it('recovers the correlated posterior of a Bayesian linear regression (mean within 0.1 sd, covariance within 10%), where autoNormal cannot', () => {
    expect(POSTERIOR.corr).toBeLessThan(-0.8)   // the case worth a full covariance
    const guide = autoMultivariateNormal(regression)
    const params = fitRegression(guide)
    const mean = read(params.value('auto.loc')!), l = read(params.value('auto.scaleTril')!)
    expectPosterior(mean, outer(l, 2))
    expect(read(guide.median(params).a!)[0]).toBeCloseTo(mean[0]!, 6)
    params.dispose()
    // Mean field: the ELBO's optimum has sd 1/√P_ii (closed form), far below the marginal sd √Σ_ii when |ρ| is large.
    const mf = autoNormal(regression)
    const s = svi({ optimizer: tf.train.adam(0.03), loss: elbo({ numParticles: 16 }), seed: 3 })
    const [x, y] = [tf.tensor1d(XS), tf.tensor1d(YS)]
    for (let i = 0; i < 1500; i++) s.step(regression, mf, x, y)
    ;(['a', 'b'] as const).forEach((site, i) => {
      const sd = read(s.params.value(`auto.${site}.scale`)!)[0]!
      expect(Math.abs(sd * Math.sqrt(POSTERIOR.precDiag[i]!) - 1)).toBeLessThan(0.15)
      expect(sd).toBeLessThan(0.6 * Math.sqrt(POSTERIOR.cov[3 * i]!))
    })
    s.params.dispose(); tf.dispose([x, y])
  }, 150_000)   // a few thousand SVI steps: ≈ 25 s alone, over 60 s on a loaded 2-core machine

  it('creates <prefix>.loc at the unconstrained init values and <prefix>.scaleTril = initScale · I', () => {
    const x = tf.scalar(0.7)
    const s = svi({ optimizer: tf.train.sgd(0), loss: elbo(), seed: 0 })
    s.init(tiny, autoMultivariateNormal(tiny, { init: initToValue({ a: tf.scalar(0.3), s: tf.scalar(2) }), initScale: 0.25, prefix: 'q' }), x)
    expect(s.params.entries().map((e) => e.name)).toEqual(['q.loc', 'q.scaleTril'])
    expectClose(read(s.params.value('q.loc')!), [0.3, Math.log(2)], 1e-6)
    expect(read(s.params.value('q.scaleTril')!)).toEqual([0.25, 0, 0, 0.25])
    s.params.dispose(); x.dispose()
  })
})

// -------------------------------------------------------------------------------------
// the bound of fixed params, against float64 for the same draws
// -------------------------------------------------------------------------------------

/** a ~ N(0, 2), s ~ LogNormal(0, 1) (mapped by exp), x ~ N(a, s). */
const tiny = (x: tf.Tensor) => gen(function* () {
  const a = yield* sample('a', normal(0, 2))
  const s = yield* sample('s', logNormal(0, 1))
  yield* observe('x', normal(a, s), x)
})
const X0 = 0.7
/** log p(a, s, x) − log q(u) + u₁: the auxiliary site counted once, z = (u₀, exp u₁) with log |det J| = u₁. */
const tinyTerm = (u: readonly number[], m: readonly number[], l: readonly number[]): number =>
  normalLp(u[0]!, 0, 2) + logNormalLp(Math.exp(u[1]!), 0, 1) + normalLp(X0, u[0]!, Math.exp(u[1]!)) - (mvnLp(u, m, l) - u[1]!)

/** The store after a few Adam steps from the init, so that L has off-diagonal entries. */
const trained = (model: ProgramFn<[tf.Tensor]>, guide: ProgramFn<[tf.Tensor]>, x: tf.Tensor): ParamStore => {
  const s = svi({ optimizer: tf.train.adam(0.1), loss: elbo(), seed: 1 })
  for (let i = 0; i < 5; i++) s.step(model, guide as never, x)
  return s.params
}

/** A sample site's value in a trace. */
const valueAt = (t: Trace, name: string): tf.Tensor => (t.byName.get(name) as SampleSite).value

const ctxOf = (store: ParamStore, seed: number) => ({ seed, handlers: [store.handler], baselines: new Map<string, number>() })

describe('the bound with a continuous autoguide (fixed params, float64 reference)', () => {
  it('elbo, elbo with kl: "auto", and iwae(1) equal log p(z, x) − log q(u) + log |det ∂z/∂u| at the draw', () => {
    const x = tf.scalar(X0), guide = autoMultivariateNormal(tiny)
    const store = trained(tiny, guide, x)
    const m = read(store.value('auto.loc')!), l = read(store.value('auto.scaleTril')!)
    expect(Math.abs(l[2]!)).toBeGreaterThan(1e-4)
    for (const seed of [5, 6, 7]) tf.tidy(() => {
      const u = read(valueAt(traceReplayed(tiny, guide, [x], [store.handler], subSeed(seed, 0)).guide, 'auto.latent'))
      const want = tinyTerm(u, m, l)
      for (const loss of [elbo(), elbo({ kl: 'auto' }), iwae({ numParticles: 1 })]) {
        expectClose(read(loss.estimate(tiny, guide, [x], ctxOf(store, seed)).bound), [want], 1e-5, 1e-4)
      }
    })
    store.dispose(); x.dispose()
  })

  it('the score-function path (a discrete site guided by hand beside the autoguide) counts the auxiliary site once too', () => {
    // k ~ Bernoulli(0.3) shifts x's mean by k; its guide site q(k) = Bernoulli(0.6) is not reparameterised.
    const withK = (x: tf.Tensor) => gen(function* () {
      const a = yield* sample('a', normal(0, 2))
      const k = yield* sample('k', bernoulli({ probs: 0.3 }))
      yield* observe('x', normal(tf.add(a, k), 1), x)
    })
    const kGuide = (_x: tf.Tensor) => gen(function* () { yield* sample('k', bernoulli({ probs: 0.6 })) })
    const guide = guideList(autoMultivariateNormal(withK, { sites: { hide: ['k'] } }), kGuide)
    const x = tf.scalar(X0)
    const store = trained(withK, guide, x)
    const m = read(store.value('auto.loc')!), l = read(store.value('auto.scaleTril')!)
    tf.tidy(() => {
      const q = traceReplayed(withK, guide, [x], [store.handler], subSeed(9, 0)).guide
      const u = read(valueAt(q, 'auto.latent')), k = read(valueAt(q, 'k'))[0]!
      const want = normalLp(u[0]!, 0, 2) + Math.log(k === 1 ? 0.3 : 0.7) + normalLp(X0, u[0]! + k, 1) - mvnLp(u, m, l) - Math.log(k === 1 ? 0.6 : 0.4)
      const est = elbo().estimate(withK, guide, [x], ctxOf(store, 9))
      expect(est.surrogate).not.toBe(est.bound)   // the score-function path ran
      expectClose(read(est.bound), [want], 1e-5, 1e-4)
    })
    store.dispose(); x.dispose()
  })
})

// -------------------------------------------------------------------------------------
// particles: u of shape [K, 1, D] under a plate, unpacked to [K, 1] and [K, N]
// -------------------------------------------------------------------------------------

const XP = [0.4, -1.1, 2.3]
/** s ~ LogNormal(0, 1), z_i ~ N(0, 1), x_i ~ N(z_i, s) in a full plate of 3: D = 4. */
const plated = (x: tf.Tensor) => gen(function* () {
  const s = yield* sample('s', logNormal(0, 1))
  yield* plate('data', XP.length, {}, () => gen(function* () {
    const z = yield* sample('z', normal(0, 1))
    yield* observe('x', normal(z, s), x)
  }))
})
const platedTerm = (u: readonly number[], m: readonly number[], l: readonly number[]): number => {
  const s = Math.exp(u[0]!)
  return logNormalLp(s, 0, 1) + XP.reduce((acc, xi, i) => acc + normalLp(u[i + 1]!, 0, 1) + normalLp(xi, u[i + 1]!, s), 0) - (mvnLp(u, m, l) - u[0]!)
}

describe('particles', () => {
  it('vectorised: u has shape [K, 1, D], each site the model\'s shape in the particle plate, and the bound is the mean of the float64 terms', () => {
    const x = tf.tensor1d(XP), guide = autoMultivariateNormal(plated), K = 6
    const store = trained(plated, guide, x)
    const m = read(store.value('auto.loc')!), l = read(store.value('auto.scaleTril')!)
    tf.tidy(() => {
      const ctx = ctxOf(store, 11)
      const { guide: q, model: p } = vectorizedTraces(plated, guide, [x], ctx, { k: K, depth: 1, estimator: 'elbo' })
      const shapes = (t: typeof q) => ['s', 'z'].map((n) => valueAt(t, n).shape)
      expect(valueAt(q, 'auto.latent').shape).toEqual([K, 1, 4])
      expect(shapes(q)).toEqual([[K, 1], [K, 3]])
      expect(shapes(p)).toEqual([[K, 1], [K, 3]])
      const u = read(valueAt(q, 'auto.latent'))
      const terms = Array.from({ length: K }, (_, k) => platedTerm(u.slice(4 * k, 4 * k + 4), m, l))
      const est = elbo({ numParticles: K }).estimate(plated, guide, [x], ctx)
      expectClose(read(est.bound), [terms.reduce((a, b) => a + b, 0) / K], 1e-5, 1e-4)
    })
    store.dispose(); x.dispose()
  })

  it('looped particles each equal their float64 term, and looped and vectorised estimates agree in expectation', () => {
    const x = tf.tensor1d(XP), guide = autoMultivariateNormal(plated)
    const store = trained(plated, guide, x)
    const m = read(store.value('auto.loc')!), l = read(store.value('auto.scaleTril')!)
    tf.tidy(() => {
      const ctx = ctxOf(store, 13), K = 4
      const terms = Array.from({ length: K }, (_, i) =>
        platedTerm(read(valueAt(traceReplayed(plated, guide, [x], [store.handler], subSeed(13, i)).guide, 'auto.latent')), m, l))
      expectClose(read(elbo({ numParticles: K, vectorizeParticles: false }).estimate(plated, guide, [x], ctx).bound), [terms.reduce((a, b) => a + b, 0) / K], 1e-5, 1e-4)
      // In expectation: 200 looped vs 4000 vectorised particles, within 5 standard errors (the per-draw sd from the vectorised terms).
      const big = vectorizedTraces(plated, guide, [x], ctxOf(store, 17), { k: 4000, depth: 1, estimator: 'elbo' }).guide
      const uu = read(valueAt(big, 'auto.latent'))
      const all = Array.from({ length: 4000 }, (_, k) => platedTerm(uu.slice(4 * k, 4 * k + 4), m, l))
      const mean = all.reduce((a, b) => a + b, 0) / all.length
      const sd = Math.sqrt(all.reduce((a, v) => a + (v - mean) ** 2, 0) / (all.length - 1))
      const looped = read(elbo({ numParticles: 200, vectorizeParticles: false }).estimate(plated, guide, [x], ctxOf(store, 19)).bound)[0]!
      const vectorised = read(elbo({ numParticles: 4000 }).estimate(plated, guide, [x], ctxOf(store, 17)).bound)[0]!
      expect(vectorised).toBeCloseTo(mean, 3)
      expect(Math.abs(looped - vectorised)).toBeLessThan(5 * sd * Math.sqrt(1 / 200 + 1 / 4000))
    })
    store.dispose(); x.dispose()
  })
})

// -------------------------------------------------------------------------------------
// low rank
// -------------------------------------------------------------------------------------

describe('autoLowRankMultivariateNormal', () => {
  it('initialises as Pyro: covFactor [D, rank] random with sd initScale·√(½/rank), covDiag ½ initScale²; rank defaults to round(√D)', () => {
    const x = tf.tensor1d(XP)
    const s = svi({ optimizer: tf.train.sgd(0), loss: elbo(), seed: 0 })
    s.init(plated, autoLowRankMultivariateNormal(plated), x)
    expect(s.params.entries().map((e) => e.name)).toEqual(['auto.loc', 'auto.covFactor', 'auto.covDiag'])
    const w = s.params.value('auto.covFactor')!
    expect(w.shape).toEqual([4, 2])
    expect(read(w).every((v) => Math.abs(v) < 4 * 0.1 * Math.sqrt(0.25) && v !== 0)).toBe(true)
    expectClose(read(s.params.value('auto.covDiag')!), [0.005, 0.005, 0.005, 0.005], 1e-5)
    const t = svi({ optimizer: tf.train.sgd(0), loss: elbo(), seed: 0 })
    t.init(plated, autoLowRankMultivariateNormal(plated, { rank: 3, initScale: 0.2 }), x)
    expect(t.params.value('auto.covFactor')!.shape).toEqual([4, 3])
    expectClose(read(t.params.value('auto.covDiag')!), [0.02, 0.02, 0.02, 0.02], 1e-5)
    s.params.dispose(); t.params.dispose(); x.dispose()
  })

  it('with rank = D and W Wᵀ + diag(d) = L Lᵀ it is the full-rank guide: the same bound in expectation, and log q the full one', () => {
    const x = tf.tensor1d(XP)
    const full = autoMultivariateNormal(plated), low = autoLowRankMultivariateNormal(plated, { rank: 4 })
    const m = [0.1, 0.3, -0.2, 0.5], d = 0.01
    const w = [0.3, 0, 0.1, 0, 0.1, 0.4, 0, 0, -0.05, 0.1, 0.2, 0.1, 0.02, 0, 0.1, 0.3]
    // L = chol(W Wᵀ + d I) in float64.
    const sigma = outer(w, 4).map((v, k) => k % 5 === 0 ? v + d : v), l = new Array<number>(16).fill(0)
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j <= i; j++) {
        let s = sigma[4 * i + j]!
        for (let r = 0; r < j; r++) s -= l[4 * i + r]! * l[4 * j + r]!
        l[4 * i + j] = i === j ? Math.sqrt(s) : s / l[4 * j + j]!
      }
    }
    const fs = paramStore(), ls = paramStore()
    tf.tidy(() => {
      fs.insert('auto.loc', tf.tensor1d(m), constraints.real)
      fs.insert('auto.scaleTril', transformTo(constraints.lowerCholesky).inverse(tf.tensor2d(l, [4, 4])), constraints.lowerCholesky)
      ls.insert('auto.loc', tf.tensor1d(m), constraints.real)
      ls.insert('auto.covFactor', tf.tensor2d(w, [4, 4]), constraints.real)
      ls.insert('auto.covDiag', tf.log(tf.fill([4], d)), constraints.positive)
    })
    tf.tidy(() => {
      const K = 3000
      const terms = (store: ParamStore, g: ProgramFn<[tf.Tensor]>, seed: number) => {
        const u = read(valueAt(vectorizedTraces(plated, g, [x], ctxOf(store, seed), { k: K, depth: 1, estimator: 'elbo' }).guide, 'auto.latent'))
        return Array.from({ length: K }, (_, k) => platedTerm(u.slice(4 * k, 4 * k + 4), m, l))
      }
      const [a, b] = [terms(fs, full, 21), terms(ls, low, 22)]
      const mean = (v: readonly number[]) => v.reduce((s, e) => s + e, 0) / v.length
      const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (K - 1))
      expect(Math.abs(mean(a) - mean(b))).toBeLessThan(5 * sd * Math.sqrt(2 / K))
      // The low-rank estimator's bound is the mean of the float64 terms of its own draws, with the full-rank log q.
      expectClose(read(elbo({ numParticles: K }).estimate(plated, low, [x], ctxOf(ls, 22)).bound), [mean(b)], 1e-4, 1e-3)
    })
    fs.dispose(); ls.dispose(); x.dispose()
  })

  it('with rank = D recovers the regression posterior as the full-rank guide does', () => {
    const guide = autoLowRankMultivariateNormal(regression, { rank: 2 })
    const params = fitRegression(guide)
    const w = read(params.value('auto.covFactor')!), d = read(params.value('auto.covDiag')!)
    const ww = outer(w, 2)
    expectPosterior(read(params.value('auto.loc')!), [ww[0]! + d[0]!, ww[1]!, ww[2]!, ww[3]! + d[1]!])
    params.dispose()
  }, 150_000)   // a few thousand SVI steps: ≈ 25 s alone, over 60 s on a loaded 2-core machine
})

// -------------------------------------------------------------------------------------
// median, quantiles, selection, errors, memory
// -------------------------------------------------------------------------------------

describe('median, quantiles and errors', () => {
  it('median is T(loc) per site; quantiles are T(loc + sd · Φ⁻¹(q)) with sd = √diag(Σ), stacked over q', () => {
    const x = tf.tensor1d(XP)
    for (const guide of [autoMultivariateNormal(plated), autoLowRankMultivariateNormal(plated)]) {
      const store = trained(plated, guide as never, x)
      const m = read(store.value('auto.loc')!)
      const cov = store.value('auto.scaleTril') === undefined
        ? (() => { const w = read(store.value('auto.covFactor')!), d = read(store.value('auto.covDiag')!); return m.map((_, i) => w[2 * i]! ** 2 + w[2 * i + 1]! ** 2 + d[i]!) })()
        : (() => { const l = read(store.value('auto.scaleTril')!); return m.map((_, i) => outer(l, 4)[5 * i]!) })()
      const med = guide.median(store)
      expectClose(read(med.s!), [Math.exp(m[0]!)], 1e-5)
      expect(med.z!.shape).toEqual([3])
      expectClose(read(med.z!), m.slice(1), 1e-5)
      const q = guide.quantiles(store, [0.1, 0.9])
      expect(q.z!.shape).toEqual([2, 3])
      expectClose(read(q.s!), [0.1, 0.9].map((p) => Math.exp(m[0]! + Math.sqrt(cov[0]!) * probit(p))), 1e-4)
      expectClose(read(q.z!), [0.1, 0.9].flatMap((p) => [1, 2, 3].map((i) => m[i]! + Math.sqrt(cov[i]!) * probit(p))), 1e-4, 1e-5)
      tf.dispose([med, q]); store.dispose()
    }
    expect(autoMultivariateNormal(plated).median(paramStore())).toEqual({})
    x.dispose()
  })

  it('a subsampled plate, a discrete site, no latent sites and bad options are named errors', () => {
    const x = tf.tensor1d(XP)
    const sub = (xs: tf.Tensor) => plate('data', 3, { subsampleSize: 2 }, (idx) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 1), tf.gather(xs, idx))
    }))
    const s = svi({ optimizer: tf.train.sgd(0), loss: elbo(), seed: 0 })
    expect(() => s.step(sub, autoMultivariateNormal(sub), x)).toThrow(InvalidArgumentError)
    expect(() => s.step(sub, autoMultivariateNormal(sub), x)).toThrow(/autoMultivariateNormal: site 'z' is in plate 'data', subsampled \(2 of 3 elements a run\).*guideList\(autoNormal\(model, \{ sites: \{ expose: \['z'\] \} \}\)/)
    const discrete = (xs: tf.Tensor) => gen(function* () {
      const k = yield* sample('k', bernoulli({ probs: 0.5 }))
      yield* observe('x', normal(k, 1), xs)
    })
    expect(() => s.step(discrete, autoLowRankMultivariateNormal(discrete), x)).toThrow(/autoLowRankMultivariateNormal: site 'k': .*continuous latents only: leave it out \(sites: \{ hide: \['k'\] \}\)/)
    const none = (xs: tf.Tensor) => gen(function* () { yield* observe('x', normal(0, 1), xs) })
    expect(() => s.step(none, autoMultivariateNormal(none), x)).toThrow(/autoMultivariateNormal: the model has no latent sites to guide/)
    expect(() => s.step(plated, autoMultivariateNormal(plated, { sites: { expose: [] } }) as never, x)).toThrow(/no latent sites to guide \(after the `sites` selection\)/)
    expect(() => autoLowRankMultivariateNormal(plated, { rank: 0 })).toThrow(/autoLowRankMultivariateNormal: rank must be a positive integer; got 0/)
    expect(() => autoMultivariateNormal(plated, { initScale: -1 })).toThrow(/autoMultivariateNormal: initScale must be a finite number > 0; got -1/)
    expect(s.params.entries()).toEqual([])
    x.dispose()
  })

  it('guideList: local latents of a subsampled plate by autoNormal, the global ones jointly by autoMultivariateNormal', () => {
    const M = 6
    const xs = tf.linspace(-1, 1, M)
    const hier = (x: tf.Tensor) => gen(function* () {
      const mu = yield* sample('mu', normal(0, 5))
      const tau = yield* sample('tau', logNormal(0, 1))
      yield* plate('data', M, { subsampleSize: 3 }, (idx) => gen(function* () {
        const z = yield* sample('z', normal(mu, tau))
        yield* observe('x', normal(z, 0.5), tf.gather(x, idx))
      }))
    })
    const guide = guideList(autoNormal(hier, { sites: { expose: ['z'] } }), autoMultivariateNormal(hier, { sites: { hide: ['z'] }, prefix: 'g' }))
    const s = svi({ optimizer: tf.train.adam(0.02), loss: elbo({ numParticles: 4 }), seed: 0, strict: true })
    const losses = Array.from({ length: 20 }, () => s.step(hier, guide, xs))
    expect(losses.every(Number.isFinite)).toBe(true)
    expect(s.params.entries().map((e) => e.name)).toEqual(['auto.z.loc', 'auto.z.scale', 'g.loc', 'g.scaleTril'])
    expect(s.params.value('g.loc')!.shape).toEqual([2])
    s.params.dispose(); xs.dispose()
  })

  it('holds tfjs memory flat over steps (numTensors after step 5 = after step 60), both guides', () => {
    const x = tf.tensor1d(XP)
    for (const guide of [autoMultivariateNormal(plated), autoLowRankMultivariateNormal(plated)]) {
      const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo({ numParticles: 4 }), seed: 0 })
      for (let i = 0; i < 5; i++) s.step(plated, guide as never, x)
      const before = tf.memory().numTensors
      for (let i = 0; i < 55; i++) s.step(plated, guide as never, x)
      tf.dispose([guide.median(s.params), guide.quantiles(s.params, [0.2, 0.8])])
      expect(tf.memory().numTensors).toBe(before)
      s.params.dispose()
    }
    x.dispose()
  })
})

// -------------------------------------------------------------------------------------
// auxiliary sites
// -------------------------------------------------------------------------------------

describe('auxiliary guide sites', () => {
  /** z ~ N(0, 1), x ~ N(z, 1). */
  const m = (x: tf.Tensor) => gen(function* () {
    const z = yield* sample('z', normal(0, 1))
    yield* observe('x', normal(z, 1), x)
  })
  /** w ~ N(0.2, 0.5) (the guide's own), z ~ N(w, 0.3). */
  const auxGuide = (aux: boolean) => (_x: tf.Tensor) => gen(function* () {
    const w = yield* sample('w', normal(0.2, 0.5), aux ? { auxiliary: true } : {})
    yield* sample('z', normal(w, 0.3))
  })

  it('coverage admits an auxiliary site, still rejects a guide-only site that is not one (with the fix), and rejects an auxiliary site the model has', () => {
    const x = tf.scalar(0.5), c = ctxOf(paramStore(), 0)
    tf.tidy(() => { elbo().estimate(m, auxGuide(true), [x], c) })
    expect(() => elbo().estimate(m, auxGuide(false), [x], c)).toThrow(SiteError)
    expect(() => elbo().estimate(m, auxGuide(false), [x], c)).toThrow(/the guide samples site 'w', which the model does not have; .*mark it sample\('w', …, \{ auxiliary: true \}\)/)
    const m2 = (xv: tf.Tensor) => gen(function* () {
      yield* sample('w', normal(0, 1))
      yield* m(xv)
    })
    expect(() => elbo().estimate(m2, auxGuide(true), [x], c)).toThrow(/the guide's auxiliary site 'w' has the name of a latent site of the model; an auxiliary site is the guide's own/)
    expect(() => sample('u', normal(0, 1), { auxiliary: 'yes' } as never)).toThrow(/sample 'u': auxiliary must be true or false; got "yes"/)
    x.dispose()
  })

  it('every estimator counts its log q: log p(z, x) − log q(w) − log q(z | w) (elbo, iwae, the score path, vectorised; kl: "auto" with w Monte Carlo)', () => {
    const x = tf.scalar(0.5), c = ctxOf(paramStore(), 3)
    tf.tidy(() => {
      const q = traceReplayed(m, auxGuide(true), [x], [], subSeed(3, 0)).guide
      const [w, z] = ['w', 'z'].map((n) => read(valueAt(q, n))[0]!) as [number, number]
      const want = normalLp(z, 0, 1) + normalLp(0.5, z, 1) - normalLp(w, 0.2, 0.5) - normalLp(z, w, 0.3)
      for (const loss of [elbo(), iwae({ numParticles: 1 })]) expectClose(read(loss.estimate(m, auxGuide(true), [x], c).bound), [want], 1e-5, 1e-5)
      // kl: 'auto' pairs z with the model's z (−KL(N(w, 0.3) ‖ N(0, 1)) given w); the auxiliary w, which no model site pairs with, stays Monte Carlo.
      const kl = Math.log(1 / 0.3) + (0.09 + w * w) / 2 - 0.5
      expectClose(read(elbo({ kl: 'auto' }).estimate(m, auxGuide(true), [x], c).bound), [normalLp(0.5, z, 1) - kl - normalLp(w, 0.2, 0.5)], 1e-5, 1e-5)
      // Not reparameterised: the auxiliary site is scored; the bound is the same.
      const scoredGuide = (_x: tf.Tensor) => gen(function* () {
        const d = normal(0.2, 0.5)
        const wv = yield* sample('w', { ...d, reparameterized: false, rsample: undefined } as never, { auxiliary: true })
        yield* sample('z', normal(wv, 0.3))
      })
      const est = elbo().estimate(m, scoredGuide, [x], c)
      expect(est.surrogate).not.toBe(est.bound)
      expectClose(read(est.bound), [want], 1e-5, 1e-5)
      // Vectorised: the mean of the per-particle terms.
      const vq = vectorizedTraces(m, auxGuide(true), [x], c, { k: 5, depth: 0, estimator: 'elbo' }).guide
      const [ws, zs] = ['w', 'z'].map((n) => read(valueAt(vq, n)))
      const terms = ws!.map((wk, k) => normalLp(zs![k]!, 0, 1) + normalLp(0.5, zs![k]!, 1) - normalLp(wk, 0.2, 0.5) - normalLp(zs![k]!, wk, 0.3))
      expectClose(read(elbo({ numParticles: 5 }).estimate(m, auxGuide(true), [x], c).bound), [terms.reduce((a, b) => a + b, 0) / 5], 1e-5, 1e-5)
    })
    x.dispose()
  })

  it('raises no warning: an autoguide under analytic KL, a plate only auxiliary sites are in; a plate a non-auxiliary guide site is in still warns', () => {
    /** z ~ N(0, 1) of batch [3] (no plate), x ~ N(z, 1). */
    const m3 = () => gen(function* () {
      const z = yield* sample('z', normal(tf.zeros([3]), 1))
      yield* observe('x', normal(z, 1), tf.tensor1d([0.1, 0.2, 0.3]))
    })
    /** w_i ~ N(0.2, 0.5) (auxiliary) in plate 'mix' of 3; z sampled inside the plate or outside it. */
    const mixGuide = (zInPlate: boolean) => () => gen(function* () {
      const w = yield* plate('mix', 3, {}, () => gen(function* () {
        const wv = yield* sample('w', normal(0.2, 0.5), { auxiliary: true })
        return zInPlate ? yield* sample('z', normal(wv, 0.3)) : wv
      }))
      if (!zInPlate) yield* sample('z', normal(w, 0.3))
    })
    const seen: TfpplWarning[] = []
    const s = svi({ optimizer: tf.train.sgd(0.01), loss: elbo({ kl: 'auto' }), seed: 0, onWarning: (w) => seen.push(w) })
    s.step(m3, mixGuide(false))
    s.step(m3, autoMultivariateNormal(m3))
    expect(seen).toEqual([])
    s.step(m3, mixGuide(true))
    expect(seen.map((w) => w.cause)).toEqual(['guide-only-plate'])
    expect(seen[0]!.message).toMatch(/plate 'mix' is in the guide but in no site of the model/)
    s.params.dispose()
  })
})
