import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { subSeed } from '../../src/backend/seed.js'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { normal } from '../../src/distributions/normal.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { factor, observe, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import { SiteError } from '../../src/inference/interpreter.js'
import { iwae, particleLogWeights } from '../../src/inference/iwae.js'
import type { Handler } from '../../src/inference/interpreter.js'
import type { Loss } from '../../src/inference/loss.js'
import type { SampleSite, Trace } from '../../src/inference/trace.js'
import { expectClose, logSumExp64, read } from '../helpers.js'
import { recording } from './valid-models-cases.js'
import type { Draws } from './valid-models-cases.js'
import { LOG_EVIDENCE, POST_LOC, POST_SCALE, data, exactElbo, fixedGuide, model } from './conjugate.js'

const ctx = (seed: number) => ({ seed, handlers: [], baselines: new Map() })
/** The value of a traced sample site. */
const valueOf = (trace: Trace, name: string) => (trace.byName.get(name) as SampleSite).value
/** log N(x; m, s) in doubles. */
const lnorm = (x: number, m: number, s: number) => -0.5 * Math.log(2 * Math.PI * s * s) - ((x - m) ** 2) / (2 * s * s)

/** Mean and standard error of the bound over seeds [from, from + n) for the fixed guide N(m, s). */
const boundStats = (loss: Loss, m: number, s: number, n: number, from = 0) => tf.tidy(() => {
  const x = data()
  const g = fixedGuide(tf.scalar(m), tf.scalar(s))
  const vs = Array.from({ length: n }, (_, i) => read(loss.estimate(model, g, [x] as const, ctx(from + i)).bound)[0]!)
  const mean = vs.reduce((a, b) => a + b, 0) / n
  const variance = vs.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)
  return { mean, se: Math.sqrt(variance / n) }
})

// A poor guide: loc off by 1, scale twice the posterior's.
const [POOR_LOC, POOR_SCALE] = [POST_LOC + 1, 2 * POST_SCALE]

describe('iwae on the Normal–Normal conjugate model', () => {
  it('with the exact posterior as guide, IWAE_k equals log p(x) to 1e-4 for every k', () => tf.tidy(() => {
    const g = fixedGuide(tf.scalar(POST_LOC), tf.scalar(POST_SCALE))
    for (const k of [1, 3, 16]) {
      for (const seed of [0, 1]) {
        const b = read(iwae(k).estimate(model, g, [data()] as const, ctx(seed)).bound)[0]!
        expect(Math.abs(b - LOG_EVIDENCE)).toBeLessThan(1e-4 * Math.abs(LOG_EVIDENCE))
      }
    }
  }))

  it('iwae(1) is the ELBO: same value and same gradient for the same seed', () => tf.tidy(() => {
    const x = data()
    for (const seed of [0, 7]) {
      const f = (loss: Loss) => tf.valueAndGrads((loc: tf.Tensor, scale: tf.Tensor) =>
        loss.estimate(model, fixedGuide(loc, scale), [x] as const, ctx(seed)).surrogate)([tf.scalar(POOR_LOC), tf.scalar(POOR_SCALE)])
      const a = f(iwae(1)), b = f(elbo())
      expectClose([...read(a.value), ...a.grads.flatMap(read)], [...read(b.value), ...b.grads.flatMap(read)], 1e-5, 1e-5)
    }
  }))

  it('iwae(1) equals the ELBO in distribution (independent seeds, means within 5 SE)', () => {
    const a = boundStats(iwae(1), POOR_LOC, POOR_SCALE, 200, 0)
    const b = boundStats(elbo(), POOR_LOC, POOR_SCALE, 200, 10_000)
    expect(Math.abs(a.mean - b.mean)).toBeLessThan(5 * Math.hypot(a.se, b.se))
  })

  it('E[IWAE_k] is non-decreasing in k (1, 2, 8, 32), bounded by log p(x), and closes the gap as k grows', () => {
    const ks = [1, 2, 8, 32, 64] as const
    const seeds = { 1: 150, 2: 150, 8: 60, 32: 20, 64: 20 }
    const stats = ks.map((k) => boundStats(iwae(k), POOR_LOC, POOR_SCALE, seeds[k], 1000 * k))
    // Measured (seeds above): −9.47 ± 0.38, −7.69 ± 0.20, −6.67 ± 0.08, −6.53 ± 0.04, −6.54 ± 0.04; log p(x) = −6.501.
    expect(Math.abs(stats[0]!.mean - exactElbo(POOR_LOC, POOR_SCALE).value)).toBeLessThan(5 * stats[0]!.se)
    for (let i = 1; i < 4; i++) {
      const [lo, hi] = [stats[i - 1]!, stats[i]!]
      expect(hi.mean - lo.mean).toBeGreaterThan(-3 * Math.hypot(lo.se, hi.se))
    }
    stats.forEach((s) => expect(s.mean).toBeLessThan(LOG_EVIDENCE + 3 * s.se + 1e-4))
    const gap = (i: number) => LOG_EVIDENCE - stats[i]!.mean
    expect(stats[3]!.mean - stats[0]!.mean).toBeGreaterThan(5 * Math.hypot(stats[0]!.se, stats[3]!.se))
    expect(gap(4)).toBeLessThan(gap(0) / 10)
  })

  it('gradients are pathwise: they reach the guide parameters and are finite', () => tf.tidy(() => {
    const grads = tf.grads((loc: tf.Tensor, scale: tf.Tensor) =>
      iwae(4).estimate(model, fixedGuide(loc, scale), [data()] as const, ctx(3)).surrogate)([tf.scalar(POOR_LOC), tf.scalar(POOR_SCALE)])
    grads.flatMap(read).forEach((g) => { expect(Number.isFinite(g)).toBe(true); expect(g).not.toBe(0) })
  }))
})

