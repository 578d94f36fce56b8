/**
 * The Poisson distribution over counts {0, 1, 2, …}, and the count-family numerics the
 * other count families share: Loader's saddle-point log-densities (stirlerr, bd0), a seed
 * stream, and the tensor loops the samplers run in.
 *
 * log p(k) = k log rate − rate − log k!
 */
import * as tf from '@tensorflow/tfjs-core'
import { log1p } from '../backend/numerics.js'
import { nextWord, xoshiro128 } from '../backend/random.js'
import { scoped } from '../backend/scope.js'
import { lgamma } from '../backend/special.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam, isValidating } from './validation.js'

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)

// ---------------------------------------------------------------------------------------------
// Loader's log-densities (C. Loader, "Fast and accurate computation of binomial probabilities", 2000)

/** At and above this x, stirlerr is its asymptotic series (error < 2e-8); below, lgamma. */
const STIRLING_MIN = 3

/** stirlerr(1) and stirlerr(2), in doubles. */
const STIRLERR_1 = 0.08106146679532726
const STIRLERR_2 = 0.04134069595540929

/**
 * Stirling's error stirlerr(x) = log Γ(x + 1) − (x + ½) log x + x − ½ log 2π, for x > 0:
 * 1/(12x) − 1/(360x³) + 1/(1260x⁵) − 1/(1680x⁷) + 1/(1188x⁹) for x ≥ 3 (error < 2e-8); below 3,
 * lgamma — or, with `integer` (x ∈ {1, 2, …}, as the samplers' candidates), the exact values
 * at 1 and 2 (no lgamma).
 *
 * @example stirlerr(tf.scalar(10))   // ≈ 0.008330563
 */
export const stirlerr = (x: tf.Tensor, integer = false): tf.Tensor => {
  const big = tf.greaterEqual(x, STIRLING_MIN)
  const inv2 = tf.reciprocal(tf.square(tf.maximum(x, STIRLING_MIN)))
  const series = tf.div([1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12].reduce<tf.Tensor>(
    (acc, c) => tf.add(c, tf.mul(inv2, acc)), tf.zerosLike(inv2)), tf.maximum(x, STIRLING_MIN))
  if (integer) return tf.where(big, series, tf.where(tf.less(x, 1.5), tf.fill(x.shape, STIRLERR_1), tf.fill(x.shape, STIRLERR_2)))
  const xs = tf.minimum(x, STIRLING_MIN)
  const exact = tf.sub(tf.add(lgamma(tf.add(xs, 1)), tf.sub(xs, HALF_LOG_2PI)), tf.mul(tf.add(xs, 0.5), tf.log(xs)))
  return tf.where(big, series, exact)
}

/** Below this |r|, g(r) = (1 + r) log(1 + r) − r is summed as its series. */
const G_SERIES = 0.1

/** g(r) = (1 + r) log1p(r) − r = Σ_{n≥2} (−r)ⁿ/(n(n − 1)) for r > −1, accurate near 0. */
const gOf = (r: tf.Tensor): tf.Tensor => {
  const small = tf.less(tf.abs(r), G_SERIES)
  const nr = tf.neg(tf.where(small, r, tf.zerosLike(r)))
  const series = [10, 9, 8, 7, 6, 5, 4, 3, 2].reduce<tf.Tensor>((acc, n) => tf.mul(nr, tf.add(1 / (n * (n - 1)), acc)), tf.zerosLike(nr))
  const rb = tf.where(small, tf.onesLike(r), r)
  return tf.where(small, tf.mul(nr, series), tf.sub(tf.mul(tf.add(1, rb), log1p(rb)), rb))
}

/**
 * Loader's deviance term bd0(x, M) = x log(x/M) + M − x for x ≥ 0, M > 0 (bd0(0, M) = M), without
 * the cancellation of the direct form: M·g((x − M)/M) for M/2 < x < 2M, the direct form (with
 * log M given, so an underflowed M still works) elsewhere.
 *
 * @example bd0(tf.scalar(5), tf.scalar(5), tf.scalar(Math.log(5)))   // 0
 */
