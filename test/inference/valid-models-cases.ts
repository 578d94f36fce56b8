/**
 * The table of test/inference/valid-models.test.ts: model/guide pairs that must run (with the
 * loss each must report, computed here in float64 from the values the step drew) and pairs that
 * must fail with a named error. After the ideas of Pyro's tests/infer/test_valid_models.py,
 * written for tfppl's DSL.
 */
import * as tf from '@tensorflow/tfjs-core'
import { expect } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { categorical } from '../../src/distributions/categorical.js'
import * as constraints from '../../src/distributions/constraints.js'
import { delta } from '../../src/distributions/delta.js'
import { laplace } from '../../src/distributions/laplace.js'
import { normal } from '../../src/distributions/normal.js'
import { oneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import { uniform } from '../../src/distributions/uniform.js'
import type { Message } from '../../src/dsl/messages.js'
import { deterministic, factor, observe, param, plate, sample, scaled, sequentialPlate } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { Effect, Program } from '../../src/dsl/program.js'
import { InvalidArgumentError, NonFiniteArgumentError, SupportError } from '../../src/errors.js'
import { elbo } from '../../src/inference/elbo.js'
import { mask } from '../../src/inference/handlers.js'
import { SiteError } from '../../src/inference/interpreter.js'
import type { Handler } from '../../src/inference/interpreter.js'
import { iwae } from '../../src/inference/iwae.js'
import type { Loss, ProgramFn } from '../../src/inference/loss.js'
import type { Svi } from '../../src/inference/svi.js'
import { logSumExp64, read, softplus64 } from '../helpers.js'

// ---------------------------------------------------------------------------------------------
// estimators

/** The number of particles of the IWAE estimators in the table. */
export const IWAE_K = 3

/**
 * IWAE's particles one at a time: the expected values below read one guide run per particle.
 * (Vectorised particles are not this table's subject; an estimator that does not know the option
 * loops anyway.)
 */
const LOOPED: { readonly perDataPoint?: boolean } = { vectorizeParticles: false } as { readonly perDataPoint?: boolean }

/** The estimators a case runs under. */
export const ESTIMATORS = {
  elbo: () => elbo(),
  downstream: () => elbo({ downstream: true }),
  kl: () => elbo({ kl: 'auto' }),
  iwae: () => iwae(IWAE_K, LOOPED),
  iwaeBatch: () => iwae(IWAE_K, { ...LOOPED, perDataPoint: false }),
} satisfies Record<string, () => Loss>
export type EstimatorName = keyof typeof ESTIMATORS

const ALL: readonly EstimatorName[] = ['elbo', 'downstream', 'kl', 'iwae']
const ELBOS: readonly EstimatorName[] = ['elbo', 'downstream', 'kl']
const SCORE: readonly EstimatorName[] = ['elbo', 'downstream']

// ---------------------------------------------------------------------------------------------
// what a run drew

/** One drawn value, as plain numbers. */
export interface Draw { readonly shape: readonly number[]; readonly data: readonly number[] }

/** What one run of a program drew: each sample site's value and each vectorised plate's indices. */
export class Draws {
  readonly values = new Map<string, Draw>()
  /** The indices of each plate's last entry. */
  readonly indices = new Map<string, number[]>()
  /** The indices of every entry of each plate (a plate may be entered more than once). */
  readonly entries = new Map<string, number[][]>()
  /** The value of a site, flat. */
  v(name: string): number[] {
    const d = this.values.get(name)
    if (d === undefined) throw new Error(`no draw recorded for site '${name}'`)
    return [...d.data]
  }
  /** The value of a scalar site. */
  s(name: string): number { return this.v(name)[0]! }
  /** The subsample a plate got. */
  idx(name: string): number[] {
    const i = this.indices.get(name)
    if (i === undefined) throw new Error(`no indices recorded for plate '${name}'`)
    return i
  }
}

/** The program, recording what it draws into a fresh {@link Draws} appended to `runs` (one per run). */
export const recording = <A>(runs: Draws[], program: Program<Message, A>): Program<Message, A> => gen(function* () {
  const draws = new Draws()
  runs.push(draws)
  const it = program.run()
  let step = it.next()
  while (step.done !== true) {
    const msg = step.value
    const answer: unknown = yield msg
    if (msg._tag === 'Sample' && answer instanceof tf.Tensor) draws.values.set(msg.name, { shape: answer.shape, data: read(answer) })
    if (msg._tag === 'PlateEnter' && msg.frame.iteration === undefined && answer instanceof tf.Tensor) {
      draws.indices.set(msg.frame.name, read(answer))
      draws.entries.set(msg.frame.name, [...(draws.entries.get(msg.frame.name) ?? []), read(answer)])
    }
    step = it.next(answer)
  }
  return step.value
})

/**
 * Runs `body` with each of its messages rewritten by `handler` first: a handler scoped to part of a
 * program, as Pyro's `with poutine.mask(...)`.
 */
const within = <A>(handler: Handler, body: { [Symbol.iterator](): Iterator<Message, A, unknown> }): Program<Message, A> => gen(function* () {
  const pass = (msg: Message) => ({ msg, value: undefined })
  const it = body[Symbol.iterator]()
  let step = it.next()
  while (step.done !== true) {
    const answer: unknown = yield handler(step.value, pass, pass).msg
    step = it.next(answer)
  }
  return step.value
})

/** One effect as a program (a plate, sequential plate or scaled scope takes a program as its body). */
const lift = <M extends Message, A>(e: Effect<M, A>): Program<M, A> => gen(function* () { return yield* e })

/** `body` with its sample and factor sites masked by `pattern` (true: counts), through the `mask` handler. */
const masked = <A>(pattern: readonly boolean[], body: { [Symbol.iterator](): Iterator<Message, A, unknown> }): Program<Message, A> =>
  gen(function* () { return yield* within(mask(tf.tensor1d(pattern.map((b) => (b ? 1 : 0)), 'bool')), body) })

// ---------------------------------------------------------------------------------------------
// float64 reference densities

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)
const lnNormal = (x: number, loc: number, scale: number): number => -0.5 * ((x - loc) / scale) ** 2 - Math.log(scale) - HALF_LOG_2PI
const lnLaplace = (x: number, loc: number, scale: number): number => -Math.abs(x - loc) / scale - Math.log(2 * scale)
const lnBernoulliProbs = (z: number, p: number): number => Math.log(z === 1 ? p : 1 - p)
const lnBernoulliLogits = (z: number, logit: number): number => z * logit - softplus64(logit)
const lnCategorical = (k: number, logits: readonly number[]): number => logits[k]! - logSumExp64(logits)
/** KL(N(m1, s1) ‖ N(m2, s2)). */
const klNormal = (m1: number, s1: number, m2: number, s2: number): number => Math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
/** KL(Laplace(m1, b1) ‖ Laplace(m2, b2)). */
const klLaplace = (m1: number, b1: number, m2: number, b2: number): number => {
  const d = Math.abs(m1 - m2)
  return Math.log(b2 / b1) + d / b2 + (b1 / b2) * Math.exp(-d / b1) - 1
}
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/**
 * The loss a step reports, from each particle's log weights (one per data point, or one in all):
 * −ELBO or −IWAE per data point, as README and `svi` define it.
 */
export const expectedLoss = (est: EstimatorName, weights: readonly (readonly number[])[], points: number): number => {
  if (est === 'iwae') return -sum(range(weights[0]!.length).map((i) => logSumExp64(weights.map((w) => w[i]!)) - Math.log(weights.length))) / points
  if (est === 'iwaeBatch') return -(logSumExp64(weights.map(sum)) - Math.log(weights.length)) / points
  return -sum(weights[0]!) / points
}

// ---------------------------------------------------------------------------------------------
// the table's types

export type Fn = ProgramFn<readonly [tf.Tensor], Message>

/** A pair that must run: two steps give finite losses, the first equal to `weights`' loss. */
export interface ValidCase {
  readonly name: string
  readonly model: Fn
  readonly guide: Fn
  readonly data: () => tf.Tensor
  readonly estimators: readonly EstimatorName[]
  /** Data points the loss is divided by (default: the data's leading dim, or 1 for a scalar). */
  readonly points?: number
  /**
   * Log weights of one particle from its guide draws `q` and model draws `p`, one per data point
   * (IWAE) or one in all; `kl`: with the analytic KL of `elbo({ kl: 'auto' })`.
   */
  readonly weights: (q: Draws, p: Draws, kl: boolean) => readonly number[]
  /** Estimators whose value is not compared (only finite): their semantics here are still being settled. */
  readonly valueNotChecked?: readonly EstimatorName[]
  /** Further checks after the steps (draw shapes, constraints, baselines). */
  readonly after?: (s: Svi, q: Draws) => void
}

/** A pair that must fail with an error of class `error` whose message matches every pattern. */
export interface InvalidCase {
  readonly name: string
  readonly model: Fn
  readonly guide: Fn
  readonly data: () => tf.Tensor
  /** Estimators by name, or [label, factory] for an estimator built with bad options. */
  readonly estimators: readonly (EstimatorName | readonly [string, () => Loss])[]
  readonly error: abstract new (...args: never[]) => Error
  readonly message: readonly RegExp[]
}

// ---------------------------------------------------------------------------------------------
// shared pieces

const X1 = 1.3
const X4 = [0.5, -1, 2, 0.3]
const X8 = range(8).map((i) => -1 + (2 * i) / 7)
const M4 = [0.1, 0.2, 0.3, 0.4]
const scalarData = () => tf.scalar(X1)
const data4 = () => tf.tensor1d(X4)
const data8 = () => tf.tensor1d(X8)
const noData = () => tf.scalar(0)
const empty = () => gen(function* () { /* nothing */ })
const loc = (name: string, init: number) => param(name, () => tf.scalar(init))
const pos = (name: string, init: number) => param(name, () => tf.scalar(init), { constraint: constraints.positive })
const vec = (name: string, init: readonly number[]) => param(name, () => tf.tensor1d([...init]))