describe('iwae: weights kept apart along the plates every site shares (Pyro\'s RenyiELBO)', () => {
  // Three independent points, each with its own latent: z_i ~ N(0, 1), x_i ~ N(z_i, 1); q(z_i) = N(m_i, s_i).
  const X = [0.8, -1.1, 2.3], M = [0.2, -0.4, 0.9], S = [0.9, 1.3, 0.7]
  const local = (x: tf.Tensor) => plate('data', 3, {}, () => gen(function* () {
    const z = yield* sample('z', normal(0, 1))
    yield* observe('x', normal(z, 1), x)
  }))
  const localGuide = (_x: tf.Tensor) => plate('data', 3, {}, () => gen(function* () { yield* sample('z', normal(tf.tensor1d(M), tf.tensor1d(S))) }))
  /** The guide's draws of particle j (the same draws the loop uses). */
  const draws = (m: typeof local, g: typeof localGuide, seed: number, k: number) =>
    Array.from({ length: k }, (_, j) => read(valueOf(particleLogWeights(m, g, [tf.tensor1d(X)] as const, [], subSeed(seed, j)).guide, 'z')))
  const loop = (k: number, perDataPoint = true) => iwae({ numParticles: k, vectorizeParticles: false, perDataPoint })

  it('with every site in the data plate, the bound is Σ_i of single-point IWAE bounds (float64 reference from the traced draws)', () => tf.tidy(() => {
    const k = 6, seed = 11
    const zs = draws(local, localGuide, seed, k)
    const ref = [0, 1, 2].reduce((acc, i) => {
      const lw = zs.map((z) => lnorm(z[i]!, 0, 1) + lnorm(X[i]!, z[i]!, 1) - lnorm(z[i]!, M[i]!, S[i]!))
      return acc + logSumExp64(lw) - Math.log(k)
    }, 0)
    const b = read(loop(k).estimate(local, localGuide, [tf.tensor1d(X)] as const, ctx(seed)).bound)[0]!
    expectClose([b], [ref], 1e-5, 1e-4)
    // The classic whole-batch bound pools the three weights into one.
    const pooled = logSumExp64(zs.map((z) => [0, 1, 2].reduce((a, i) => a + lnorm(z[i]!, 0, 1) + lnorm(X[i]!, z[i]!, 1) - lnorm(z[i]!, M[i]!, S[i]!), 0))) - Math.log(k)
    const whole = read(loop(k, false).estimate(local, localGuide, [tf.tensor1d(X)] as const, ctx(seed)).bound)[0]!
    expectClose([whole], [pooled], 1e-5, 1e-4)
  }))

  it('a global site leaves no plate common to all sites: one weight for the batch (each particle\'s total)', () => tf.tidy(() => {
    const withGlobal = (x: tf.Tensor) => gen(function* () {
      const g = yield* sample('g', normal(0, 2))
      yield* plate('data', 3, {}, () => gen(function* () {
        const z = yield* sample('z', normal(g, 1))
        yield* observe('x', normal(z, 1), x)
      }))
      yield* factor('f', tf.scalar(-0.6))
    })
    const guideG = (_x: tf.Tensor) => gen(function* () {
      yield* sample('g', normal(0.5, 0.8))
      yield* plate('data', 3, {}, () => gen(function* () { yield* sample('z', normal(tf.tensor1d(M), tf.tensor1d(S))) }))
    })
    const p = particleLogWeights(withGlobal, guideG, [tf.tensor1d(X)] as const, [], 5)
    const g = read(valueOf(p.guide, 'g'))[0]!
    const z = read(valueOf(p.guide, 'z'))
    const ref = lnorm(g, 0, 2) - lnorm(g, 0.5, 0.8) - 0.6 + [0, 1, 2].reduce((a, i) => a + lnorm(z[i]!, g, 1) + lnorm(X[i]!, z[i]!, 1) - lnorm(z[i]!, M[i]!, S[i]!), 0)
    expect(p.logWeights.shape).toEqual([])
    expectClose(read(p.logWeights), [ref], 1e-5, 1e-4)
    const one = read(iwae(1).estimate(withGlobal, guideG, [tf.tensor1d(X)] as const, ctx(2)).bound)[0]!
    const el = read(elbo().estimate(withGlobal, guideG, [tf.tensor1d(X)] as const, ctx(2)).bound)[0]!
    expectClose([one], [el], 1e-5, 1e-4)
  }))

  it('crossed plates run (Pyro\'s test_non_nested_plating_sum): weights apart along the plate all sites share', () => tf.tidy(() => {
    // Plate 'data' (dim −1, 5 points) holds every site; 'x' (dim −2, 2 elements) crosses it for u and y only.
    const Y = [[0.3, -0.2, 1.1, 0.4, -0.9], [1.0, 0.1, -0.5, 0.6, 0.2]]
    const model = () => plate('data', 5, { dim: -1 }, () => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* plate('x', 2, { dim: -2 }, () => gen(function* () {
        const u = yield* sample('u', normal(z, 1))
        yield* observe('y', normal(u, 1), tf.tensor2d(Y))
      }))
    }))
    const guide = () => plate('data', 5, { dim: -1 }, () => gen(function* () {
      yield* sample('z', normal(0.1, 0.9))
      yield* plate('x', 2, { dim: -2 }, () => gen(function* () { yield* sample('u', normal(-0.2, 1.1)) }))
    }))
    const k = 4, seed = 6
    const parts = Array.from({ length: k }, (_, j) => particleLogWeights(model, guide, [] as const, [], subSeed(seed, j)))
    parts.forEach((p) => expect(p.logWeights.shape).toEqual([5]))
    const ref = [0, 1, 2, 3, 4].reduce((acc, i) => acc + logSumExp64(parts.map((p) => {
      const z = read(valueOf(p.guide, 'z'))[i]!, u = read(valueOf(p.guide, 'u'))
      return lnorm(z, 0, 1) - lnorm(z, 0.1, 0.9) + [0, 1].reduce((a, r) => a + lnorm(u[5 * r + i]!, z, 1) + lnorm(Y[r]![i]!, u[5 * r + i]!, 1) - lnorm(u[5 * r + i]!, -0.2, 1.1), 0)
    })) - Math.log(k), 0)
    const b = read(iwae({ numParticles: k, vectorizeParticles: false }).estimate(model, guide, [] as const, ctx(seed)).bound)[0]!
    expectClose([b], [ref], 1e-5, 1e-4)
    expect(Number.isFinite(read(iwae({ numParticles: k }).estimate(model, guide, [] as const, ctx(seed)).bound)[0]!)).toBe(true)
  }))

  it('vectorised particles: k draws in one run, the particle dim left of the data plate, one weight per particle and point', () => tf.tidy(() => {
    const seen: number[][] = []
    const spy = (msg: Parameters<Handler>[0], next: Parameters<Handler>[1]) => { const r = next(msg); if (msg._tag === 'Sample' && msg.name === 'z') seen.push((r.value as tf.Tensor).shape); return r }
    const b = read(iwae({ numParticles: 64 }).estimate(local, localGuide, [tf.tensor1d(X)] as const, { ...ctx(3), handlers: [spy] }).bound)[0]!
    expect(seen.at(-1)).toEqual([64, 3])
    const exact = X.reduce((a, x) => a - 0.5 * Math.log(2 * Math.PI * 2) - (x * x) / 4, 0)
    expect(b).toBeLessThan(exact + 0.05)
    expect(b).toBeGreaterThan(exact - 0.5)
  }))

  it('dataSize is the size of a subsampled plate', () => tf.tidy(() => {
    const sub = (x: tf.Tensor) => plate('data', 10, { subsampleSize: 3 }, (idx) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 1), tf.gather(x, idx))
    }))
    const subGuide = (_x: tf.Tensor) => plate('data', 10, { subsampleSize: 3 }, () => gen(function* () { yield* sample('z', normal(tf.tensor1d(M), tf.tensor1d(S))) }))
    const est = iwae(2).estimate(sub, subGuide, [tf.zeros([10])] as const, ctx(0))
    expect(est.dataSize).toBe(10)
    expect(est.baselines).toEqual([])
  }))
})

