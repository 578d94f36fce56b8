/**
 * Issue 17's gradient grid: for each estimator — elbo() (Trace_ELBO), elbo({ downstream: true })
 * (TraceGraph_ELBO), elbo({ kl: 'auto' }) and iwae({ numParticles: 1 }) — × {reparameterised guide,
 * score-function guide} × {no plate, plate, subsampled plate, nested plates, crossed plates, crossed
 * plates with a subsample} × {no scale, scaled(2, …)}, the expected gradient of the estimate in the
 * guide's params is the exact gradient of the ELBO, derived in closed form in gradient-grid-cases.ts.
 *
 * The expectation is one estimate over K = 40 000 particles: elbo({ numParticles: K }) runs them
 * vectorised and averages, so the gradient of the estimate is the Monte Carlo mean of the particles'
 * gradients. iwae({ numParticles: K }) would be IWAE_K, not the ELBO, so the iwae column runs
 * iwae({ numParticles: 1 }) (= the ELBO, pathwise) over an explicit particle plate scaled by 1/K,
 * as score-function.test.ts does. iwae has no score function (no VIMCO): its score-function column
 * asserts the error instead.
 *
 * Tolerance, every component: 5 standard errors, 5·c·SE, where SE is the measured SD of one
 * K-particle estimate at c = 1 for that param tensor (48 seeds, rounded up to two digits; the
 * table and how it was measured are PlateCase.se) and c the scaled() factor, which multiplies every
 * gradient of the cell exactly (same draws, no baseline). An SD from 48 seeds is within ~10–15% of
 * the true one, so the bound is at least ~4.3 true SEs: a false failure is ~1e-5 per component,
 * and the fixed seed makes each run repeatable. The pathwise columns are tight: SE 0.003–0.068,
 * about 1% of a typical gradient component (1–14). The score-function columns have 3–5× the SE
 * (0.018–0.32; Pyro's test_subsample_gradient allows 0.06·scale at 20k+ particles). Entries of params
 * outside the subsample must be exactly 0.
 *
 * Each check can fail for the right reason (tried once, then removed): the subsample scale N/B
 * counted twice fails all 28 subsampled gradient cells; the scaled() factor counted twice (c² for c)
 * fails all 42 scale-2 gradient cells, each by ≥ 13 SEs; N/B wrongly applied to the B-only site v of
 * 'crossed plates, A subsampled' fails all 14 of that case's gradient cells (score-function ones by ~6 SEs).
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import { normal } from '../../src/distributions/normal.js'
import { observe, param, plate, sample, scaled } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import { SiteError } from '../../src/inference/interpreter.js'
import { iwae } from '../../src/inference/iwae.js'
import type { Loss } from '../../src/inference/loss.js'
import { svi } from '../../src/inference/svi.js'
import { K_PARTICLES, PLATE_CASES, nonReparameterized } from './gradient-grid-cases.js'
import type { GuideDist, PlateCase, Wrap } from './gradient-grid-cases.js'

const K = K_PARTICLES
const SEED = 1

/** An estimator of the grid: how it gets its K particles, and which measured SE its reparameterised column has. */
interface Estimator {
  readonly name: string
  readonly loss: Loss
  /** 'vectorised': numParticles K; 'plate': one particle of an explicit particle plate of K, scaled 1/K. */
  readonly particles: 'vectorised' | 'plate'
  readonly se: 'pathwise' | 'analytic' | 'iwae'
}

const ESTIMATORS: readonly Estimator[] = [
  { name: 'elbo() (Trace_ELBO)', loss: elbo({ numParticles: K }), particles: 'vectorised', se: 'pathwise' },
  { name: 'elbo({ downstream: true }) (TraceGraph_ELBO)', loss: elbo({ numParticles: K, downstream: true }), particles: 'vectorised', se: 'pathwise' },
  { name: "elbo({ kl: 'auto' })", loss: elbo({ numParticles: K, kl: 'auto' }), particles: 'vectorised', se: 'analytic' },
  { name: 'iwae({ numParticles: 1 })', loss: iwae({ numParticles: 1 }), particles: 'plate', se: 'iwae' },
]

const GUIDES = [
  { guide: 'reparameterised', q: ((d) => d) as GuideDist },
  { guide: 'score-function', q: nonReparameterized },
] as const

const ctx = (seed: number) => ({ seed, handlers: [], baselines: new Map<string, number>() })

/** scaled(c, …) around the model and the guide alike; for the 'plate' estimators also K particles at the dim left of the case's plates. */
const wrapFor = (pc: PlateCase, est: Estimator, c: number): Wrap => est.particles === 'vectorised'
  ? (body) => scaled(c, body)
  : (body) => scaled(c, () => scaled(1 / K, () => plate('particles', K, { dim: -(pc.depth + 1) }, body)))

/** d surrogate / d guide params of one estimate, flattened as PlateCase.exact, and each component's param tensor. */
const gradient = (pc: PlateCase, est: Estimator, q: GuideDist, c: number): { values: number[]; tensor: number[] } => tf.tidy(() => {
  const wrap = wrapFor(pc, est, c)
  const model = pc.model(wrap)
  const guide = pc.guide(wrap, q)
  const g = tf.grads((...ps: tf.Tensor[]) => est.loss.estimate(model, guide(ps), [] as const, ctx(SEED)).surrogate)(pc.params())
  return { values: g.flatMap((x) => Array.from(x.dataSync())), tensor: g.flatMap((x, i) => Array<number>(x.size).fill(i)) }
})