export const bd0 = (x: tf.Tensor, m: tf.Tensor, logM: tf.Tensor): tf.Tensor => {
  const pos = tf.greater(x, 0)
  const near = tf.logicalAnd(tf.greater(tf.mul(2, x), m), tf.less(x, tf.mul(2, m)))
  const far = tf.logicalAnd(pos, tf.logicalNot(near))
  const mn = tf.where(near, m, tf.onesLike(m))
  const nearValue = tf.mul(mn, gOf(tf.div(tf.sub(tf.where(near, x, tf.onesLike(x)), mn), mn)))
  const xf = tf.where(far, x, tf.onesLike(x))
  const farValue = tf.add(tf.mul(xf, tf.sub(tf.log(xf), tf.where(far, logM, tf.zerosLike(logM)))), tf.sub(tf.where(far, m, tf.onesLike(m)), xf))
  return tf.where(near, nearValue, tf.where(far, farValue, tf.add(m, tf.zerosLike(x))))
}

/**
 * log Poisson(k; rate) = −stirlerr(k) − bd0(k, rate) − ½ log(2πk) for k > 0, −rate at k = 0
 * (`integer`: k is known to be an integer, see {@link stirlerr}).
 *
 * @example poissonLogPmf(tf.scalar(3), tf.scalar(2))   // log(2³e⁻²/3!)
 */
export const poissonLogPmf = (k: tf.Tensor, rate: tf.Tensor, integer = false): tf.Tensor => {
  const pos = tf.greater(k, 0)
  const ks = tf.where(pos, k, tf.onesLike(k))
  const inner = tf.neg(tf.add(tf.add(stirlerr(ks, integer), bd0(ks, rate, tf.log(rate))), tf.mul(0.5, tf.log(tf.mul(2 * Math.PI, ks)))))
  return tf.where(pos, inner, tf.neg(tf.add(rate, tf.zerosLike(k))))
}

// ---------------------------------------------------------------------------------------------
// Sampling scaffolding shared by the count families

/** The seeds of one draw's successive uniform tensors: all undefined (fresh) for an unseeded draw. */
export type SeedStream = () => number | undefined

/** Successive 32-bit seeds from one draw seed (xoshiro128**), so a seeded draw repeats. @example seedStream(7)() */
export const seedStream = (seed: number | undefined): SeedStream => {
  if (seed === undefined) return () => undefined
  const st = xoshiro128(seed)
  return () => nextWord(st)
}

/**
 * A zero-size draw of `shape`, or undefined when the shape has elements (tf.broadcastTo mis-shapes
 * zero-size targets, e.g. [1, 2] for [0, 2], so the samplers skip it).
 *
 * @example emptyDraw([0, 2])   // zeros of shape [0, 2]
 */
export const emptyDraw = (shape: readonly number[]): tf.Tensor | undefined => shape.includes(0) ? tf.zeros([...shape]) : undefined

/** U[0, 1) float32 draws of `shape` with the stream's next seed. @example uniforms([3], seedStream(1)) */
export const uniforms = (shape: readonly number[], seeds: SeedStream): tf.Tensor =>
  tf.randomUniform([...shape], 0, 1, 'float32', seeds())

/**
 * Whether any and whether all elements of a bool tensor are true (one read-back each): where the
 * count samplers split their elements between two methods.
 *
 * @example const [anySmall, allSmall] = anyAndAll(tf.less(rate, 10))
 */
export const anyAndAll = (mask: tf.Tensor): [boolean, boolean] =>
  tf.tidy(() => [tf.any(mask), tf.all(mask)].map((t) => t.dataSync()[0] === 1)) as [boolean, boolean]

/** Whether any element of the bool tensor is true (one read-back). */
const anyTrue = (mask: () => tf.Tensor): boolean => tf.tidy(() => tf.any(mask()).dataSync()[0] === 1)

/** The most rounds a sampler loop runs; elements still pending after it (only for NaN parameters) stay NaN. */
export const MAX_ROUNDS = 1000

/**
 * Runs `step` on the loop state from round 0 while `pending(state)` has a true element (checked every
 * `every` rounds), for at most {@link MAX_ROUNDS}. The loop owns its states: each superseded one is
 * freed, so a long search holds one state, not one per round.
 */
export const iterate = <S extends tf.Tensor[]>(init: S, step: (s: S, round: number) => S, pending: (s: S) => tf.Tensor, every = 1): S => {
  let state = init
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (round % every === 0 && !anyTrue(() => pending(state))) break
    const next = tf.tidy(() => step(state, round))
    if (state !== init) tf.dispose(state.filter((t) => !next.includes(t)))
    state = next
  }
  return state
}