/** z ~ N(0, 1), x | z ~ N(z, 1): the smallest model with a latent. */
const gaussModel: Fn = (x) => gen(function* () {
  const z = yield* sample('z', normal(0, 1))
  yield* observe('x', normal(z, 1), x)
})
/** q(z) = N(m, s), m = 0.4, s = 0.8 to start. */
const gaussGuide: Fn = () => gen(function* () {
  yield* sample('z', normal(yield* loc('m', 0.4), yield* pos('s', 0.8)))
})
const gaussWeights = (q: Draws, kl: boolean, m = 0.4, s = 0.8): number[] => {
  const z = q.s('z')
  return [(kl ? -klNormal(m, s, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, m, s)) + lnNormal(X1, z, 1)]
}

/** z ~ Bernoulli(0.3), x | z ~ N(2z, 1): a discrete latent. */
const bernModel: Fn = (x) => gen(function* () {
  const z = yield* sample('z', bernoulli({ probs: 0.3 }))
  yield* observe('x', normal(tf.mul(z, 2), 1), x)
})
const bernWeights = (z: number, logit: number, x = X1): number =>
  lnBernoulliProbs(z, 0.3) + lnNormal(x, 2 * z, 1) - lnBernoulliLogits(z, logit)

/** A plate of 4 local Gaussian latents z_i ~ N(0, 1), x_i | z_i ~ N(z_i, 1). */
const localModel: Fn = (x) => gen(function* () {
  yield* plate('data', 4, {}, () => gen(function* () {
    const z = yield* sample('z', normal(0, 1))
    yield* observe('x', normal(z, 1), x)
  }))
})
const localWeights = (q: Draws, kl: boolean, locs: readonly number[] = M4, keep: readonly boolean[] = [true, true, true, true]): number[] =>
  q.v('z').map((z, i) => (kl ? -klNormal(locs[i]!, 1, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, locs[i]!, 1)) + (keep[i] ? lnNormal(X4[i]!, z, 1) : 0))

/** A global mu ~ N(0, 2) and a data plate of `size` (subsampled to `sub`) observing x_i ~ N(mu, 1). */
const globalModel = (size: number, sub: number, beta = 1): Fn => (x) => gen(function* () {
  const mu = yield* sample('mu', normal(0, 2))
  yield* plate('data', size, { subsampleSize: sub }, (idx) => gen(function* () {
    yield* scaled(beta, () => lift(observe('x', normal(mu, 1), tf.gather(x, idx))))
  }))
})
const globalGuide: Fn = () => gen(function* () {
  yield* sample('mu', normal(yield* loc('m', 0.2), yield* pos('s', 0.6)))
})
const globalWeights = (q: Draws, p: Draws, kl: boolean, xs: readonly number[], scale: number): number[] => {
  const mu = q.s('mu')
  const prior = kl ? -klNormal(0.2, 0.6, 0, 2) : lnNormal(mu, 0, 2) - lnNormal(mu, 0.2, 0.6)
  const idx = p.indices.has('data') ? p.idx('data') : range(xs.length)
  return [prior + scale * sum(idx.map((i) => lnNormal(xs[i]!, mu, 1)))]
}

/** Bernoulli(0.3) in the model and Bernoulli(logits l) in the guide, l = 0 to start: a site's log p − log q. */
const bernTerm = (z: number): number => lnBernoulliProbs(z, 0.3) - lnBernoulliLogits(z, 0)
const bernSite = (name: string) => sample(name, bernoulli({ probs: 0.3 }))
/** A guide's Bernoulli site with logits l (a param). */
const bernGuideSite = (name: string) => gen(function* () { return yield* sample(name, bernoulli({ logits: yield* loc('l', 0) })) })

const MEANS = [-2, 0, 2]
const catLogits = [0, 0.5, -0.5]

// ---------------------------------------------------------------------------------------------
// pairs that must run

