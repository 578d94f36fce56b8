/**
 * The Binomial distribution: successes in `totalCount` Bernoulli(p) trials, over
 * {0, …, totalCount}, parameterised by logits or probs; and the binomial log-density and
 * sampler the other count families (negative binomial, beta-binomial, multinomial) build on.
 *
 * log p(k) = log C(n, k) + k log p + (n − k) log(1 − p)
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, sameShape, showShape } from '../errors.js'
import { broadcastTo, log1p, probsToLogits, softplus } from '../backend/numerics.js'
import { scoped } from '../backend/scope.js'
import { pickParam } from './bernoulli.js'
import type { LogitsOrProbs } from './bernoulli.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { acceptReject, anyAndAll, bd0, emptyDraw, iterate, seedStream, stirlerr, uniforms } from './poisson.js'
import type { SeedStream } from './poisson.js'
import { asTensor, broadcastShapes } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam, isValidating } from './validation.js'

const LOG_2PI = Math.log(2 * Math.PI)

/**
 * log[C(x + y, x) pˣ (1 − p)ʸ] for x successes and y failures (reals ≥ 0), p = σ(logits), in
 * Loader's saddle-point form (no cancellation of large log-factorials in float32):
 * stirlerr(n) − stirlerr(x) − stirlerr(y) − bd0(x, np) − bd0(y, n(1 − p)) + ½ log(n / 2πxy), n = x + y;
 * y log(1 − p) at x = 0 and x log p at y = 0. `integer`: x and y are known to be integers (no lgamma).
 *
 * @example binomialLogPmf(tf.scalar(3), tf.scalar(7), tf.scalar(0))   // log(C(10, 3) / 2¹⁰)
 */
export const binomialLogPmf = (x: tf.Tensor, y: tf.Tensor, logits: tf.Tensor, integer = false): tf.Tensor => {
  const logP = tf.neg(softplus(tf.neg(logits))), logQ = tf.neg(softplus(logits))
  const interior = tf.logicalAnd(tf.greater(x, 0), tf.greater(y, 0))
  const xi = tf.where(interior, x, tf.onesLike(x)), yi = tf.where(interior, y, tf.onesLike(y))
  const n = tf.add(xi, yi), logN = tf.log(n)
  const logMp = tf.add(logN, logP), logMq = tf.add(logN, logQ)
  const stirling = tf.sub(stirlerr(n, integer), tf.add(stirlerr(xi, integer), stirlerr(yi, integer)))
  const deviance = tf.add(bd0(xi, tf.exp(logMp), logMp), bd0(yi, tf.exp(logMq), logMq))
  const half = tf.mul(0.5, tf.sub(logN, tf.add(LOG_2PI, tf.log(tf.mul(xi, yi)))))
  const inner = tf.add(tf.sub(stirling, deviance), half)
  return tf.where(interior, inner, tf.where(tf.greater(x, 0), tf.mul(x, logP), tf.mul(y, logQ)))
}

/** From this mean n·min(p, 1 − p) on, binomial draws use BTRS; below it, inversion. */
const BTRS_MIN = 10

/** Inversion by sequential search on whole tensors (one round per count value; stops at n or when the CDF stops growing). */
const binomialInversion = (n: tf.Tensor, q: tf.Tensor, seeds: SeedStream): tf.Tensor => {
  const u = uniforms(n.shape, seeds)
  const odds = tf.div(q, tf.sub(1, q))
  const p0 = tf.exp(tf.mul(n, log1p(tf.neg(q))))
  const alive0 = tf.greater(u, p0)
  const init: tf.Tensor[] = [tf.cast(alive0, 'float32'), p0, p0, alive0]
  const [k] = iterate(init, ([c, p, f, alive], j) => {
    const pNext = tf.mul(p!, tf.mul(tf.div(tf.sub(n, j), j + 1), odds))
    const fNext = tf.add(f!, pNext)
    const more = tf.logicalAnd(alive!, tf.logicalAnd(tf.greater(u, fNext), tf.greater(fNext, f!)))
    return [tf.add(c!, tf.cast(more, 'float32')), pNext, fNext, more]
  }, (s) => s[3]!, 4)
  return k!
}

/**
 * Hörmann's BTRS (binomial transformed rejection with squeeze, 1993) in TensorFlow's form, for
 * n·q ≥ 10 with q ≤ ½; the test log f(k)/f(m) against the mode m uses {@link binomialLogPmf}.
 */