describe('iwae: looped particles and subsampled plates', () => {
  const N = 10, B = 3, K = 4
  const XS = Array.from({ length: N }, (_, i) => -1 + (2.5 * i) / (N - 1))
  const MS = Array.from({ length: N }, (_, i) => 0.1 * i)
  const local = (x: tf.Tensor) => plate('data', N, { subsampleSize: B }, (idx) => gen(function* () {
    const z = yield* sample('z', normal(0, 1))
    yield* observe('x', normal(z, 1), tf.gather(x, idx))
  }))
  const localGuide = (_x: tf.Tensor) => plate('data', N, { subsampleSize: B }, (idx) => gen(function* () {
    yield* sample('z', normal(tf.gather(tf.tensor1d(MS), idx), 1))
  }))
  /** A global mu ~ N(0, 2) and a data plate in the model only (its subsample is the model's own draw). */
  const global = (x: tf.Tensor) => gen(function* () {
    const mu = yield* sample('mu', normal(0, 2))
    yield* plate('data', N, { subsampleSize: B }, (idx) => gen(function* () { yield* observe('x', normal(mu, 1), tf.gather(x, idx)) }))
  })
  const globalGuide = (_x: tf.Tensor) => gen(function* () { yield* sample('mu', normal(0.3, 0.5)) })

  it('vectorizeParticles: false — the k particles see the first one\'s subsample, and the bound is Σ_i logsumexp_j w_j[i] − log k in float64', () => tf.tidy(() => {
    const qs: Draws[] = [], ps: Draws[] = []
    const model = (x: tf.Tensor) => recording(ps, local(x))
    const guide = (x: tf.Tensor) => recording(qs, localGuide(x))
    for (const seed of [0, 5]) {
      qs.length = 0; ps.length = 0
      const b = read(iwae({ numParticles: K, vectorizeParticles: false }).estimate(model, guide, [tf.tensor1d(XS)] as const, ctx(seed)).bound)[0]!
      expect(qs).toHaveLength(K)
      const idx = qs[0]!.idx('data')
      for (const run of [...qs, ...ps]) expect(run.idx('data')).toEqual(idx)
      // log w_j[i] = (N / B) · (log N(z; 0, 1) + log N(x_i; z, 1) − log N(z; m_i, 1)) for the j-th particle's z of point i
      const w = qs.map((q) => q.v('z').map((z, e) => (N / B) * (lnorm(z, 0, 1) + lnorm(XS[idx[e]!]!, z, 1) - lnorm(z, MS[idx[e]!]!, 1))))
      const ref = idx.reduce((a, _i, e) => a + logSumExp64(w.map((wj) => wj[e]!)) - Math.log(K), 0)
      expectClose([b], [ref], 1e-5, 1e-4)
    }
  }))

  it('a plate in the model only: the looped particles share its subsample too (one weight per batch)', () => tf.tidy(() => {
    const ps: Draws[] = [], qs: Draws[] = []
    const model = (x: tf.Tensor) => recording(ps, global(x))
    const guide = (x: tf.Tensor) => recording(qs, globalGuide(x))
    const b = read(iwae({ numParticles: K, vectorizeParticles: false }).estimate(model, guide, [tf.tensor1d(XS)] as const, ctx(2)).bound)[0]!
    const idx = ps[0]!.idx('data')
    for (const run of ps) expect(run.idx('data')).toEqual(idx)
    const w = qs.map((q) => {
      const mu = q.s('mu')
      return lnorm(mu, 0, 2) - lnorm(mu, 0.3, 0.5) + (N / B) * idx.reduce((a, i) => a + lnorm(XS[i]!, mu, 1), 0)
    })
    expectClose([b], [logSumExp64(w) - Math.log(K)], 1e-5, 1e-4)
  }))
})