/** Flat indices (into `of`) of the elements whose flag is false, read back once. */
const rejected = (accepted: tf.Tensor, of: readonly number[]): number[] => {
  const flags = accepted.dataSync()
  return of.filter((_, i) => flags[i] === 0)
}

/**
 * Rejection sampling on tensors: `propose` gets flat per-element parameter tensors (all of one length m)
 * and returns m candidate values and accept flags, drawing its own uniforms. The first round runs on every
 * element; each later round only on the still-rejected ones, gathered by index and scattered back (as the
 * Gamma sampler does), so a round costs what is left. After {@link MAX_ROUNDS} (only with NaN parameters)
 * the rest stay NaN. Returns the accepted values in the parameters' shape.
 *
 * @example acceptReject([tf.ones([3])], ([p]) => [p!, tf.onesLike(p!).cast('bool')])   // [1, 1, 1]
 */
export const acceptReject = (params: readonly tf.Tensor[], propose: (p: readonly tf.Tensor[]) => [tf.Tensor, tf.Tensor]): tf.Tensor => {
  const shape = params[0]!.shape
  const flat = params.map((p) => tf.reshape(p, [-1]))
  const [first, ok] = propose(flat)
  let out = tf.where(ok, first, tf.fill(first.shape, NaN))
  let pending = rejected(ok, Array.from({ length: first.size }, (_, i) => i))
  for (let round = 1; round < MAX_ROUNDS && pending.length > 0; round++) {
    const idx = tf.tensor2d(pending, [pending.length, 1], 'int32')
    const [value, accept] = propose(flat.map((p) => tf.gatherND(p, idx)))
    out = tf.tensorScatterUpdate(out, idx, tf.where(accept, value, tf.gatherND(out, idx)))
    pending = rejected(accept, pending)
  }
  return tf.reshape(out, shape)
}

/** Below this rate Poisson draws invert the CDF; from it on, PTRS. */
const PTRS_MIN = 10

/**
 * Inversion by sequential search: k = #{j : u > F(j)}, F the CDF accumulated in float32 on whole
 * tensors (one round per count value). An element stops when u ≤ F or when F stops growing (the
 * far tail, where the pmf is below F's rounding).
 */
const poissonInversion = (rate: tf.Tensor, seeds: SeedStream): tf.Tensor => {
  const u = uniforms(rate.shape, seeds)
  const p0 = tf.exp(tf.neg(rate))
  const alive0 = tf.greater(u, p0)
  const init: tf.Tensor[] = [tf.cast(alive0, 'float32'), p0, p0, alive0]
  const [k] = iterate(init, ([n, p, f, alive], j) => {
    const pNext = tf.div(tf.mul(p!, rate), j + 1)
    const fNext = tf.add(f!, pNext)
    const more = tf.logicalAnd(alive!, tf.logicalAnd(tf.greater(u, fNext), tf.greater(fNext, f!)))
    return [tf.add(n!, tf.cast(more, 'float32')), pNext, fNext, more]
  }, (s) => s[3]!, 4)
  return k!
}

/** Hörmann's PTRS (transformed rejection with squeeze, 1993), as numpy, for rate ≥ 10; the density test in Loader's form. */
const poissonPtrs = (rate: tf.Tensor, seeds: SeedStream): tf.Tensor => {
  const b = tf.add(0.931, tf.mul(2.53, tf.sqrt(rate)))
  const a = tf.add(-0.059, tf.mul(0.02483, b))
  const logInvAlpha = tf.log(tf.add(1.1239, tf.div(1.1328, tf.sub(b, 3.4))))
  const vr = tf.sub(0.9277, tf.div(3.6224, tf.sub(b, 2)))
  return acceptReject([rate, a, b, logInvAlpha, vr], ([lam, pa, pb, lia, pvr]) => {
    const u = tf.sub(uniforms(lam!.shape, seeds), 0.5), v = uniforms(lam!.shape, seeds)
    const us = tf.sub(0.5, tf.abs(u))
    const k = tf.floor(tf.add(tf.mul(tf.add(tf.div(tf.mul(2, pa!), us), pb!), u), tf.add(lam!, 0.43)))
    const squeeze = tf.logicalAnd(tf.greaterEqual(us, 0.07), tf.lessEqual(v, pvr!))
    const valid = tf.logicalAnd(tf.greaterEqual(k, 0), tf.logicalNot(tf.logicalAnd(tf.less(us, 0.013), tf.greater(v, us))))
    const lhs = tf.sub(tf.add(tf.log(v), lia!), tf.log(tf.add(tf.div(pa!, tf.square(us)), pb!)))
    const rhs = poissonLogPmf(tf.where(valid, k, tf.zerosLike(k)), lam!, true)
    return [k, tf.logicalOr(squeeze, tf.logicalAnd(valid, tf.lessEqual(lhs, rhs)))]
  })
}

