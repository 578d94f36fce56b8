/**
 * The Geometric distribution: the number of failures before the first success in Bernoulli(p)
 * trials, over {0, 1, 2, …}, parameterised by logits or probs.
 *
 * log p(k) = k log(1 − p) + log p = −k · softplus(logits) − softplus(−logits)
 */
import * as tf from '@tensorflow/tfjs-core'
import { FLOAT32_MAX, log1p, probsToLogits, softplus } from '../backend/numerics.js'
import { scoped } from '../backend/scope.js'
import { pickParam } from './bernoulli.js'
import type { LogitsOrProbs } from './bernoulli.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { standardExponential } from './exponential.js'
import { makeDistribution } from './make.js'
import { asTensor, broadcastShapes } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** Geometric(probs) over {0, 1, 2, …}: not reparameterised; draws are float32 counts. */
export interface Geometric extends Distribution<tf.Tensor, false> {
  readonly _tag: 'Geometric'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** log(p / (1 − p)) of the success probability; from clamped probs when probs were given. */
  readonly logits: tf.Tensor
  /** The success probability p; σ(logits) computed on each access when logits were given. */
  readonly probs: tf.Tensor
  readonly toEvent: (n: number) => Independent<Geometric>
  readonly expand: (batchShape: readonly number[]) => Geometric
}

/** Converts, optionally broadcasts and validates the parameter (probs in (0, 1]); intermediates freed. */
const geometricParams = scoped('geometric', (kind: 'logits' | 'probs', value: TensorLike, to: number[] | undefined) => {
  const given = asTensor(value, kind, 'geometric')
  const raw = to === undefined ? given : tf.broadcastTo(given, to)
  if (kind === 'logits') {
    checkParam('geometric', 'logits', raw, constraints.real)
    return { logits: raw, given: raw }
  }
  checkParam('geometric', 'probs', raw, constraints.positive)
  checkParam('geometric', 'probs', raw, constraints.unitInterval)
  return { logits: probsToLogits(raw), given: raw }
})

const build = (kind: 'logits' | 'probs', value: TensorLike, to?: number[]): Geometric => {
  const { logits, given } = geometricParams(kind, value, to)
  const batchShape = [...logits.shape]
  const probs = (): tf.Tensor => kind === 'logits' ? tf.sigmoid(logits) : given
  // (1 − p)/p: e^(−logits), or from the given probs (exactly 0 at p = 1).
  const odds = (): tf.Tensor => kind === 'logits' ? tf.exp(tf.neg(logits)) : tf.div(tf.sub(1, given), given)
  // −log(1 − p): softplus(logits), or from the given probs (+∞ at p = 1, so every draw is 0).
  const hazard = (): tf.Tensor => kind === 'logits' ? softplus(logits) : tf.neg(log1p(tf.neg(given)))
  return makeDistribution<Geometric, 'probs'>({
    tag: 'Geometric', name: 'geometric', fields: { logits }, lazy: { probs },
    batchShape, eventShape: [], reparameterized: false, support: constraints.nonNegativeInteger,
    // Inversion: P(⌊E/h⌋ ≥ k) = P(E ≥ kh) = (1 − p)^k for E ~ Exp(1), h = −log(1 − p).
    draw: (s, seed) => tf.minimum(tf.floor(tf.div(standardExponential([...s, ...batchShape], seed), hazard())), FLOAT32_MAX),
    logProb: (x) => tf.neg(tf.add(tf.mul(x, softplus(logits)), softplus(tf.neg(logits)))),
    mean: odds,
    variance: () => { const o = odds(); return tf.div(o, probs()) },
    entropy: () => tf.add(softplus(tf.neg(logits)), tf.mul(tf.exp(tf.neg(logits)), softplus(logits))),
    expand: (b) => build(kind, given, [...b]),
  })
}

/**
 * Geometric(p) over {0, 1, 2, …} (failures before the first success, as Pyro), given `{ logits }`
 * or `{ probs }` (exactly one; probs in (0, 1]): log p(k) = k log(1 − p) + log p.
 * Mean (1 − p)/p, variance (1 − p)/p², entropy = [−p log p − (1 − p) log(1 − p)]/p.
 * Draws by inversion: ⌊E / −log(1 − p)⌋ with E ~ Exp(1).
 *
 * @example
 * const d = geometric({ probs: tf.tensor1d([0.2, 0.9]) })
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const geometric = (params: LogitsOrProbs): Geometric => {
  const { kind, value } = pickParam('geometric', params)
  return build(kind, value)
}

/**
 * KL(p ‖ q) for two Geometrics with logits a (of p) and b (of q): the Bernoulli KL over the success
 * probability p, KL = [σ(a)(a − b) + softplus(b) − softplus(a)]/σ(a)
 * = (a − b) + (1 + e^−a)(softplus(b) − softplus(a)); shape = broadcast of the batch shapes.
 *
 * @example klGeometricGeometric(geometric({ probs: 0.3 }), geometric({ probs: 0.5 }))
 */
export const klGeometricGeometric = scoped('klGeometricGeometric', (p: Geometric, q: Geometric): tf.Tensor => {
  broadcastShapes('klGeometricGeometric', [['p', p.batchShape], ['q', q.batchShape]])
  const a = p.logits, b = q.logits
  return tf.add(tf.sub(a, b), tf.mul(tf.add(1, tf.exp(tf.neg(a))), tf.sub(softplus(b), softplus(a))))
})
