/**
 * Finite mixtures whose K components come from one batched distribution.
 *
 * log p(x) = logSumExp_k(log w_k + log p_k(x))
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { subSeed } from '../backend/seed.js'
import { indicesToOneHot } from './categorical.js'
import type { Categorical } from './categorical.js'
import type { Constraint } from './constraints.js'
import type { Distribution, Independent, SampleFn, ValueOf } from './distribution.js'
import { makeDistribution } from './make.js'
import { isValidating, setValidation } from './validation.js'

/** A mixture of the K components batched in the rightmost batch dim of `components`; not reparameterised. */
export interface MixtureSameFamily<C extends Distribution = Distribution> extends Distribution<ValueOf<C>, false> {
  readonly _tag: 'MixtureSameFamily'
  /** The mixing weights: batchShape `B`, K categories. */
  readonly mixing: Categorical
  /** The components: batchShape `[...B, K]`. */
  readonly components: C
  /** Σ_k w_k μ_k, present when the components have a mean and variance (typed present when C declares both). */
  readonly mean: C extends WithMoments ? tf.Tensor : tf.Tensor | undefined
  /** Σ_k w_k (σ²_k + μ_k²) − mean², present when the components have a mean and variance. */
  readonly variance: C extends WithMoments ? tf.Tensor : tf.Tensor | undefined
  readonly toEvent: (n: number) => Independent<MixtureSameFamily<C>>
  readonly expand: (batchShape: readonly number[]) => MixtureSameFamily<C>
}

type WithMoments = Distribution & { readonly mean: tf.Tensor; readonly variance: tf.Tensor }
const hasMoments = (d: Distribution): d is WithMoments => 'mean' in d && 'variance' in d

const checkShapes = (mixing: Categorical, components: Distribution): void => {
  const want = [...mixing.batchShape, mixing.numCategories]
  const got = components.batchShape
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new ShapeError(`mixtureSameFamily: argument 'components' must have batchShape [...mixing.batchShape, K] = ${showShape(want)} (mixing batchShape ${showShape(mixing.batchShape)}, K = ${mixing.numCategories}); got components batchShape ${showShape(got)}`)
  }
}

/** x with a component axis inserted before its event dims, to broadcast against the K components. */
const withComponentAxis = (x: tf.Tensor, eventRank: number): tf.Tensor => tf.expandDims(x, x.rank - eventRank)

/** The union of the components' supports: x lies in the support of at least one component. */
const unionSupport = (c: Constraint, eventRank: number): Constraint => ({
  _tag: c._tag, describe: `in the support of some component: ${c.describe}`, eventDims: c.eventDims,
  check: (x) => tf.any(c.check(withComponentAxis(x, eventRank)), -1),
})

/** Runs `f` with validation off (the mixture has validated the value against the union of supports). */
const unvalidated = <T>(f: () => T): T => {
  const was = isValidating()
  setValidation(false)
  try { return f() } finally { setValidation(was) }
}

/** Mixing weights of shape `B ++ [K] ++ [1]·eventRank`, ready to weight per-component moments. */
const weights = (mixing: Categorical, eventRank: number): tf.Tensor =>
  tf.reshape(mixing.probs, [...mixing.probs.shape, ...Array<number>(eventRank).fill(1)])

/** Σ_k w_k f_k over the component axis. */
const mix = (w: tf.Tensor, f: tf.Tensor, axis: number): tf.Tensor => tf.sum(tf.mul(w, f), axis)

/** Picks, per draw, the component the mixing draw chose (one-hot mask, summed over K). */
const pick = (all: tf.Tensor, index: tf.Tensor, k: number, eventRank: number): tf.Tensor => {
  const mask = tf.cast(indicesToOneHot(index, k), all.dtype)
  const axis = index.rank
  return tf.sum(tf.mul(tf.reshape(mask, [...mask.shape, ...Array<number>(eventRank).fill(1)]), all), axis)
}

/**
 * The mixture Σ_k w_k p_k with w = `mixing` and p_k the k-th component along
 * the rightmost batch dim of `components`:
 * log p(x) = logSumExp_k(log w_k + log p_k(x)).
 * Support: the union of the components' supports (`logProb` validates x against
 * it, then evaluates the components without their own validation, so a component
 * whose support excludes x contributes −∞, as Uniform does). Sampling draws every
 * component and keeps the one the mixing draw picks (not reparameterised). Mean Σ w_k μ_k and variance Σ w_k (σ²_k + μ_k²) − μ²
 * exist when the components have them; there is no closed-form entropy.
 *
 * @example
 * const m = mixtureSameFamily(categorical({ probs: [0.3, 0.7] }), normal([-2, 2], [1, 0.5]))
 * m.logProb(m.sample([10], 0))   // shape [10]
 */
export const mixtureSameFamily = <C extends Distribution>(mixing: Categorical, components: C): MixtureSameFamily<C> => {
  checkShapes(mixing, components)
  const k = mixing.numCategories
  const eventRank = components.eventShape.length
  const axis = mixing.batchShape.length
  return makeDistribution<MixtureSameFamily<C>>({
    tag: 'MixtureSameFamily', name: 'mixtureSameFamily',
    fields: { mixing, components } as Omit<MixtureSameFamily<C>, keyof Distribution>,
    batchShape: mixing.batchShape, eventShape: components.eventShape,
    reparameterized: false, support: unionSupport(components.support, eventRank),
    draw: (s, seed) => {
      const all = (components.sample as SampleFn<tf.Tensor>)(s, subSeed(seed, 0))
      return pick(all, mixing.sample(s, subSeed(seed, 1)), k, eventRank) as ValueOf<C>
    },
    logProb: (x) => {
      const lp = unvalidated(() => components.logProb(withComponentAxis(x, eventRank) as ValueOf<C>))
      return tf.logSumExp(tf.add(mixing.logits, lp), -1)
    },
    ...(hasMoments(components) ? {
      mean: () => mix(weights(mixing, eventRank), components.mean, axis),
      variance: () => {
        const w = weights(mixing, eventRank)
        const m = components.mean
        const second = mix(w, tf.add(components.variance, tf.square(m)), axis)
        return tf.relu(tf.sub(second, tf.square(mix(w, m, axis))))
      },
    } : {}),
    expand: (b) => mixtureSameFamily(mixing.expand(b) as Categorical, components.expand([...b, k]) as C),
  })
}
