/**
 * The `Distribution` value: an immutable record of shapes, a support, and
 * pure tensor functions. Shapes follow `sampleShape ++ batchShape ++ eventShape`;
 * `logProb` returns `sampleShape ++ batchShape`.
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { Constraint } from './constraints.js'
import type { BatchShape, EventShape } from './shape.js'

/**
 * Draws `sampleShape ++ batchShape ++ eventShape`; an optional numeric seed makes it repeatable.
 *
 * @example const x = normal(0, 1).sample([100], 42)
 */
export type SampleFn<T extends tf.Tensor> = (sampleShape?: readonly number[], seed?: number) => T

/**
 * A probability distribution over tensors of type `T`.
 * `Rep` records at the type level whether gradients flow through `rsample`:
 * `rsample` exists exactly when `Rep` is `true`.
 *
 * @example
 * const d: Distribution<tf.Tensor, true> = normal(tf.zeros([3]), 1)
 * const x = d.rsample([2])          // shape [2, 3], differentiable in loc and scale
 * const lp = d.logProb(x)           // shape [2, 3]
 */
export interface Distribution<T extends tf.Tensor = tf.Tensor, Rep extends boolean = boolean> {
  /** The family, used by the KL registry: 'Normal', 'Bernoulli', 'Independent', … */
  readonly _tag: string
  /** The constructor's name, used in messages: 'normal', 'bernoulli', … */
  readonly name: string
  readonly batchShape: BatchShape
  readonly eventShape: EventShape
  readonly reparameterized: Rep
  readonly support: Constraint
  /** A draw without gradients. */
  readonly sample: SampleFn<T>
  /** A reparameterised draw: gradients flow to the parameters. */
  readonly rsample: Rep extends true ? SampleFn<T> : undefined
  /** log density (or mass) of `value`, shape `sampleShape ++ batchShape`. */
  logProb(value: T): tf.Tensor
  /** E[X], shape `batchShape ++ eventShape`, where a closed form exists. */
  readonly mean?: tf.Tensor
  /** Var[X] (elementwise), where a closed form exists. */
  readonly variance?: tf.Tensor
  /** H[p] = −E[log p(X)], shape `batchShape`, where a closed form exists. */
  readonly entropy?: () => tf.Tensor
  /**
   * The K values of a finite support, shape `[K, ...eventShape]`, the same for every batch element
   * (Pyro's `enumerate_support(expand=False)` without the batch dims): what enumeration lays along a
   * fresh dim. Present only on finite-support families (bernoulli, categorical, oneHotCategorical).
   */
  readonly enumerateSupport?: () => T
  /** Moves the rightmost `n` batch dims into the event (their log-probs are summed). */
  readonly toEvent: (n: number) => Distribution<T, Rep>
  /** The same distribution broadcast to a larger batch shape. */
  readonly expand: (batchShape: readonly number[]) => Distribution<T, Rep>
}

/** The value type of a distribution. @example ValueOf<Normal> // tf.Tensor */
export type ValueOf<D extends Distribution> = ReturnType<D['sample']>

/** `reparameterized` of a distribution type, as a literal. */
export type RepOf<D extends Distribution> = D['reparameterized']

/**
 * `base` with its rightmost `reinterpreted` batch dims treated as event dims.
 *
 * @example normal(tf.zeros([5, 3]), 1).toEvent(1)   // batchShape [5], eventShape [3]
 */
export interface Independent<D extends Distribution = Distribution> extends Distribution<ValueOf<D>, RepOf<D>> {
  readonly _tag: 'Independent'
  readonly base: D
  readonly reinterpreted: number
  /** The base's mean (present exactly when the base has one). */
  readonly mean: D extends { readonly mean: tf.Tensor } ? tf.Tensor : undefined
  readonly variance: D extends { readonly variance: tf.Tensor } ? tf.Tensor : undefined
  readonly entropy: D extends { readonly entropy: () => tf.Tensor } ? () => tf.Tensor : undefined
  readonly toEvent: (n: number) => Independent<D>
  readonly expand: (batchShape: readonly number[]) => Independent<D>
}