const binomialBtrs = (n: tf.Tensor, q: tf.Tensor, seeds: SeedStream): tf.Tensor => {
  const sd = tf.sqrt(tf.mul(tf.mul(n, q), tf.sub(1, q)))
  const b = tf.add(1.15, tf.mul(2.53, sd))
  const a = tf.add(tf.add(-0.0873, tf.mul(0.0248, b)), tf.mul(0.01, q))
  const c = tf.add(tf.mul(n, q), 0.5)
  const vr = tf.sub(0.92, tf.div(4.2, b))
  const logAlpha = tf.log(tf.mul(tf.add(2.83, tf.div(5.1, b)), sd))
  const lq = tf.sub(tf.log(q), log1p(tf.neg(q)))
  const m = tf.floor(tf.mul(tf.add(n, 1), q))
  const logFm = binomialLogPmf(m, tf.sub(n, m), lq, true)
  return acceptReject([n, a, b, c, vr, logAlpha, lq, m, logFm], ([pn, pa, pb, pc, pvr, pla, plq, pm, pfm]) => {
    const u = tf.sub(uniforms(pn!.shape, seeds), 0.5), v = uniforms(pn!.shape, seeds)
    const us = tf.sub(0.5, tf.abs(u))
    const k = tf.floor(tf.add(tf.mul(tf.add(tf.div(tf.mul(2, pa!), us), pb!), u), pc!))
    const inRange = tf.logicalAnd(tf.greaterEqual(k, 0), tf.lessEqual(k, pn!))
    const ks = tf.where(inRange, k, pm!)
    const squeeze = tf.logicalAnd(tf.greaterEqual(us, 0.07), tf.lessEqual(v, pvr!))
    const lhs = tf.sub(tf.add(tf.log(v), pla!), tf.log(tf.add(tf.div(pa!, tf.square(us)), pb!)))
    const rhs = tf.sub(binomialLogPmf(ks, tf.sub(pn!, ks), plq!, true), pfm!)
    return [k, tf.logicalAnd(inRange, tf.logicalOr(squeeze, tf.lessEqual(lhs, rhs)))]
  })
}

/**
 * Binomial draws (float32 counts) for whole tensors of counts n and probabilities q = min(p, 1 − p) ≤ ½
 * (of one shape), with `flip` where p > ½ (the draw is then n − k): inversion where n·q < 10, BTRS
 * elsewhere, each run only when some element needs it.
 *
 * @example sampleBinomial(tf.tensor1d([10, 500]), tf.tensor1d([0.3, 0.2]), tf.tensor1d([false, true], 'bool'), seedStream(0))
 */
export const sampleBinomial = (n: tf.Tensor, q: tf.Tensor, flip: tf.Tensor, seeds: SeedStream): tf.Tensor => {
  const small = tf.less(tf.mul(n, q), BTRS_MIN)
  const [anySmall, allSmall] = anyAndAll(small)
  let k = anySmall ? binomialInversion(tf.where(small, n, tf.zerosLike(n)), tf.where(small, q, tf.zerosLike(q)), seeds) : undefined
  if (!allSmall) {
    const big = binomialBtrs(tf.where(small, tf.fill(n.shape, 4 * BTRS_MIN), n), tf.where(small, tf.fill(q.shape, 0.5), q), seeds)
    k = k === undefined ? big : tf.where(small, k, big)
  }
  return tf.where(flip, tf.sub(n, k!), k!)
}

// ---------------------------------------------------------------------------------------------
// The family

/** Binomial(totalCount, probs) over {0, …, totalCount}: not reparameterised; draws are float32 counts. */
export interface Binomial extends Distribution<tf.Tensor, false> {
  readonly _tag: 'Binomial'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  /** n, the number of trials (a non-negative integer per batch element). */
  readonly totalCount: tf.Tensor
  /** log(p / (1 − p)); from clamped probs when probs were given. */
  readonly logits: tf.Tensor
  /** The success probability p; σ(logits) computed on each access when logits were given. */
  readonly probs: tf.Tensor
  readonly toEvent: (n: number) => Independent<Binomial>
  readonly expand: (batchShape: readonly number[]) => Binomial
}

/**
 * `x` broadcast to `shape`, or `x` itself when it already has that shape (no copy: a given tensor stays the caller's).
 *
 * @example broadcastIfNeeded(tf.scalar(3), [2])   // [3, 3]
 */
export const broadcastIfNeeded = (x: tf.Tensor, shape: readonly number[]): tf.Tensor =>
  sameShape(x.shape, shape) ? x : broadcastTo(x, shape)

/** Converts, broadcasts (to `to` when given) and validates totalCount and the probability parameter. */
const binomialParams = scoped('binomial', (count: TensorLike, kind: 'logits' | 'probs', value: TensorLike, to: number[] | undefined) => {
  const n0 = asTensor(count, 'totalCount', 'binomial'), v0 = asTensor(value, kind, 'binomial')
  const shape = to ?? broadcastShapes('binomial', [['totalCount', n0.shape], [kind, v0.shape]])
  const n = broadcastIfNeeded(n0, shape), raw = broadcastIfNeeded(v0, shape)   // both of the batch shape, as Pyro's broadcast_all
  checkParam('binomial', 'totalCount', n, constraints.nonNegativeInteger)
  checkParam('binomial', kind, raw, kind === 'logits' ? constraints.real : constraints.unitInterval)
  return { n, logits: kind === 'logits' ? raw : probsToLogits(raw), given: raw, batchShape: shape }
})

