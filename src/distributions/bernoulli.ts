/**
 * The Bernoulli distribution over {0, 1}, parameterised by logits or probs.
 *
 * log p(x) = x · logits − softplus(logits)
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { broadcastTo, clampProbs, probsToLogits, softplus } from '../backend/numerics.js'
import { bernoulliLogDensity } from '../backend/log-densities.js'
import { scoped } from '../backend/scope.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { asTensor, broadcastShapes } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/**
 * Exactly one of `logits` or `probs`: the parameter object of the discrete families.
 *
 * @example
 * const a: LogitsOrProbs = { logits: [0, 1] }
 * const b: LogitsOrProbs = { probs: 0.3 }
 */
export type LogitsOrProbs =
  | { readonly logits: TensorLike; readonly probs?: undefined }
  | { readonly probs: TensorLike; readonly logits?: undefined }

/** Which parameterisation was given, and its value. */
export interface PickedParam {
  readonly kind: 'logits' | 'probs'
  readonly value: TensorLike
}

/**
 * Reads a {@link LogitsOrProbs} object; passing both or neither is an {@link InvalidArgumentError}.
 *
 * @example
 * pickParam('bernoulli', { probs: 0.3 })   // { kind: 'probs', value: 0.3 }
 */
export const pickParam = (dist: string, params: LogitsOrProbs): PickedParam => {
  const p: { logits?: TensorLike; probs?: TensorLike } = typeof params === 'object' && params !== null ? params : {}
  const { logits, probs } = p
  if ((logits === undefined) === (probs === undefined)) {
    const got = logits === undefined ? 'neither' : 'both'
    throw new InvalidArgumentError(`${dist}: expected exactly one of the arguments 'logits' or 'probs'; got ${got}`)
  }
  return logits !== undefined ? { kind: 'logits', value: logits } : { kind: 'probs', value: probs as TensorLike }
}

/** Bernoulli(probs) on {0, 1}: not reparameterisable; samples are float32 0/1. */
export interface Bernoulli extends Distribution<tf.Tensor, false> {
  readonly _tag: 'Bernoulli'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** log(p / (1 − p)); computed from clamped probs when probs were given. */
  readonly logits: tf.Tensor
  /** P(X = 1); σ(logits) when logits were given, then computed on each access (a new tensor, like `mean`). */
  readonly probs: tf.Tensor
  readonly toEvent: (n: number) => Independent<Bernoulli>
  readonly expand: (batchShape: readonly number[]) => Bernoulli
}

/** Converts, optionally broadcasts, validates and completes the parameter (intermediates freed). */
const bernoulliParams = scoped('bernoulli', (kind: 'logits' | 'probs', value: TensorLike, to: number[] | undefined) => {
  const given = asTensor(value, kind, 'bernoulli')
  const raw = to === undefined ? given : broadcastTo(given, to)
  if (kind === 'logits') {
    checkParam('bernoulli', 'logits', raw, constraints.real)
    return { logits: raw, given: raw }
  }
  checkParam('bernoulli', 'probs', raw, constraints.unitInterval)
  return { logits: probsToLogits(raw), given: raw }
})

/** x as float32 (no launch when it already is). */
const asFloat = (x: tf.Tensor): tf.Tensor => x.dtype === 'float32' ? x : tf.cast(x, 'float32')

const build = (kind: 'logits' | 'probs', value: TensorLike, to?: number[]): Bernoulli => {
  const { logits, given } = bernoulliParams(kind, value, to)
  const batchShape = [...logits.shape]
  // σ(logits) only when asked for: a VAE's likelihood never needs it (≈ 0.1 ms per 128×784 batch).
  const probs = (): tf.Tensor => kind === 'logits' ? tf.sigmoid(logits) : given
  return makeDistribution<Bernoulli, 'probs'>({
    tag: 'Bernoulli', name: 'bernoulli', fields: { logits }, lazy: { probs },
    batchShape, eventShape: [], reparameterized: false, support: constraints.boolean,
    draw: (s, seed) => {
      // Clamped uniforms in [ε, 1 − ε]: probs 0 never gives 1, probs 1 always does.
      const u = clampProbs(tf.randomUniform([...s, ...batchShape], 0, 1, 'float32', seed))
      return tf.cast(tf.less(u, probs()), 'float32')
    },
    logProb: (x) => bernoulliLogDensity(asFloat(x), logits),
    logProbSummed: (x, n) => bernoulliLogDensity(asFloat(x), logits, n),
    mean: () => tf.clone(probs()),
    variance: () => { const p = probs(); return tf.mul(p, tf.sub(1, p)) },
    entropy: () => tf.sub(softplus(logits), tf.mul(logits, probs())),
    enumerateSupport: () => tf.tensor1d([0, 1], 'float32'),
    expand: (b) => build(kind, given, [...b]),
  })
}

/**
 * Bernoulli(p) on {0, 1}, given `{ logits }` or `{ probs }` (exactly one):
 * log p(x) = x · logits − softplus(logits), with logits = log(p / (1 − p)).
 * `mean` = p, `variance` = p(1 − p), `entropy` = softplus(logits) − logits · p.
 * Probabilities are clamped to [ε, 1 − ε] when converted to logits.
 *
 * @example
 * const d = bernoulli({ probs: tf.tensor1d([0.2, 0.9]) })
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 * bernoulli({ logits: 0 }).probs  // 0.5
 */
export const bernoulli = (params: LogitsOrProbs): Bernoulli => {
  const { kind, value } = pickParam('bernoulli', params)
  return build(kind, value)
}

/**
 * KL(p ‖ q) for two Bernoullis, in logits a (of p) and b (of q):
 * KL = σ(a)(a − b) + softplus(b) − softplus(a); shape = broadcast of the batch shapes.
 *
 * @example klBernoulliBernoulli(bernoulli({ probs: 0.3 }), bernoulli({ logits: 1 }))
 */
export const klBernoulliBernoulli = scoped('klBernoulliBernoulli', (p: Bernoulli, q: Bernoulli): tf.Tensor => {
  broadcastShapes('klBernoulliBernoulli', [['p', p.batchShape], ['q', q.batchShape]])
  return tf.add(tf.mul(p.probs, tf.sub(p.logits, q.logits)), tf.sub(softplus(q.logits), softplus(p.logits)))
})