export const VALID: readonly ValidCase[] = [
  // --- programs without params (Pyro runs them: the loss is computed, nothing is updated)
  { name: 'an empty model and an empty guide', estimators: ALL, data: scalarData,
    model: empty, guide: empty, weights: () => [0] },
  { name: 'an observation and an empty guide', estimators: ALL, data: scalarData,
    model: (x) => gen(function* () { yield* observe('x', normal(0, 1), x) }), guide: empty,
    weights: () => [lnNormal(X1, 0, 1)] },
  { name: 'a Gaussian latent and a guide without params', estimators: ALL, data: scalarData,
    model: gaussModel, guide: () => gen(function* () { yield* sample('z', normal(0.5, 0.7)) }),
    weights: (q, _p, kl) => gaussWeights(q, kl, 0.5, 0.7) },
  { name: 'a discrete latent and a guide without params (score function)', estimators: SCORE, data: scalarData,
    model: bernModel, guide: () => gen(function* () { yield* sample('z', bernoulli({ probs: 0.6 })) }),
    weights: (q) => [lnBernoulliProbs(q.s('z'), 0.3) + lnNormal(X1, 2 * q.s('z'), 1) - lnBernoulliProbs(q.s('z'), 0.6)] },
  { name: 'a scalar distribution observing a vector of data outside any plate (it broadcasts over the data)', estimators: ALL, data: data4,
    model: (x) => gen(function* () { yield* observe('x', normal(0, 1), x) }), guide: empty,
    weights: () => X4.map((x) => lnNormal(x, 0, 1)) },

  // --- reparameterised guides
  { name: 'a Gaussian latent and a Gaussian guide', estimators: ALL, data: scalarData,
    model: gaussModel, guide: gaussGuide, weights: (q, _p, kl) => gaussWeights(q, kl),
    after: (s) => expect(read(s.params.value('s')!)[0]).toBeGreaterThan(0) },
  { name: 'a MAP (delta) guide: log q is 0', estimators: ALL, data: scalarData,
    model: gaussModel, guide: () => gen(function* () { yield* sample('z', delta(yield* loc('z_map', 0.7))) }),
    weights: () => [lnNormal(0.7, 0, 1) + lnNormal(X1, 0.7, 1)] },
  { name: 'a hierarchical chain whose guide samples in the other order', estimators: ['elbo', 'downstream', 'iwae'], data: scalarData,
    model: (x) => gen(function* () {
      const z1 = yield* sample('z1', normal(0, 1))
      const z2 = yield* sample('z2', normal(z1, 1))
      yield* observe('x', normal(z2, 1), x)
    }),
    guide: () => gen(function* () {
      const z2 = yield* sample('z2', normal(yield* loc('m2', 0.3), 1))
      yield* sample('z1', normal(tf.mul(z2, yield* loc('a', 0.5)), 1))
    }),
    weights: (q) => {
      const [z1, z2] = [q.s('z1'), q.s('z2')]
      return [lnNormal(z1, 0, 1) + lnNormal(z2, z1, 1) + lnNormal(X1, z2, 1) - lnNormal(z2, 0.3, 1) - lnNormal(z1, 0.5 * z2, 1)]
    } },
  { name: 'a deterministic site between a latent and its observation', estimators: ALL, data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(yield* deterministic('twice', tf.mul(z, 2)), 1), x)
    }),
    guide: gaussGuide,
    weights: (q, _p, kl) => {
      const z = q.s('z')
      return [(kl ? -klNormal(0.4, 0.8, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, 0.4, 0.8)) + lnNormal(X1, 2 * z, 1)]
    } },
  { name: 'a param in the model only (the prior scale)', estimators: ALL, data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* sample('z', normal(0, yield* pos('prior_scale', 1.5)))
      yield* observe('x', normal(z, 1), x)
    }),
    guide: () => gen(function* () { yield* sample('z', normal(0.5, 0.7)) }),
    weights: (q, _p, kl) => {
      const z = q.s('z')
      return [(kl ? -klNormal(0.5, 0.7, 0, 1.5) : lnNormal(z, 0, 1.5) - lnNormal(z, 0.5, 0.7)) + lnNormal(X1, z, 1)]
    } },
  { name: 'a guide param the loss does not depend on is left as it is', estimators: ALL, data: scalarData,
    model: gaussModel,
    guide: () => gen(function* () {
      yield* param('unused', () => tf.scalar(0.25))
      yield* sample('z', normal(yield* loc('m', 0.4), 0.8))
    }),
    weights: (q, _p, kl) => gaussWeights(q, kl),
    after: (s) => expect(read(s.params.value('unused')!)).toEqual([0.25]) },
  { name: 'an amortised guide: q(z_i | x_i) = N(a·x_i, s) in a plate', estimators: ALL, data: data4,
    model: localModel,
    guide: (x) => gen(function* () {
      const a = yield* loc('a', 0.5)
      const s = yield* pos('s', 0.9)
      yield* plate('data', 4, {}, () => gen(function* () { yield* sample('z', normal(tf.mul(a, x), s)) }))
    }),
    weights: (q, _p, kl) => q.v('z').map((z, i) =>
      (kl ? -klNormal(0.5 * X4[i]!, 0.9, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, 0.5 * X4[i]!, 0.9)) + lnNormal(X4[i]!, z, 1)) },

  // --- nonreparameterised guide sites (score function)
  { name: 'a Bernoulli latent with a Bernoulli guide', estimators: ELBOS, data: scalarData,
    model: bernModel, guide: () => bernGuideSite('z'), weights: (q) => [bernWeights(q.s('z'), 0)] },
  { name: 'a categorical latent with a categorical guide', estimators: ELBOS, data: scalarData,
    model: (x) => gen(function* () {
      const k = yield* sample('k', categorical({ logits: tf.tensor1d(catLogits) }))
      yield* observe('x', normal(tf.gather(tf.tensor1d(MEANS), tf.cast(k, 'int32')), 1), x)
    }),
    guide: () => gen(function* () { yield* sample('k', categorical({ logits: yield* vec('ql', [0.1, 0.2, 0.3]) })) }),
    weights: (q) => {
      const k = q.s('k')
      return [lnCategorical(k, catLogits) + lnNormal(X1, MEANS[k]!, 1) - lnCategorical(k, [0.1, 0.2, 0.3])]
    } },
  { name: 'a one-hot categorical latent with a one-hot guide', estimators: SCORE, data: scalarData,
    model: (x) => gen(function* () {
      const c = yield* sample('c', oneHotCategorical({ logits: tf.tensor1d(catLogits) }))
      yield* observe('x', normal(tf.sum(tf.mul(c, tf.tensor1d(MEANS))), 1), x)
    }),
    guide: () => gen(function* () { yield* sample('c', oneHotCategorical({ logits: yield* vec('ql', [0.1, 0.2, 0.3]) })) }),
    weights: (q) => {
      const k = q.v('c').indexOf(1)
      return [lnCategorical(k, catLogits) + lnNormal(X1, MEANS[k]!, 1) - lnCategorical(k, [0.1, 0.2, 0.3])]
    } },
  { name: 'a discrete and a continuous latent: score function and pathwise together', estimators: ELBOS, data: scalarData,
    model: (x) => gen(function* () {
      const k = yield* sample('k', bernoulli({ probs: 0.4 }))
      const z = yield* sample('z', normal(tf.sub(tf.mul(k, 2), 1), 1))
      yield* observe('x', normal(z, 0.5), x)
    }),
    guide: () => gen(function* () {
      yield* sample('k', bernoulli({ logits: yield* loc('lk', 0.1) }))
      yield* sample('z', normal(yield* loc('mz', 0.2), yield* pos('sz', 0.9)))
    }),
    weights: (q, _p, kl) => {
      const [k, z] = [q.s('k'), q.s('z')]
      const zTerm = kl ? -klNormal(0.2, 0.9, 2 * k - 1, 1) : lnNormal(z, 2 * k - 1, 1) - lnNormal(z, 0.2, 0.9)
      return [lnBernoulliProbs(k, 0.4) - lnBernoulliLogits(k, 0.1) + zTerm + lnNormal(X1, z, 0.5)]
    } },
  { name: 'enumeration-free discrete latents: a categorical per data point in a plate', estimators: SCORE, data: data4,
    model: (x) => gen(function* () {
      yield* plate('data', 4, {}, () => gen(function* () {
        const k = yield* sample('k', categorical({ logits: tf.tensor1d(catLogits) }))
        yield* observe('x', normal(tf.gather(tf.tensor1d(MEANS), tf.cast(k, 'int32')), 1), x)
      }))
    }),
    guide: () => gen(function* () {
      const ql = yield* param('ql', () => tf.tensor2d([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0.5, 0.5, 0]]))
      yield* plate('data', 4, {}, () => gen(function* () { yield* sample('k', categorical({ logits: ql })) }))
    }),
    weights: (q) => {
      const ql = [[0, 1, 0], [1, 0, 0], [0, 0, 1], [0.5, 0.5, 0]]
      return q.v('k').map((k, i) => lnCategorical(k, catLogits) + lnNormal(X4[i]!, MEANS[k]!, 1) - lnCategorical(k, ql[i]!))
    } },

  // --- per-site baselines (valid forms)
  { name: 'a decaying-average baseline on a Bernoulli site in a plate: svi keeps it by site name', estimators: SCORE, data: data4,
    model: (x) => gen(function* () {
      yield* plate('data', 4, {}, () => gen(function* () {
        const z = yield* bernSite('z')
        yield* observe('x', normal(tf.mul(z, 2), 1), x)
      }))
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      yield* plate('data', 4, {}, () => gen(function* () { yield* sample('z', bernoulli({ logits: l }), { baseline: { useDecayingAverage: true, beta: 0.5 } }) }))
    }),
    weights: (q) => q.v('z').map((z, i) => bernWeights(z, 0, X4[i]!)),
    after: (s) => {
      expect(Object.keys(s.state.baselines)).toEqual(['z'])
      expect(Number.isFinite(s.state.baselines['z'])).toBe(true)
    } },
  { name: 'a fixed-value baseline: the reported loss is the ELBO, not the surrogate, and nothing is kept', estimators: SCORE, data: scalarData,
    model: bernModel,
    guide: () => gen(function* () { yield* sample('z', bernoulli({ logits: yield* loc('l', 0) }), { baseline: { value: 1.5 } }) }),
    weights: (q) => [bernWeights(q.s('z'), 0)],
    after: (s) => expect(s.state.baselines).toEqual({}) },
  { name: 'a tensor-valued baseline', estimators: SCORE, data: scalarData,
    model: bernModel,
    guide: () => gen(function* () { yield* sample('z', bernoulli({ logits: yield* loc('l', 0) }), { baseline: { value: tf.scalar(-0.5) } }) }),
    weights: (q) => [bernWeights(q.s('z'), 0)] },
  { name: 'a baseline on a reparameterised site is unused', estimators: ALL, data: scalarData,
    model: gaussModel,
    guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m', 0.4), yield* pos('s', 0.8)), { baseline: { useDecayingAverage: true } }) }),
    weights: (q, _p, kl) => gaussWeights(q, kl),
    after: (s) => expect(s.state.baselines).toEqual({}) },

  // --- vectorised plates
  { name: 'a plate of local Gaussian latents', estimators: ALL, data: data4,
    model: localModel,
    guide: () => gen(function* () {
      const m = yield* vec('m', M4)
      yield* plate('data', 4, {}, () => gen(function* () { yield* sample('z', normal(m, 1)) }))
    }),
    weights: (q, _p, kl) => localWeights(q, kl) },
  { name: 'a plate of local Bernoulli latents (per-element score function)', estimators: ELBOS, data: data4,
    model: (x) => gen(function* () {
      yield* plate('data', 4, {}, () => gen(function* () {
        const z = yield* bernSite('z')
        yield* observe('x', normal(tf.mul(z, 2), 1), x)
      }))
    }),
    guide: () => gen(function* () {
      const l = yield* vec('l', [0.3, -0.3, 0.6, 0])
      yield* plate('data', 4, {}, () => gen(function* () { yield* sample('z', bernoulli({ logits: l })) }))
    }),
    weights: (q) => q.v('z').map((z, i) => bernWeights(z, [0.3, -0.3, 0.6, 0][i]!, X4[i]!)) },
  { name: 'a global latent and a data plate in the model only', estimators: ALL, data: data4, valueNotChecked: ['iwae'],
    model: globalModel(4, 4), guide: globalGuide, weights: (q, p, kl) => globalWeights(q, p, kl, X4, 1) },
  { name: 'a global latent with the whole-batch IWAE', estimators: ['iwaeBatch'], data: data4,
    model: globalModel(4, 4), guide: globalGuide, weights: (q, p) => globalWeights(q, p, false, X4, 1) },
  { name: 'nested plates (a: 4 at dim -1, b: 3 at dim -2) of Gaussian latents', estimators: ELBOS, data: () => tf.tensor2d([X4, X4.map((v) => -v), X4.map((v) => 2 * v)]),
    model: (y) => gen(function* () {
      yield* plate('a', 4, {}, () => plate('b', 3, {}, () => gen(function* () {
        const z = yield* sample('z', normal(0, 1))
        yield* observe('y', normal(z, 1), y)
      })))
    }),
    guide: () => gen(function* () {
      const m = yield* param('m', () => tf.fill([3, 4], 0.2))
      yield* plate('a', 4, {}, () => plate('b', 3, {}, () => gen(function* () { yield* sample('z', normal(m, 1)) })))
    }),
    weights: (q, _p, kl) => {
      const y = [...X4, ...X4.map((v) => -v), ...X4.map((v) => 2 * v)]
      return q.v('z').map((z, i) => (kl ? -klNormal(0.2, 1, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, 0.2, 1)) + lnNormal(y[i]!, z, 1))
    },
    after: (_s, q) => expect(q.values.get('z')!.shape).toEqual([3, 4]) },
  { name: 'crossed plates: rows (dim -2) and columns (dim -1) latents, observations in both', estimators: ELBOS, data: () => tf.tensor2d([X4, X4, X4]),
    model: (y) => gen(function* () {
      const r = yield* plate('rows', 3, { dim: -2 }, () => lift(sample('r', normal(0, 1))))
      const c = yield* plate('cols', 4, { dim: -1 }, () => lift(sample('c', normal(0, 1))))
      yield* plate('rows', 3, { dim: -2 }, () => plate('cols', 4, { dim: -1 }, () => lift(observe('y', normal(tf.add(r, c), 1), y))))
    }),
    guide: () => gen(function* () {
      const mr = yield* param('mr', () => tf.tensor2d([[0.1], [0.2], [0.3]]))
      yield* plate('rows', 3, { dim: -2 }, () => lift(sample('r', normal(mr, 1))))
      yield* plate('cols', 4, { dim: -1 }, () => lift(sample('c', normal(0, 1))))
    }),
    weights: (q, _p, kl) => {
      const [r, c] = [q.v('r'), q.v('c')]
      const rows = r.map((v, i) => (kl ? -klNormal([0.1, 0.2, 0.3][i]!, 1, 0, 1) : lnNormal(v, 0, 1) - lnNormal(v, [0.1, 0.2, 0.3][i]!, 1)))
      const cols = c.map((v) => (kl ? 0 : lnNormal(v, 0, 1) - lnNormal(v, 0, 1)))
      const obs = r.flatMap((ri) => c.map((cj, j) => lnNormal(X4[j]!, ri + cj, 1)))
      return [sum(rows) + sum(cols) + sum(obs)]
    },
    after: (_s, q) => { expect(q.values.get('r')!.shape).toEqual([3, 1]); expect(q.values.get('c')!.shape).toEqual([4]) } },
  { name: 'nested subsampled plates of Bernoulli latents (outer 10→5, inner 11→6)', estimators: SCORE, data: noData, points: 11,
    model: () => gen(function* () {
      yield* plate('outer', 10, { subsampleSize: 5 }, () => gen(function* () {
        yield* bernSite('x')
        yield* plate('inner', 11, { subsampleSize: 6 }, () => lift(bernSite('y')))
      }))
    }),
    guide: () => gen(function* () {
      yield* plate('outer', 10, { subsampleSize: 5 }, () => gen(function* () {
        yield* bernGuideSite('x')
        yield* plate('inner', 11, { subsampleSize: 6 }, () => lift(sample('y', bernoulli({ logits: tf.scalar(0) }))))
      }))
    }),
    weights: (q) => [2 * sum(q.v('x').map(bernTerm)) + 2 * (11 / 6) * sum(q.v('y').map(bernTerm))],
    after: (_s, q) => expect(q.values.get('y')!.shape).toEqual([6, 5]) },
  { name: 'dims: an outer plate at dim -3 and two auto plates inside it take -1 and -2', estimators: SCORE, data: noData, points: 12,
    model: () => gen(function* () {
      yield* plate('outer', 10, { subsampleSize: 5, dim: -3 }, () => gen(function* () {
        yield* bernSite('x')
        yield* plate('inner1', 11, { subsampleSize: 6 }, () => gen(function* () {
          yield* bernSite('y')
          yield* plate('inner2', 12, { subsampleSize: 7 }, () => lift(bernSite('z')))
        }))
      }))
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      const site = (name: string) => sample(name, bernoulli({ logits: l }))
      yield* plate('outer', 10, { subsampleSize: 5, dim: -3 }, () => gen(function* () {
        yield* site('x')
        yield* plate('inner1', 11, { subsampleSize: 6 }, () => gen(function* () {
          yield* site('y')
          yield* plate('inner2', 12, { subsampleSize: 7 }, () => lift(site('z')))
        }))
      }))
    }),
    weights: (q) => [2 * sum(q.v('x').map(bernTerm)) + 2 * (11 / 6) * sum(q.v('y').map(bernTerm)) + 2 * (11 / 6) * (12 / 7) * sum(q.v('z').map(bernTerm))],
    after: (_s, q) => {
      expect(q.values.get('x')!.shape).toEqual([5, 1, 1])
      expect(q.values.get('y')!.shape).toEqual([5, 1, 6])
      expect(q.values.get('z')!.shape).toEqual([5, 7, 6])
    } },
  { name: 'plates re-entered: outer (dim -1) alone, inner (dim -2) alone, then both', estimators: SCORE, data: noData, points: 11,
    model: () => gen(function* () {
      yield* plate('outer', 10, { subsampleSize: 5, dim: -1 }, () => lift(bernSite('x')))
      yield* plate('inner', 11, { subsampleSize: 6, dim: -2 }, () => lift(bernSite('y')))
      yield* plate('outer', 10, { subsampleSize: 5, dim: -1 }, () => plate('inner', 11, { subsampleSize: 6, dim: -2 }, () => lift(bernSite('z'))))
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      const site = (name: string) => sample(name, bernoulli({ logits: l }))
      yield* plate('outer', 10, { subsampleSize: 5, dim: -1 }, () => lift(site('x')))
      yield* plate('inner', 11, { subsampleSize: 6, dim: -2 }, () => lift(site('y')))
      yield* plate('outer', 10, { subsampleSize: 5, dim: -1 }, () => plate('inner', 11, { subsampleSize: 6, dim: -2 }, () => lift(site('z'))))
    }),
    weights: (q) => [2 * sum(q.v('x').map(bernTerm)) + (11 / 6) * sum(q.v('y').map(bernTerm)) + 2 * (11 / 6) * sum(q.v('z').map(bernTerm))],
    after: (_s, q) => {
      expect([q.values.get('x')!.shape, q.values.get('y')!.shape, q.values.get('z')!.shape]).toEqual([[5], [6, 1], [6, 5]])
      // Each entry of a plate gets the same subsample, so x_i and z_·i are the same element.
      for (const name of ['outer', 'inner']) expect(new Set(q.entries.get(name)!.map((e) => e.join(','))).size).toBe(1)
    } },
  { name: 'sibling plates, both at dim -1', estimators: SCORE, data: noData, points: 11,
    model: () => gen(function* () {
      yield* plate('p0', 10, { subsampleSize: 5 }, () => lift(bernSite('x0')))
      yield* plate('p1', 11, { subsampleSize: 6 }, () => lift(bernSite('x1')))
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      yield* plate('p0', 10, { subsampleSize: 5 }, () => lift(sample('x0', bernoulli({ logits: l }))))
      yield* plate('p1', 11, { subsampleSize: 6 }, () => lift(sample('x1', bernoulli({ logits: l }))))
    }),
    weights: (q) => [2 * sum(q.v('x0').map(bernTerm)) + (11 / 6) * sum(q.v('x1').map(bernTerm))] },
  { name: 'a plate given dim -2: sites have shape [4, 1]', estimators: ALL, data: () => tf.tensor2d(X4.map((v) => [v])),
    model: (x) => gen(function* () {
      yield* plate('data', 4, { dim: -2 }, () => gen(function* () {
        const z = yield* sample('z', normal(0, 1))
        yield* observe('x', normal(z, 1), x)
      }))
    }),
    guide: () => gen(function* () {
      const m = yield* param('m', () => tf.tensor2d(M4.map((v) => [v])))
      yield* plate('data', 4, { dim: -2 }, () => lift(sample('z', normal(m, 1))))
    }),
    weights: (q, _p, kl) => localWeights(q, kl),
    after: (_s, q) => expect(q.values.get('z')!.shape).toEqual([4, 1]) },

  // --- subsampling
  { name: 'a randomly subsampled data plate (8 → 4) with a global latent: log p(x) scaled by 2', estimators: ELBOS, data: data8, points: 8,
    model: globalModel(8, 4), guide: globalGuide, weights: (q, p, kl) => globalWeights(q, p, kl, X8, 2) },
  { name: 'a randomly subsampled plate of local latents: the model gets the guide’s subsample', estimators: ALL, data: data8, points: 8,
    model: (x) => gen(function* () {
      yield* plate('data', 8, { subsampleSize: 4 }, (idx) => gen(function* () {
        const z = yield* sample('z', normal(0, 1))
        yield* observe('x', normal(z, 1), tf.gather(x, idx))
      }))
    }),
    guide: () => gen(function* () {
      const m = yield* param('m', () => tf.linspace(0, 0.7, 8))
      yield* plate('data', 8, { subsampleSize: 4 }, (idx) => lift(sample('z', normal(tf.gather(m, idx), 1))))
    }),
    weights: (q, p, kl) => {
      expect(p.idx('data')).toEqual(q.idx('data'))
      return q.idx('data').map((i, j) => {
        const z = q.v('z')[j]!, m = 0.1 * i
        return 2 * ((kl ? -klNormal(m, 1, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, m, 1)) + lnNormal(X8[i]!, z, 1))
      })
    } },
  { name: 'user-given subsample indices, the same in the model and the guide', estimators: ALL, data: data8, points: 8,
    model: (x) => gen(function* () {
      yield* plate('data', 8, { subsample: tf.tensor1d([1, 5, 6], 'int32') }, (idx) => gen(function* () {
        const z = yield* sample('z', normal(0, 1))
        yield* observe('x', normal(z, 1), tf.gather(x, idx))
      }))
    }),
    guide: () => gen(function* () {
      const m = yield* param('m', () => tf.linspace(0, 0.7, 8))
      yield* plate('data', 8, { subsample: tf.tensor1d([1, 5, 6], 'int32') }, (idx) => lift(sample('z', normal(tf.gather(m, idx), 1))))
    }),
    weights: (q, _p, kl) => [1, 5, 6].map((i, j) => {
      const z = q.v('z')[j]!, m = 0.1 * i
      return (8 / 3) * ((kl ? -klNormal(m, 1, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, m, 1)) + lnNormal(X8[i]!, z, 1))
    }) },

  { name: 'the model’s own subsample indices, a guide without that plate: the model uses its own (Pyro’s subsample=)', estimators: ALL, data: data8, points: 8,
    model: (x) => gen(function* () {
      const mu = yield* sample('mu', normal(0, 2))
      yield* plate('data', 8, { subsample: tf.tensor1d([1, 5, 6], 'int32') }, (idx) => lift(observe('x', normal(mu, 1), tf.gather(x, idx))))
    }),
    guide: globalGuide,
    weights: (q, p, kl) => {
      expect(p.idx('data')).toEqual([1, 5, 6])
      return globalWeights(q, p, kl, X8, 8 / 3)
    } },

  // --- sequential plates
  { name: 'a sequential plate of Gaussian latents, one site name per iteration', estimators: ALL, data: () => tf.tensor1d([1, 2, 3]),
    model: (x) => gen(function* () {
      yield* sequentialPlate('s', 3, {}, (i) => gen(function* () {
        const z = yield* sample(`z_${i}`, normal(0, 1))
        yield* observe(`x_${i}`, normal(z, 1), tf.gather(x, i))
      }))
    }),
    guide: () => gen(function* () {
      const m = yield* vec('m', [0.1, 0.2, 0.3])
      yield* sequentialPlate('s', 3, {}, (i) => lift(sample(`z_${i}`, normal(tf.gather(m, i), 1))))
    }),
    weights: (q, _p, kl) => [sum(range(3).map((i) => {
      const z = q.s(`z_${i}`), m = 0.1 * (i + 1)
      return (kl ? -klNormal(m, 1, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, m, 1)) + lnNormal(i + 1, z, 1)
    }))] },
  { name: 'a subsampled sequential plate of Bernoulli latents (3 → [0, 2], scale 3/2)', estimators: SCORE, data: () => tf.tensor1d([1, 2, 3]), points: 3,
    model: (x) => gen(function* () {
      yield* sequentialPlate('s', 3, { subsample: [0, 2] }, (i) => gen(function* () {
        const z = yield* bernSite(`z_${i}`)
        yield* observe(`x_${i}`, normal(tf.mul(z, 2), 1), tf.gather(x, i))
      }))
    }),
    guide: () => gen(function* () {
      const l = yield* vec('l', [0.5, 0, -0.5])
      yield* sequentialPlate('s', 3, { subsample: [0, 2] }, (i) => lift(sample(`z_${i}`, bernoulli({ logits: tf.gather(l, i) }))))
    }),
    weights: (q) => [1.5 * sum([0, 2].map((i) => bernWeights(q.s(`z_${i}`), [0.5, 0, -0.5][i]!, i + 1)))] },
  { name: 'a vectorised plate inside a sequential plate (Bernoulli latents)', estimators: SCORE, data: data4,
    model: (x) => gen(function* () {
      yield* sequentialPlate('s', 2, {}, (i) => plate('data', 4, {}, () => gen(function* () {
        const z = yield* bernSite(`z_${i}`)
        yield* observe(`x_${i}`, normal(tf.mul(z, 2), 1), x)
      })))
    }),
    guide: () => gen(function* () {
      const l = yield* vec('l', [0.3, -0.3, 0.6, 0])
      yield* sequentialPlate('s', 2, {}, (i) => plate('data', 4, {}, () => lift(sample(`z_${i}`, bernoulli({ logits: l })))))
    }),
    weights: (q) => [0, 1].flatMap((i) => q.v(`z_${i}`).map((z, j) => bernWeights(z, [0.3, -0.3, 0.6, 0][j]!, X4[j]!))) },
  { name: 'a subsampled sequential plate inside a subsampled vectorised plate', estimators: SCORE, data: noData, points: 3,
    model: () => gen(function* () {
      yield* plate('p', 3, { subsampleSize: 2 }, () => sequentialPlate('s', 3, { subsample: [0, 1] }, (i) => lift(bernSite(`x_${i}`))))
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      yield* plate('p', 3, { subsampleSize: 2 }, () => sequentialPlate('s', 3, { subsample: [0, 1] }, (i) => lift(sample(`x_${i}`, bernoulli({ logits: l })))))
    }),
    weights: (q) => [2.25 * sum([0, 1].flatMap((i) => q.v(`x_${i}`).map(bernTerm)))] },
  { name: 'plates at different depths under sequential plates (Pyro’s three independent plates)', estimators: SCORE, data: noData, points: 10,
    model: () => gen(function* () {
      yield* sequentialPlate('s0', 2, {}, (i) => gen(function* () {
        yield* bernSite(`x_${i}`)
        if (i === 0) yield* sequentialPlate('s1', 2, {}, (j) => plate('inner', 10, { subsampleSize: 5 }, () => lift(bernSite(`y_${j}`))))
        else yield* plate('inner', 10, { subsampleSize: 5 }, () => lift(bernSite('w')))
      }))
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      const site = (name: string) => sample(name, bernoulli({ logits: l }))
      yield* sequentialPlate('s0', 2, {}, (i) => gen(function* () {
        yield* site(`x_${i}`)
        if (i === 0) yield* sequentialPlate('s1', 2, {}, (j) => plate('inner', 10, { subsampleSize: 5 }, () => lift(site(`y_${j}`))))
        else yield* plate('inner', 10, { subsampleSize: 5 }, () => lift(site('w')))
      }))
    }),
    weights: (q) => [bernTerm(q.s('x_0')) + bernTerm(q.s('x_1')) + 2 * sum(['y_0', 'y_1', 'w'].flatMap((n) => q.v(n).map(bernTerm)))] },

  // --- scaled scopes
  { name: 'a scaled (β = 0.5) latent in the model and the guide', estimators: ['elbo', 'kl', 'iwae'], data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* scaled(0.5, () => lift(sample('z', normal(0, 1))))
      yield* observe('x', normal(z, 1), x)
    }),
    guide: () => gen(function* () {
      const [m, s] = [yield* loc('m', 0.4), yield* pos('s', 0.8)]
      yield* scaled(0.5, () => lift(sample('z', normal(m, s))))
    }),
    weights: (q, _p, kl) => {
      const z = q.s('z')
      return [0.5 * (kl ? -klNormal(0.4, 0.8, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, 0.4, 0.8)) + lnNormal(X1, z, 1)]
    } },
  { name: 'a scale of 0 on the latent in both (KL warm-up at its start)', estimators: ['elbo', 'kl'], data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* scaled(0, () => lift(sample('z', normal(0, 1))))
      yield* observe('x', normal(z, 1), x)
    }),
    guide: () => gen(function* () {
      const m = yield* loc('m', 0.4)
      yield* scaled(0, () => lift(sample('z', normal(m, 1))))
    }),
    weights: (q) => [lnNormal(X1, q.s('z'), 1)] },
  { name: 'a tensor scale on an observation', estimators: ['elbo', 'kl'], data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* scaled(tf.scalar(2), () => lift(observe('x', normal(z, 1), x)))
    }),
    guide: gaussGuide,
    weights: (q, _p, kl) => {
      const z = q.s('z')
      return [(kl ? -klNormal(0.4, 0.8, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, 0.4, 0.8)) + 2 * lnNormal(X1, z, 1)]
    } },
  { name: 'a scaled Bernoulli site in the model and the guide', estimators: SCORE, data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* scaled(0.5, () => lift(bernSite('z')))
      yield* observe('x', normal(tf.mul(z, 2), 1), x)
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      yield* scaled(0.5, () => lift(sample('z', bernoulli({ logits: l }))))
    }),
    weights: (q) => [0.5 * bernTerm(q.s('z')) + lnNormal(X1, 2 * q.s('z'), 1)] },
  { name: 'a per-element tensor scale on Bernoulli sites in a plate, in the model and the guide', estimators: SCORE, data: data4,
    model: (x) => gen(function* () {
      yield* plate('data', 4, {}, () => gen(function* () {
        const z = yield* scaled(tf.tensor1d([1, 2, 3, 4]), () => lift(bernSite('z')))
        yield* observe('x', normal(tf.mul(z, 2), 1), x)
      }))
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      yield* plate('data', 4, {}, () => scaled(tf.tensor1d([1, 2, 3, 4]), () => lift(sample('z', bernoulli({ logits: l })))))
    }),
    weights: (q) => q.v('z').map((z, i) => (i + 1) * bernTerm(z) + lnNormal(X4[i]!, 2 * z, 1)) },
  { name: 'a scaled scope inside a subsampled plate: the scales multiply (8/4 × 0.5)', estimators: ELBOS, data: data8, points: 8,
    model: globalModel(8, 4, 0.5), guide: globalGuide, weights: (q, p, kl) => globalWeights(q, p, kl, X8, 1) },

  // --- masks (the `mask` handler scoped to part of a program)
  { name: 'masked observations in a plate', estimators: ALL, data: data4,
    model: (x) => gen(function* () {
      yield* plate('data', 4, {}, () => gen(function* () {
        const z = yield* sample('z', normal(0, 1))
        yield* masked([true, false, true, false], observe('x', normal(z, 1), x))
      }))
    }),
    guide: () => gen(function* () {
      const m = yield* vec('m', M4)
      yield* plate('data', 4, {}, () => lift(sample('z', normal(m, 1))))
    }),
    weights: (q, _p, kl) => localWeights(q, kl, M4, [true, false, true, false]) },
  { name: 'a latent masked in the model and the guide alike', estimators: ['elbo', 'kl'], data: data4,
    model: (x) => gen(function* () {
      yield* plate('data', 4, {}, () => gen(function* () {
        const z = yield* masked([true, true, false, false], sample('z', normal(0, 1)))
        yield* observe('x', normal(z, 1), x)
      }))
    }),
    guide: () => gen(function* () {
      const m = yield* vec('m', M4)
      yield* plate('data', 4, {}, () => masked([true, true, false, false], sample('z', normal(m, 1))))
    }),
    weights: (q, _p, kl) => q.v('z').map((z, i) =>
      (i < 2 ? (kl ? -klNormal(M4[i]!, 1, 0, 1) : lnNormal(z, 0, 1) - lnNormal(z, M4[i]!, 1)) : 0) + lnNormal(X4[i]!, z, 1)) },
  { name: 'a masked Bernoulli latent in a plate (score function)', estimators: SCORE, data: data4,
    model: (x) => gen(function* () {
      yield* plate('data', 4, {}, () => gen(function* () {
        const z = yield* masked([false, true, true, false], bernSite('z'))
        yield* observe('x', normal(tf.mul(z, 2), 1), x)
      }))
    }),
    guide: () => gen(function* () {
      const l = yield* loc('l', 0)
      yield* plate('data', 4, {}, () => masked([false, true, true, false], sample('z', bernoulli({ logits: l }))))
    }),
    weights: (q) => q.v('z').map((z, i) => (i === 1 || i === 2 ? bernTerm(z) : 0) + lnNormal(X4[i]!, 2 * z, 1)) },

  // --- factor sites
  { name: 'a factor in the model', estimators: ALL, data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* factor('pull', tf.mul(-0.5, tf.square(tf.sub(z, 1))))
      yield* observe('x', normal(z, 1), x)
    }),
    guide: gaussGuide,
    weights: (q, p, kl) => [gaussWeights(q, kl)[0]! - 0.5 * (p.s('z') - 1) ** 2] },
  { name: 'a factor in the guide enters with a minus sign', estimators: ['elbo', 'kl', 'iwae'], data: scalarData,
    model: gaussModel,
    guide: () => gen(function* () {
      const z = yield* sample('z', normal(yield* loc('m', 0.4), yield* pos('s', 0.8)))
      yield* factor('g', tf.mul(-0.5, tf.square(z)))
    }),
    weights: (q, _p, kl) => [gaussWeights(q, kl)[0]! + 0.5 * q.s('z') ** 2] },
  { name: 'a factor in a guide with a score-function site', estimators: SCORE, data: scalarData,
    model: bernModel,
    guide: () => gen(function* () {
      const z = yield* bernGuideSite('z')
      yield* factor('g', tf.mul(-0.5, z))
    }),
    weights: (q) => [bernWeights(q.s('z'), 0) + 0.5 * q.s('z')] },
  { name: 'a scalar factor in a subsampled plate counts once per element, scaled (8/4 × 4 elements)', estimators: ELBOS, data: data8, points: 8,
    model: () => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* plate('data', 8, { subsampleSize: 4 }, () => lift(factor('f', tf.scalar(-0.25))))
      return z
    }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m', 0.3), 1)) }),
    weights: (q, _p, kl) => [(kl ? -klNormal(0.3, 1, 0, 1) : lnNormal(q.s('z'), 0, 1) - lnNormal(q.s('z'), 0.3, 1)) - 2] },

  // --- analytic KL pairs (and a pair without one)
  { name: 'Normal/Normal with toEvent(1): the KL sums over the event', estimators: ['elbo', 'kl', 'iwae'], data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* sample('z', normal(tf.zeros([3]), 1).toEvent(1))
      yield* observe('x', normal(tf.sum(z), 1), x)
    }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* vec('m', [0.1, -0.2, 0.3]), 0.8).toEvent(1)) }),
    weights: (q, _p, kl) => {
      const z = q.v('z'), m = [0.1, -0.2, 0.3]
      return [sum(z.map((v, j) => (kl ? -klNormal(m[j]!, 0.8, 0, 1) : lnNormal(v, 0, 1) - lnNormal(v, m[j]!, 0.8)))) + lnNormal(X1, sum(z), 1)]
    } },
  { name: 'Laplace/Laplace', estimators: ['elbo', 'kl'], data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* sample('z', laplace(0, 1))
      yield* observe('x', normal(z, 1), x)
    }),
    guide: () => gen(function* () { yield* sample('z', laplace(yield* loc('m', 0.3), yield* pos('b', 0.7))) }),
    weights: (q, _p, kl) => {
      const z = q.s('z')
      return [(kl ? -klLaplace(0.3, 0.7, 0, 1) : lnLaplace(z, 0, 1) - lnLaplace(z, 0.3, 0.7)) + lnNormal(X1, z, 1)]
    } },
  { name: 'Uniform/Uniform', estimators: ['elbo', 'kl'], data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* sample('z', uniform(-2, 2))
      yield* observe('x', normal(z, 1), x)
    }),
    guide: () => gen(function* () { yield* sample('z', uniform(yield* loc('low', -1), 1)) }),
    weights: (q) => [Math.log(1 / 4) - Math.log(1 / 2) + lnNormal(X1, q.s('z'), 1)] },
  { name: 'a Normal guide for a Laplace prior: no closed form, kl: auto falls back to Monte Carlo', estimators: ['elbo', 'kl'], data: scalarData,
    model: (x) => gen(function* () {
      const z = yield* sample('z', laplace(0, 1))
      yield* observe('x', normal(z, 1), x)
    }),
    guide: gaussGuide,
    weights: (q) => [lnLaplace(q.s('z'), 0, 1) - lnNormal(q.s('z'), 0.4, 0.8) + lnNormal(X1, q.s('z'), 1)] },

  // --- param constraints
  { name: 'a unit-interval param as Bernoulli probs', estimators: SCORE, data: scalarData,
    model: bernModel,
    guide: () => gen(function* () { yield* sample('z', bernoulli({ probs: yield* param('p', () => tf.scalar(0.4), { constraint: constraints.unitInterval }) })) }),
    weights: (q) => [lnBernoulliProbs(q.s('z'), 0.3) + lnNormal(X1, 2 * q.s('z'), 1) - lnBernoulliProbs(q.s('z'), 0.4)],
    after: (s) => { const p = read(s.params.value('p')!)[0]!; expect(p).toBeGreaterThan(0); expect(p).toBeLessThan(1) } },
  { name: 'a simplex param as categorical probs', estimators: SCORE, data: scalarData,
    model: (x) => gen(function* () {
      const k = yield* sample('k', categorical({ logits: tf.tensor1d(catLogits) }))
      yield* observe('x', normal(tf.gather(tf.tensor1d(MEANS), tf.cast(k, 'int32')), 1), x)
    }),
    guide: () => gen(function* () { yield* sample('k', categorical({ probs: yield* param('p', () => tf.tensor1d([0.5, 0.3, 0.2]), { constraint: constraints.simplex }) })) }),
    weights: (q) => {
      const k = q.s('k')
      return [lnCategorical(k, catLogits) + lnNormal(X1, MEANS[k]!, 1) - Math.log([0.5, 0.3, 0.2][k]!)]
    },
    after: (s) => {
      const p = read(s.params.value('p')!)
      expect(sum(p)).toBeCloseTo(1, 5)
      p.forEach((v) => expect(v).toBeGreaterThan(0))
    } },
]