/** q = min(p, 1 − p) and whether p > ½, exactly, from the given parameterisation. */
export const foldProbs = (kind: 'logits' | 'probs', logits: tf.Tensor, given: tf.Tensor): [tf.Tensor, tf.Tensor] =>
  kind === 'logits' ? [tf.sigmoid(tf.neg(tf.abs(logits))), tf.greater(logits, 0)]
    : [tf.minimum(given, tf.sub(1, given)), tf.greater(given, 0.5)]

const build = (count: TensorLike, kind: 'logits' | 'probs', value: TensorLike, to?: number[]): Binomial => {
  const { n, logits, given, batchShape } = binomialParams(count, kind, value, to)
  const probs = (): tf.Tensor => kind === 'logits' ? tf.sigmoid(logits) : given
  return makeDistribution<Binomial, 'probs'>({
    tag: 'Binomial', name: 'binomial', fields: { totalCount: n, logits }, lazy: { probs },
    batchShape, eventShape: [], reparameterized: false, support: constraints.integerRange(0, n),
    draw: (s, seed) => {
      const full = [...s, ...batchShape]
      const empty = emptyDraw(full)
      if (empty !== undefined) return empty
      const [q, flip] = foldProbs(kind, logits, given)
      return sampleBinomial(tf.broadcastTo(n, full), tf.broadcastTo(q, full), tf.broadcastTo(flip, full), seedStream(seed))
    },
    // Validated values and counts are integers: then stirlerr needs no lgamma.
    logProb: (x) => binomialLogPmf(x, tf.sub(n, x), logits, isValidating()),
    mean: () => tf.mul(n, probs()),
    variance: () => kind === 'logits'
      ? tf.mul(tf.mul(n, tf.sigmoid(logits)), tf.sigmoid(tf.neg(logits)))
      : tf.mul(tf.mul(n, given), tf.sub(1, given)),
    expand: (b) => build(n, kind, given, [...b]),
  })
}

/**
 * Binomial(n, p) over {0, …, n}, given `totalCount` n (non-negative integers) and `{ logits }` or
 * `{ probs }` (exactly one): log p(k) = log C(n, k) + k log p + (n − k) log(1 − p), computed in
 * Loader's saddle-point form (accurate for large n in float32). Mean np, variance np(1 − p); no
 * closed-form entropy. Values must be integers in [0, n] (checked when validating).
 * Draws: CDF inversion where n·min(p, 1 − p) < 10, Hörmann's BTRS elsewhere, vectorised on tensors.
 *
 * @example
 * const d = binomial(tf.tensor1d([10, 200]), { probs: 0.3 })
 * d.logProb(d.sample([5], 0))   // shape [5, 2]
 */
export const binomial = (totalCount: TensorLike, params: LogitsOrProbs): Binomial => {
  const { kind, value } = pickParam('binomial', params)
  return build(totalCount, kind, value)
}

/** Reads both totalCounts broadcast together; an {@link InvalidArgumentError} names the first pair that differs. */
const checkSameCount = scoped('klBinomialBinomial', (p: Binomial, q: Binomial, shape: number[]): void => {
  const a = tf.broadcastTo(p.totalCount, shape).dataSync(), b = tf.broadcastTo(q.totalCount, shape).dataSync()
  const i = a.findIndex((v, j) => v !== b[j])
  if (i >= 0) {
    throw new InvalidArgumentError(`klBinomialBinomial: p and q must have the same totalCount; got ${a[i]} (p) and ${b[i]} (q) at flat index ${i} of batch shape ${showShape(shape)}`)
  }
})

/**
 * KL(p ‖ q) for two Binomials with the same totalCount n (an {@link InvalidArgumentError} names both
 * counts otherwise), in logits a (of p) and b (of q): n · [σ(a)(a − b) + softplus(b) − softplus(a)].
 *
 * @example klBinomialBinomial(binomial(10, { probs: 0.3 }), binomial(10, { logits: 0 }))
 */
export const klBinomialBinomial = scoped('klBinomialBinomial', (p: Binomial, q: Binomial): tf.Tensor => {
  const shape = broadcastShapes('klBinomialBinomial', [['p', p.batchShape], ['q', q.batchShape]])
  checkSameCount(p, q, shape)
  const a = p.logits, b = q.logits
  const bernoulliKl = tf.add(tf.mul(tf.sigmoid(a), tf.sub(a, b)), tf.sub(softplus(b), softplus(a)))
  return tf.broadcastTo(tf.mul(p.totalCount, bernoulliKl), shape)
})