/** Each component within `tol` of its param tensor of the exact gradient; a component whose exact value is 0 (outside the subsample) exactly 0. */
const expectGradient = (got: { values: readonly number[]; tensor: readonly number[] }, exact: readonly number[], tol: readonly number[]): void => {
  expect(got.values.length).toBe(exact.length)
  exact.forEach((e, j) => {
    const g = got.values[j]!
    const t = tol[got.tensor[j]!]!
    const ok = e === 0 ? g === 0 : Math.abs(g - e) <= t
    if (!ok) expect.fail(`param component ${j}: got ${g}, exact ${e}, |Δ| = ${Math.abs(g - e).toFixed(4)} > tolerance ${e === 0 ? 0 : t.toFixed(4)}`)
  })
}

describe('gradient grid: E[∇ estimate] is the closed-form ∇ELBO', () => {
  for (const pc of PLATE_CASES) {
    describe(pc.name, () => {
      for (const est of ESTIMATORS) {
        describe(est.name, () => {
          for (const { guide, q } of GUIDES) {
            for (const c of [1, 2]) {
              if (est.particles === 'plate' && guide === 'score-function') {
                it(`${guide} guide, scale ${c}: rejected, iwae has no score function`, () => {
                  expect(() => gradient(pc, est, q, c)).toThrow(SiteError)
                  expect(() => gradient(pc, est, q, c)).toThrow(/^iwae: guide site '\w+' \(normal\) is not reparameterised; .*VIMCO/)
                })
              } else {
                it(`${guide} guide, scale ${c}`, () => {
                  const se = guide === 'score-function' ? pc.se.score : pc.se[est.se]
                  expectGradient(gradient(pc, est, q, c), pc.exact(c), se.map((x) => 5 * c * x))
                })
              }
            }
          }
        })
      }
    })
  }
})

describe('memory: svi steps on a subsampled plate with 4 vectorised particles hold numTensors flat', () => {
  const N = 20
  const B = 5
  const model = (x: tf.Tensor) => gen(function* () {
    const mu = yield* sample('mu', normal(0, 1))
    yield* plate('data', N, { subsampleSize: B }, (idx) => gen(function* () {
      const z = yield* sample('z', normal(mu, 1))
      yield* observe('x', normal(z, 1), tf.gather(x, idx))
    }))
  })
  /** The local site reparameterised, or a score-function site with a decaying-average baseline. */
  const guideOf = (scoreFunction: boolean) => (_x: tf.Tensor) => gen(function* () {
    const muLoc = yield* param('muLoc', () => tf.scalar(0))
    const muScale = yield* param('muScale', () => tf.scalar(1), { constraint: constraints.positive })
    const zLoc = yield* param('zLoc', () => tf.zeros([N]))
    const zScale = yield* param('zScale', () => tf.scalar(1), { constraint: constraints.positive })
    yield* sample('mu', normal(muLoc, muScale))
    yield* plate('data', N, { subsampleSize: B }, (idx) => gen(function* () {
      const qz = normal(tf.gather(zLoc, idx), zScale)
      if (scoreFunction) yield* sample('z', nonReparameterized(qz), { baseline: { useDecayingAverage: true } })
      else yield* sample('z', qz)
    }))
  })
  const runs = [
    { name: 'elbo()', loss: elbo({ numParticles: 4 }), scoreFunction: false },
    { name: 'elbo({ downstream: true })', loss: elbo({ numParticles: 4, downstream: true }), scoreFunction: false },
    { name: "elbo({ kl: 'auto' })", loss: elbo({ numParticles: 4, kl: 'auto' }), scoreFunction: false },
    { name: 'iwae({ numParticles: 4 })', loss: iwae({ numParticles: 4 }), scoreFunction: false },
    { name: 'elbo(), score-function guide with a baseline', loss: elbo({ numParticles: 4 }), scoreFunction: true },
    { name: 'elbo({ downstream: true }), score-function guide with a baseline', loss: elbo({ numParticles: 4, downstream: true }), scoreFunction: true },
    { name: "elbo({ kl: 'auto' }), score-function guide with a baseline", loss: elbo({ numParticles: 4, kl: 'auto' }), scoreFunction: true },
  ]

  for (const { name, loss, scoreFunction } of runs) it(`${name}: numTensors after step 3 equals after step 6, and all is freed after`, () => {
    const before = tf.memory().numTensors
    const x = tf.linspace(-2, 2, N)
    const s = svi({ optimizer: tf.train.adam(0.01), loss, seed: 5 })
    const guide = guideOf(scoreFunction)
    const counts: number[] = []
    for (let i = 1; i <= 6; i++) {
      expect(Number.isFinite(s.step(model, guide, x))).toBe(true)
      counts.push(tf.memory().numTensors)
    }
    expect(counts[5], `numTensors after steps 1–6: ${counts.join(', ')}`).toBe(counts[2])
    s.params.dispose()
    s.optimizer.dispose()
    x.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})