// ---------------------------------------------------------------------------------------------
// pairs that must fail

const zGuide: Fn = () => gen(function* () { yield* sample('z', normal(yield* loc('m', 0), 1)) })
const bad = (label: string, make: () => Loss) => [label, make] as const

export const INVALID: readonly InvalidCase[] = [
  // --- duplicate site names
  { name: 'a sample site name used twice in the model', estimators: ALL, data: scalarData, error: SiteError, message: [/duplicate site name 'z'/, /a sample site of that name already ran/],
    model: (x) => gen(function* () { yield* sample('z', normal(0, 1)); yield* sample('z', normal(0, 1)); yield* observe('x', normal(0, 1), x) }), guide: zGuide },
  { name: 'a sample site name used twice in the guide', estimators: ALL, data: scalarData, error: SiteError, message: [/duplicate site name 'z'/],
    model: gaussModel, guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m', 0), 1)); yield* sample('z', normal(0, 1)) }) },
  { name: 'one site name in every iteration of a sequential plate', estimators: ALL, data: scalarData, error: SiteError, message: [/duplicate site name 'z'/],
    model: (x) => gen(function* () { yield* sequentialPlate('s', 2, {}, () => lift(sample('z', normal(0, 1)))); yield* observe('x', normal(0, 1), x) }),
    guide: () => gen(function* () { const m = yield* loc('m', 0); yield* sequentialPlate('s', 2, {}, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'a factor named like a sample site', estimators: ALL, data: scalarData, error: SiteError, message: [/duplicate site name 'z': a factor site of that name already ran/],
    model: (x) => gen(function* () { yield* sample('z', normal(0, 1)); yield* factor('z', tf.scalar(0)); yield* observe('x', normal(0, 1), x) }), guide: zGuide },
  { name: 'a deterministic site named like a sample site', estimators: ALL, data: scalarData, error: SiteError, message: [/duplicate site name 'z': a deterministic site/],
    model: (x) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* deterministic('z', z); yield* observe('x', normal(0, 1), x) }), guide: zGuide },

  // --- coverage
  { name: 'the guide samples a site the model lacks', estimators: ALL, data: scalarData, error: SiteError, message: [/the guide samples site 'w', which the model does not have/, /the model's sites are 'z', 'x'/],
    model: gaussModel, guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m', 0), 1)); yield* sample('w', normal(0, 1)) }) },
  { name: 'a latent of the model is missing from the guide', estimators: ALL, data: scalarData, error: SiteError, message: [/the model's latent site 'w' is not sampled by the guide; the guide samples 'z'/],
    model: (x) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* sample('w', normal(0, 1)); yield* observe('x', normal(z, 1), x) }), guide: zGuide },
  { name: 'a discrete latent of the model is missing from the guide', estimators: SCORE, data: scalarData, error: SiteError, message: [/the model's latent site 'k' is not sampled by the guide/],
    model: (x) => gen(function* () { yield* sample('k', bernoulli({ probs: 0.5 })); yield* observe('x', normal(0, 1), x) }), guide: () => gen(function* () { yield* loc('m', 0) }) },
  { name: 'the guide samples a site the model observes', estimators: ALL, data: scalarData, error: SiteError, message: [/the guide samples site 'x', which is observed in the model/],
    model: gaussModel, guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m', 0), 1)); yield* sample('x', normal(0, 1)) }) },
  { name: 'the guide observes the model’s latent instead of sampling it', estimators: ALL, data: scalarData, error: SiteError, message: [/the model's latent site 'z' is not sampled by the guide; the guide samples none/],
    model: gaussModel, guide: () => gen(function* () { yield* loc('m', 0); yield* observe('z', normal(0, 1), tf.scalar(0.2)) }) },

  // --- shapes of guide and model sites
  { name: 'the guide’s site has another batch shape than the model’s', estimators: ALL, data: scalarData, error: SiteError,
    message: [/site 'z': the guide's value has shape \[3\] but the model's normal at that site has batchShape \+\+ eventShape \[2\]/],
    model: (x) => gen(function* () { const z = yield* sample('z', normal(tf.zeros([2]), 1).toEvent(1)); yield* observe('x', normal(tf.sum(z), 1), x) }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* vec('m', [0, 0, 0]), 1).toEvent(1)) }) },
  { name: 'the guide’s site has an extra event dim', estimators: ALL, data: scalarData, error: SiteError, message: [/site 'z': the guide's value has shape \[2, 1\] .* \[2\]/],
    model: (x) => gen(function* () { const z = yield* sample('z', normal(tf.zeros([2]), 1).toEvent(1)); yield* observe('x', normal(tf.sum(z), 1), x) }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* param('m', () => tf.zeros([2, 1])), 1).toEvent(2)) }) },
  { name: 'the guide puts the latent in a plate the model does not have', estimators: ALL, data: data4, error: SiteError, message: [/site 'z': the guide's value has shape \[4\] but .* \[\] \(scalar\)/],
    model: (x) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), x) }),
    guide: () => gen(function* () { const m = yield* loc('m', 0); yield* plate('data', 4, {}, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'the model puts the latent in a plate the guide does not have', estimators: ALL, data: data4, error: SiteError, message: [/site 'z': the guide's value has shape \[\] \(scalar\) .* \[4\]/],
    model: localModel, guide: zGuide },
  { name: 'the model and the guide give one plate different dims', estimators: ALL, data: () => tf.zeros([4, 1]), error: SiteError, message: [/site 'z': the guide's value has shape \[4\] .* \[4, 1\]/],
    model: (x) => gen(function* () { yield* plate('data', 4, { dim: -2 }, () => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), x) })) }),
    guide: () => gen(function* () { const m = yield* loc('m', 0); yield* plate('data', 4, {}, () => lift(sample('z', normal(m, 1)))) }) },

  { name: 'a batch dim in the model where the guide has an event dim (Pyro: event_dims disagree)', estimators: ALL, data: scalarData, error: SiteError,
    message: [/site 'z': the model's normal has batchShape \[2\] and eventShape \[\] \(scalar\) but the guide's normal has batchShape \[\] \(scalar\) and eventShape \[2\]/, /must agree on which dims are batch and which event dims/],
    model: (x) => gen(function* () { const z = yield* sample('z', normal(tf.zeros([2]), 1)); yield* observe('x', normal(tf.sum(z), 1), x) }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* vec('m', [0, 0]), 1).toEvent(1)) }) },
  { name: 'an event dim in the model where the guide has a batch dim', estimators: ALL, data: scalarData, error: SiteError,
    message: [/site 'z': the model's normal has batchShape \[\] \(scalar\) and eventShape \[2\] but the guide's normal has batchShape \[2\] and eventShape \[\] \(scalar\)/],
    model: (x) => gen(function* () { const z = yield* sample('z', normal(tf.zeros([2]), 1).toEvent(1)); yield* observe('x', normal(tf.sum(z), 1), x) }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* vec('m', [0, 0]), 1)) }) },

  // --- plates: sizes and dims
  { name: 'a model site whose batch shape does not fit its plate', estimators: ALL, data: data4, error: SiteError,
    message: [/site 'x' inside plate 'data' \(dim -1, 4 elements in this run\)/, /its batch shape is \[3\]/, /expected 4 or 1 there/],
    model: (x) => gen(function* () { yield* plate('data', 4, {}, () => lift(observe('x', normal(tf.zeros([3]), 1), x))) }), guide: () => gen(function* () { yield* loc('m', 0) }) },
  { name: 'a guide site whose batch shape does not fit its plate', estimators: ALL, data: data4, error: SiteError, message: [/site 'z' inside plate 'data' \(dim -1, 4 elements/, /its batch shape is \[3\]/],
    model: localModel, guide: () => gen(function* () { const m = yield* vec('m', [0, 0, 0]); yield* plate('data', 4, {}, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'a site with the full data size inside a subsampled plate (the indices were not applied)', estimators: ALL, data: data8, error: SiteError,
    message: [/site 'x' inside plate 'data' \(dim -1, 4 elements in this run\)/, /its batch shape is \[8\]/, /expected 4 or 1/],
    model: (x) => gen(function* () { const mu = yield* sample('mu', normal(0, 1)); yield* plate('data', 8, { subsampleSize: 4 }, () => lift(observe('x', normal(tf.broadcastTo(mu, [8]), 1), x))) }),
    guide: () => gen(function* () { yield* sample('mu', normal(yield* loc('m', 0), 1)) }) },
  { name: 'a site whose batch shape misfits the inner of two nested plates at dim -2', estimators: SCORE, data: noData, error: SiteError,
    message: [/site 'z' inside plate 'inner' \(dim -2, 6 elements in this run\)/, /its batch shape is \[5, 1\]/],
    model: () => gen(function* () { yield* plate('outer', 10, { subsampleSize: 5 }, () => plate('inner', 11, { subsampleSize: 6 }, () => lift(sample('z', bernoulli({ probs: tf.fill([5, 1], 0.5) }))))) }),
    guide: () => gen(function* () { const l = yield* loc('l', 0); yield* plate('outer', 10, { subsampleSize: 5 }, () => plate('inner', 11, { subsampleSize: 6 }, () => lift(sample('z', bernoulli({ logits: l }))))) }) },
  { name: 'a plate with different sizes in the model and the guide', estimators: ALL, data: data4, error: SiteError,
    message: [/plate 'data': the model's plate has size 4 and subsampleSize 4 but the guide's plate of that name has size 3 and subsampleSize 3/],
    model: localModel, guide: () => gen(function* () { const m = yield* loc('m', 0); yield* plate('data', 3, {}, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'a plate with different subsample sizes in the model and the guide', estimators: ALL, data: data8, error: SiteError,
    message: [/plate 'data': the model's plate has size 8 and subsampleSize 4 but the guide's plate of that name has size 8 and subsampleSize 2/],
    model: (x) => gen(function* () { yield* plate('data', 8, { subsampleSize: 4 }, (idx) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), tf.gather(x, idx)) })) }),
    guide: () => gen(function* () { const m = yield* loc('m', 0); yield* plate('data', 8, { subsampleSize: 2 }, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'the model’s own subsample indices differ from the guide’s', estimators: ALL, data: data8, error: SiteError,
    message: [/plate 'data': the model's plate has its own subsample \[1, 5, 6\] but the guide's plate of that name has \[0, 2, 3\]/],
    model: (x) => gen(function* () { yield* plate('data', 8, { subsample: tf.tensor1d([1, 5, 6], 'int32') }, (idx) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), tf.gather(x, idx)) })) }),
    guide: () => gen(function* () { const m = yield* loc('m', 0); yield* plate('data', 8, { subsample: tf.tensor1d([0, 2, 3], 'int32') }, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'the model’s own subsample indices, the guide’s plate of that name draws at random', estimators: ALL, data: data8, error: SiteError,
    message: [/plate 'data': the model's plate has its own subsample \[1, 5, 6\] but the guide's plate of that name has \[/, /the guide's local latents would be paired with other data points/],
    model: (x) => gen(function* () { yield* plate('data', 8, { subsample: tf.tensor1d([1, 5, 6], 'int32') }, (idx) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), tf.gather(x, idx)) })) }),
    guide: () => gen(function* () { const m = yield* loc('m', 0); yield* plate('data', 8, { subsampleSize: 3 }, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'a nested plate asks for a dim its enclosing plate holds', estimators: SCORE, data: noData, error: SiteError,
    message: [/plate 'inner2' asks for dim -1, which the enclosing plate 'inner1' already holds/],
    model: () => gen(function* () { yield* plate('outer', 10, { subsampleSize: 5, dim: -2 }, () => plate('inner1', 11, { subsampleSize: 6 }, () => plate('inner2', 12, { subsampleSize: 7, dim: -1 }, () => lift(bernSite('z'))))) }),
    guide: () => gen(function* () { yield* plate('outer', 10, { subsampleSize: 5, dim: -2 }, () => plate('inner1', 11, { subsampleSize: 6 }, () => plate('inner2', 12, { subsampleSize: 7, dim: -1 }, () => bernGuideSite('z')))) }) },
  { name: 'a plate nested in a plate of the same name', estimators: ALL, data: scalarData, error: SiteError, message: [/plate 'p' is entered inside a plate of the same name/],
    model: gaussModel, guide: () => gen(function* () { yield* plate('p', 3, {}, () => plate('p', 3, {}, () => lift(loc('m', 0)))); yield* sample('z', normal(0, 1)) }) },
  { name: 'a plate at dim 0', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/plate 'p': dim must be a negative integer/, /got 0/],
    model: gaussModel, guide: () => gen(function* () { yield* plate('p', 3, { dim: 0 }, () => lift(loc('m', 0))); yield* sample('z', normal(0, 1)) }) },
  { name: 'a plate whose subsample size exceeds its size', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/plate 'p': size must be a positive integer and 1 ≤ subsampleSize ≤ size; got size 3, subsampleSize 5/],
    model: gaussModel, guide: () => gen(function* () { yield* plate('p', 3, { subsampleSize: 5 }, () => lift(loc('m', 0))); yield* sample('z', normal(0, 1)) }) },
  { name: 'a plate of size 0', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/plate 'p': size must be a positive integer/, /got size 0/],
    model: gaussModel, guide: () => gen(function* () { yield* plate('p', 0, {}, () => lift(loc('m', 0))); yield* sample('z', normal(0, 1)) }) },
  { name: 'user subsample indices of another length than the subsample size', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/plate 'p': the subsample has 3 indices but subsampleSize is 2/],
    model: gaussModel, guide: () => gen(function* () { yield* plate('p', 8, { subsampleSize: 2, subsample: tf.tensor1d([1, 2, 3], 'int32') }, () => lift(loc('m', 0))); yield* sample('z', normal(0, 1)) }) },
  { name: 'user subsample indices that are not a vector', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/plate 'p': subsample must be a rank-1 tensor of indices; got shape \[2, 1\]/],
    model: gaussModel, guide: () => gen(function* () { yield* plate('p', 8, { subsample: tf.tensor2d([[1], [2]], [2, 1], 'int32') }, () => lift(loc('m', 0))); yield* sample('z', normal(0, 1)) }) },
  { name: 'a sequential plate subsample index out of range', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/sequentialPlate 's': subsample index 3 is not an integer in \[0, 3\)/],
    model: gaussModel, guide: () => gen(function* () { yield* sequentialPlate('s', 3, { subsample: [0, 3] }, () => lift(loc('m', 0))); yield* sample('z', normal(0, 1)) }) },

  // --- observations
  { name: 'an observation of another shape than its distribution', estimators: ALL, data: data4, error: SiteError, message: [/site 'x' \(observed\): normal.logProb: value of shape \[4\] does not fit/, /batchShape \[3\]/],
    model: (x) => gen(function* () { yield* observe('x', normal(tf.zeros([3]), 1), x) }), guide: () => gen(function* () { yield* loc('m', 0) }) },
  { name: 'an observation smaller than its distribution (data would be counted several times)', estimators: ALL, data: scalarData, error: SiteError,
    message: [/site 'x' \(observed\): the observed value has shape \[\] \(scalar\) but the distribution \(normal\) has batchShape \[4\]/],
    model: (x) => gen(function* () { yield* observe('x', normal(tf.zeros([4]), 1), x) }), guide: () => gen(function* () { yield* loc('m', 0) }) },
  { name: 'an observation inside a plate with fewer points than the plate', estimators: ALL, data: data4, error: SiteError, message: [/site 'x' \(observed\): normal.logProb: value of shape \[3\] does not fit/, /batchShape \[4\]/],
    model: () => gen(function* () { yield* plate('data', 4, {}, () => lift(observe('x', normal(0, 1), tf.zeros([3])))) }), guide: () => gen(function* () { yield* loc('m', 0) }) },

  // --- supports
  { name: 'a continuous guide for a Bernoulli latent', estimators: ALL, data: scalarData, error: SupportError, message: [/site 'z' \(latent\): bernoulli.logProb: value outside the support/, /the guide must sample within the model's support/],
    model: bernModel, guide: zGuide },
  { name: 'a categorical guide with more categories than the model’s', estimators: SCORE, data: scalarData, error: SupportError, message: [/site 'k' \(latent\): categorical.logProb: value outside the support \(integer 0 ≤ x ≤ 2\)/],
    model: (x) => gen(function* () { yield* sample('k', categorical({ logits: tf.zeros([3]) })); yield* observe('x', normal(0, 1), x) }),
    guide: () => gen(function* () { yield* sample('k', categorical({ logits: yield* vec('l', [-9, -9, -9, 5, 5]) })) }) },
  { name: 'a Gaussian guide for a Uniform(0, 1) latent', estimators: ALL, data: scalarData, error: SupportError, message: [/site 'z' \(latent\): uniform.logProb: value outside the support/],
    model: (x) => gen(function* () { const z = yield* sample('z', uniform(0, 1)); yield* observe('x', normal(z, 1), x) }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m', -3), 0.1)) }) },

  // --- factor shapes
  { name: 'a model factor whose shape does not fit its plate', estimators: ALL, data: data4, error: SiteError, message: [/site 'f' inside plate 'data' \(dim -1, 4 elements/, /its batch shape is \[3\]/],
    model: () => gen(function* () { yield* plate('data', 4, {}, () => lift(factor('f', tf.zeros([3])))) }), guide: () => gen(function* () { yield* loc('m', 0) }) },
  { name: 'a guide factor whose shape does not fit its plate', estimators: ALL, data: data4, error: SiteError, message: [/site 'g' inside plate 'data' \(dim -1, 4 elements/],
    model: localModel, guide: () => gen(function* () { const m = yield* loc('m', 0); yield* plate('data', 4, {}, () => gen(function* () { yield* sample('z', normal(m, 1)); yield* factor('g', tf.zeros([2])) })) }) },

  // --- masks and tensor scales
  { name: 'a float mask (the mask handler takes a bool tensor)', estimators: ALL, data: data4, error: InvalidArgumentError, message: [/mask: the mask must be a bool tensor; got dtype float32, shape \[4\]/],
    model: (x) => gen(function* () { yield* plate('data', 4, {}, () => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* within(mask(tf.tensor1d([1, 0, 1, 0])), observe('x', normal(z, 1), x)) })) }),
    guide: () => gen(function* () { const m = yield* vec('m', M4); yield* plate('data', 4, {}, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'a mask of 3 on an observation in a plate of 4', estimators: ALL, data: data4, error: SiteError,
    message: [/site 'x': its mask has shape \[3\], which does not broadcast to the site's batch shape \[4\]/],
    model: (x) => gen(function* () { yield* plate('data', 4, {}, () => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* masked([true, false, true], observe('x', normal(z, 1), x)) })) }),
    guide: () => gen(function* () { const m = yield* vec('m', M4); yield* plate('data', 4, {}, () => lift(sample('z', normal(m, 1)))) }) },
  { name: 'a mask of 4 on a global latent (it would count the latent 4 times)', estimators: ALL, data: scalarData, error: SiteError,
    message: [/site 'z': its mask has shape \[4\], which does not broadcast to the site's batch shape \[\] \(scalar\)/],
    model: (x) => gen(function* () { const z = yield* masked([true, false, true, true], sample('z', normal(0, 1))); yield* observe('x', normal(z, 1), x) }), guide: zGuide },
  { name: 'a tensor scale of 3 elements on sites in a plate of 4', estimators: ALL, data: data4, error: SiteError,
    message: [/site '[zx]': its scale has shape \[3\], which does not broadcast to the site's batch shape \[4\]/],
    model: (x) => gen(function* () { yield* plate('data', 4, {}, () => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* scaled(tf.tensor1d([1, 2, 3]), () => lift(observe('x', normal(z, 1), x))) })) }),
    guide: () => gen(function* () { const m = yield* vec('m', M4); yield* plate('data', 4, {}, () => scaled(tf.tensor1d([1, 2, 3]), () => lift(sample('z', normal(m, 1))))) }) },

  // --- estimators that do not apply, and bad estimator options
  { name: 'iwae with a Bernoulli guide site', estimators: ['iwae', 'iwaeBatch'], data: scalarData, error: SiteError, message: [/iwae: guide site 'z' \(bernoulli\) is not reparameterised/],
    model: bernModel, guide: () => bernGuideSite('z') },
  { name: 'iwae with a categorical guide site in a plate', estimators: ['iwae'], data: data4, error: SiteError, message: [/iwae: guide site 'k' \(categorical\) is not reparameterised/],
    model: (x) => gen(function* () { yield* plate('data', 4, {}, () => gen(function* () { yield* sample('k', categorical({ logits: tf.zeros([3]) })); yield* observe('x', normal(0, 1), x) })) }),
    guide: () => gen(function* () { const l = yield* vec('l', [0, 0, 0]); yield* plate('data', 4, {}, () => lift(sample('k', categorical({ logits: l })))) }) },
  { name: 'elbo({ reparameterizedOnly: true }) with a Bernoulli guide site', estimators: [bad('elbo({ reparameterizedOnly: true })', () => elbo({ reparameterizedOnly: true }))], data: scalarData, error: SiteError,
    message: [/guide site 'z' \(bernoulli\) is not reparameterised, but this ELBO was built with reparameterizedOnly: true/],
    model: bernModel, guide: () => bernGuideSite('z') },
  { name: 'elbo with numParticles 0', estimators: [bad('elbo({ numParticles: 0 })', () => elbo({ numParticles: 0 }))], data: scalarData, error: InvalidArgumentError,
    message: [/elbo: numParticles must be a positive integer; got 0/], model: gaussModel, guide: gaussGuide },
  { name: 'elbo with a fractional numParticles', estimators: [bad('elbo({ numParticles: 1.5 })', () => elbo({ numParticles: 1.5 }))], data: scalarData, error: InvalidArgumentError,
    message: [/elbo: numParticles must be a positive integer; got 1.5/], model: gaussModel, guide: gaussGuide },
  { name: 'elbo given a baseline (an option of each site)', estimators: [bad('elbo({ baseline: 0.9 })', () => elbo({ baseline: 0.9 } as never))], data: scalarData, error: InvalidArgumentError,
    message: [/elbo: the baseline is an option of each score-function site/, /sample\(name, dist, \{ baseline: \{ useDecayingAverage: true/], model: bernModel, guide: () => bernGuideSite('z') },
  { name: 'iwae with k = 0', estimators: [bad('iwae(0)', () => iwae(0))], data: scalarData, error: InvalidArgumentError,
    message: [/iwae: (k \(the number of particles\)|numParticles) must be a positive integer; got 0/], model: gaussModel, guide: gaussGuide },

  // --- per-site options
  { name: 'a misspelt sample option', estimators: SCORE, data: scalarData, error: InvalidArgumentError, message: [/sample 'z': unknown option\(s\) 'baselin'/],
    model: bernModel, guide: () => gen(function* () { yield* sample('z', bernoulli({ logits: yield* loc('l', 0) }), { baselin: { useDecayingAverage: true } } as never) }) },
  { name: 'a decaying-average baseline with beta = 1', estimators: SCORE, data: scalarData, error: InvalidArgumentError, message: [/sample 'z': baseline must be/, /beta\?: a number in \[0, 1\)/, /beta: 1/],
    model: bernModel, guide: () => gen(function* () { yield* sample('z', bernoulli({ logits: yield* loc('l', 0) }), { baseline: { useDecayingAverage: true, beta: 1 } }) }) },
  { name: 'a baseline value that is not finite', estimators: SCORE, data: scalarData, error: InvalidArgumentError, message: [/sample 'z': baseline must be \{ value: a finite number or a tensor \}/],
    model: bernModel, guide: () => gen(function* () { yield* sample('z', bernoulli({ logits: yield* loc('l', 0) }), { baseline: { value: Number.NaN } }) }) },
  { name: 'a baseline with useDecayingAverage: false', estimators: SCORE, data: scalarData, error: InvalidArgumentError, message: [/sample 'z': baseline must be/, /useDecayingAverage: false/],
    model: bernModel, guide: () => gen(function* () { yield* sample('z', bernoulli({ logits: yield* loc('l', 0) }), { baseline: { useDecayingAverage: false } } as never) }) },
  { name: 'a sample site with an empty name', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/sample: the site name must be a non-empty string; got ""/],
    model: gaussModel, guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m', 0), 1)); yield* sample('', normal(0, 1)) }) },
  { name: 'a negative scale for a scaled scope', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/scaled: the factor must be a finite number ≥ 0 or a tensor; got -1/],
    model: (x) => gen(function* () { const z = yield* scaled(-1, () => lift(sample('z', normal(0, 1)))); yield* observe('x', normal(z, 1), x) }), guide: gaussGuide },

  // --- param constraints
  { name: 'a positive param initialised at -1', estimators: ALL, data: scalarData, error: InvalidArgumentError, message: [/param 's': argument 'init' must satisfy x > 0; got -1/],
    model: gaussModel, guide: () => gen(function* () { yield* sample('z', normal(0, yield* pos('s', -1))) }) },
  { name: 'a unit-interval param initialised at 2', estimators: SCORE, data: scalarData, error: InvalidArgumentError, message: [/param 'p': argument 'init' must satisfy 0 ≤ x ≤ 1; got 2/],
    model: bernModel, guide: () => gen(function* () { yield* sample('z', bernoulli({ probs: yield* param('p', () => tf.scalar(2), { constraint: constraints.unitInterval }) })) }) },
  { name: 'a simplex param that does not sum to 1', estimators: SCORE, data: scalarData, error: InvalidArgumentError, message: [/param 'p': argument 'init' must satisfy x ≥ 0 and Σ x = 1 over the last dim/],
    model: (x) => gen(function* () { yield* sample('k', categorical({ logits: tf.zeros([3]) })); yield* observe('x', normal(0, 1), x) }),
    guide: () => gen(function* () { yield* sample('k', categorical({ probs: yield* param('p', () => tf.tensor1d([0.5, 0.6, 0.2]), { constraint: constraints.simplex }) })) }) },
  { name: 'a param initialised at NaN', estimators: ALL, data: scalarData, error: NonFiniteArgumentError, message: [/param 'm': argument 'init' must satisfy finite real; got NaN/],
    model: gaussModel, guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m', Number.NaN), 1)) }) },
]
