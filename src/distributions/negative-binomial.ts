/**
 * The NegativeBinomial distribution: the number of successes before `totalCount` failures in
 * Bernoulli(p) trials (as Pyro and TFP), over {0, 1, 2, …}; the Gamma–Poisson mixture of
 * overdispersed counts.
 *
 * log p(k) = log Γ(k + r) − log Γ(r) − log k! + k log p + r log(1 − p)
 */
import * as tf from '@tensorflow/tfjs-core'
import { probsToLogits } from '../backend/numerics.js'
import { logGammaSample } from '../backend/gamma-sampler.js'
import { scoped } from '../backend/scope.js'
import { pickParam } from './bernoulli.js'
import type { LogitsOrProbs } from './bernoulli.js'
import { binomialLogPmf, broadcastIfNeeded } from './binomial.js'
import * as constraints from './constraints.js'
import type { Constraint } from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { emptyDraw, samplePoisson, seedStream } from './poisson.js'
import { asTensor, broadcastShapes } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** 0 ≤ p < 1: the success probability of a negative binomial (p = 1 never reaches r failures). */
const halfOpenUnit: Constraint = {
  _tag: 'interval', describe: '0 ≤ x < 1', eventDims: 0,
  check: (x) => tf.logicalAnd(tf.greaterEqual(x, 0), tf.less(x, 1)),
  holds: (v) => v >= 0 && v < 1,
}

/** NegativeBinomial(totalCount, probs) over {0, 1, 2, …}: not reparameterised; draws are float32 counts. */
export interface NegativeBinomial extends Distribution<tf.Tensor, false> {
  readonly _tag: 'NegativeBinomial'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  /** r > 0, the number of failures to wait for (real-valued, as Pyro's). */
  readonly totalCount: tf.Tensor
  /** log(p / (1 − p)) of the success probability; from clamped probs when probs were given. */
  readonly logits: tf.Tensor
  /** The success probability p; σ(logits) computed on each access when logits were given. */
  readonly probs: tf.Tensor
  readonly toEvent: (n: number) => Independent<NegativeBinomial>
  readonly expand: (batchShape: readonly number[]) => NegativeBinomial
}

/** Converts, broadcasts (to `to` when given) and validates totalCount and the probability parameter. */
const nbParams = scoped('negativeBinomial', (count: TensorLike, kind: 'logits' | 'probs', value: TensorLike, to: number[] | undefined) => {
  const r0 = asTensor(count, 'totalCount', 'negativeBinomial'), v0 = asTensor(value, kind, 'negativeBinomial')
  const shape = to ?? broadcastShapes('negativeBinomial', [['totalCount', r0.shape], [kind, v0.shape]])
  const r = broadcastIfNeeded(r0, shape), raw = broadcastIfNeeded(v0, shape)   // both of the batch shape, as Pyro's broadcast_all
  checkParam('negativeBinomial', 'totalCount', r, constraints.positive)
  checkParam('negativeBinomial', kind, raw, kind === 'logits' ? constraints.real : halfOpenUnit)
  return { r, logits: kind === 'logits' ? raw : probsToLogits(raw), given: raw, batchShape: shape }
})

const build = (count: TensorLike, kind: 'logits' | 'probs', value: TensorLike, to?: number[]): NegativeBinomial => {
  const { r, logits, given, batchShape } = nbParams(count, kind, value, to)
  const probs = (): tf.Tensor => kind === 'logits' ? tf.sigmoid(logits) : given
  // p/(1 − p): e^logits, or from the given probs (exactly 0 at p = 0).
  const odds = (): tf.Tensor => kind === 'logits' ? tf.exp(logits) : tf.div(given, tf.sub(1, given))
  return makeDistribution<NegativeBinomial, 'probs'>({
    tag: 'NegativeBinomial', name: 'negativeBinomial', fields: { totalCount: r, logits }, lazy: { probs },
    batchShape, eventShape: [], reparameterized: false, support: constraints.nonNegativeInteger,
    draw: (s, seed) => {
      // Poisson(λ) with λ ~ Gamma(r, scale p/(1 − p)): the Gamma draw taken in log space.
      const full = [...s, ...batchShape]
      const empty = emptyDraw(full)
      if (empty !== undefined) return empty
      const seeds = seedStream(seed)
      const rate = tf.mul(tf.exp(logGammaSample(r, full, seeds())), odds())
      return samplePoisson(tf.broadcastTo(rate, full), seeds)
    },
    // p(k) = r/(k + r) · Binomial(r; k + r, 1 − p): Loader's form of the binomial term.
    logProb: (x) => tf.add(tf.log(tf.div(r, tf.add(x, r))), binomialLogPmf(tf.add(r, tf.zerosLike(x)), x, tf.neg(logits))),
    mean: () => tf.mul(r, odds()),
    variance: () => tf.div(tf.mul(r, odds()), kind === 'logits' ? tf.sigmoid(tf.neg(logits)) : tf.sub(1, given)),
    expand: (b) => build(r, kind, given, [...b]),
  })
}

/**
 * NegativeBinomial(r, p) over {0, 1, 2, …}: successes before the r-th failure, p the success
 * probability (as Pyro/TFP), given `totalCount` r > 0 (real) and `{ logits }` or `{ probs }`
 * (exactly one; probs in [0, 1)): log p(k) = log Γ(k + r) − log Γ(r) − log k! + k log p + r log(1 − p),
 * computed as log(r/(k + r)) + log Binomial(r; k + r, 1 − p) in Loader's form.
 * Mean r·p/(1 − p), variance r·p/(1 − p)²; no closed-form entropy.
 * Draws: Poisson(λ) with λ ~ Gamma(r, p/(1 − p)) (the batched Gamma sampler, then inversion or PTRS).
 *
 * @example
 * const d = negativeBinomial(tf.tensor1d([2, 10]), { probs: 0.4 })
 * d.logProb(d.sample([5], 0))   // shape [5, 2]
 */
export const negativeBinomial = (totalCount: TensorLike, params: LogitsOrProbs): NegativeBinomial => {
  const { kind, value } = pickParam('negativeBinomial', params)
  return build(totalCount, kind, value)
}