describe('iwae: validity', () => {
  const bModel = (x: tf.Tensor) => gen(function* () {
    const z = yield* sample('z', bernoulli({ probs: 0.3 }))
    yield* observe('x', normal(tf.mul(z, 2), 1), x)
  })
  const bGuide = (_x: tf.Tensor) => gen(function* () { yield* sample('z', bernoulli({ logits: 0.1 })) })

  it('a non-reparameterised guide site is a SiteError naming it and suggesting elbo', () => tf.tidy(() => {
    expect(() => iwae(3).estimate(bModel, bGuide, [tf.scalar(1.5)] as const, ctx(0))).toThrow(SiteError)
    expect(() => iwae(3).estimate(bModel, bGuide, [tf.scalar(1.5)] as const, ctx(0))).toThrow(/guide site 'z' \(bernoulli\) is not reparameterised.*elbo\(\)/)
  }))

  it('k must be a positive integer', () => {
    for (const k of [0, -1, 1.5, Number.NaN]) expect(() => iwae(k)).toThrow(InvalidArgumentError)
  })

  it('a guide missing a latent site is a SiteError (coverage is checked)', () => tf.tidy(() => {
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('w', normal(0, 1)) })
    expect(() => iwae(2).estimate(model, g, [data()] as const, ctx(0))).toThrow(/the model's latent site 'z' is not sampled by the guide/)
  }))
})