/**
 * Poisson draws for a tensor of rates ≥ 0 (float32 counts of rate's shape): inversion for rate < 10,
 * PTRS for rate ≥ 10, each run only when some element needs it. Exact up to float32 rounding of the
 * CDF and of counts above 2²⁴.
 *
 * @example samplePoisson(tf.tensor1d([0.5, 40]), seedStream(3))
 */
export const samplePoisson = (rate: tf.Tensor, seeds: SeedStream): tf.Tensor => {
  const small = tf.less(rate, PTRS_MIN)
  const [anySmall, allSmall] = anyAndAll(small)
  const inv = anySmall ? poissonInversion(tf.where(small, rate, tf.zerosLike(rate)), seeds) : undefined
  if (allSmall && inv !== undefined) return inv
  const ptrs = poissonPtrs(tf.where(small, tf.fill(rate.shape, PTRS_MIN), rate), seeds)
  return inv === undefined ? ptrs : tf.where(small, inv, ptrs)
}

// ---------------------------------------------------------------------------------------------
// The family

/** Poisson(rate) over {0, 1, 2, …}: not reparameterised; draws are float32 counts. */
export interface Poisson extends Distribution<tf.Tensor, false> {
  readonly _tag: 'Poisson'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly rate: tf.Tensor
  readonly toEvent: (n: number) => Independent<Poisson>
  readonly expand: (batchShape: readonly number[]) => Poisson
}

/**
 * Poisson(rate), log p(k) = k log rate − rate − log k! for k ∈ {0, 1, 2, …}, computed in Loader's
 * saddle-point form −stirlerr(k) − bd0(k, rate) − ½ log 2πk (accurate in float32 for large k and
 * rate, where the direct form cancels). Mean = variance = rate; no closed-form entropy.
 * Draws: CDF inversion for rate < 10, Hörmann's PTRS for rate ≥ 10, vectorised on tensors.
 * Values must be non-negative integers (checked when validating).
 *
 * @example
 * const d = poisson(tf.tensor1d([0.5, 3, 120]))
 * d.logProb(d.sample([10], 0))   // shape [10, 3]
 */
export const poisson = (rate: TensorLike): Poisson => {
  const [{ rate: $rate }, batchShape] = convertParams('poisson', { rate }, (p) => {
    const shape = broadcastShapes('poisson', [['rate', p.rate.shape]])
    checkParam('poisson', 'rate', p.rate, constraints.positive)
    return shape
  })
  return makeDistribution<Poisson>({
    tag: 'Poisson', name: 'poisson', fields: { rate: $rate },
    batchShape, eventShape: [], reparameterized: false, support: constraints.nonNegativeInteger,
    draw: (s, seed) => {
      const full = [...s, ...batchShape]
      return emptyDraw(full) ?? samplePoisson(tf.broadcastTo($rate, full), seedStream(seed))
    },
    // Validated values are integers: then stirlerr needs no lgamma.
    logProb: (x) => poissonLogPmf(x, $rate, isValidating()),
    mean: () => tf.clone($rate),
    variance: () => tf.clone($rate),
    expand: (b) => poisson(tf.broadcastTo($rate, [...b])),
  })
}

/**
 * KL(p ‖ q) for two Poissons with rates a (of p) and b (of q): a log(a/b) − a + b = bd0(a, b),
 * accurate near a = b; shape = broadcast of the batch shapes.
 *
 * @example klPoissonPoisson(poisson(2), poisson(3))   // 2 log(2/3) + 1
 */
export const klPoissonPoisson = scoped('klPoissonPoisson', (p: Poisson, q: Poisson): tf.Tensor => {
  const shape = broadcastShapes('klPoissonPoisson', [['p', p.batchShape], ['q', q.batchShape]])
  const a = tf.broadcastTo(p.rate, shape), b = tf.broadcastTo(q.rate, shape)
  return bd0(a, b, tf.log(b))
})
