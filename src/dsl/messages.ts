/**
 * Effect messages: the plain objects a program yields. Running a program is the
 * interpreter's job (src/inference); here we only say what each effect asks for.
 * The type parameters are phantom records of the site (name, value, kind) that
 * give a program its type.
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { TransformName } from '../distributions/biject.js'
import type { Constraint } from '../distributions/constraints.js'
import type { Distribution } from '../distributions/distribution.js'

/** Whether a sample site is a latent variable or an observation. */
export type SiteKind = 'latent' | 'observed'

/** A plate a site sits in: `size` elements, of which `subsampleSize` are in this run (scale size/subsampleSize). */
export interface PlateFrame {
  readonly name: string
  readonly size: number
  readonly subsampleSize: number
  /** The batch dim the plate indexes (negative, from the right of the batch shape); {@link AUTO_DIM} until the runner allocates one. */
  readonly dim: number
  /** Set in a sequential plate (one element per iteration, no dim): which iteration this is. */
  readonly iteration?: number
}

/** The `dim` of a plate the program left to the runner: it gets the rightmost dim no enclosing plate holds. */
export const AUTO_DIM = 0

/** An enumerated variable (see `SampleOptions.enumerate`): a site whose value lays its K support values along batch dim `dim`. */
export interface EnumVar {
  readonly name: string
  readonly dim: number
  readonly size: number
  /** Where it is enumerated: the guide (an expectation under q) or the model (summed out of p). */
  readonly side: 'guide' | 'model'
}

/** What enumeration adds to a site: the enumerated variables its values may carry, by dim, and the site's own variable if it is one. */
export interface EnumContext {
  readonly visible: ReadonlyMap<number, EnumVar>
  readonly own?: EnumVar
}

/** What handlers add to a site: its scale (plates, β), mask, plate context, seed, and an answer. */
export interface SiteContext {
  readonly scale: number | tf.Tensor
  readonly mask: tf.Tensor | undefined
  readonly plates: readonly PlateFrame[]
  /** The seed the default interpreter draws this site with (set by the `seed` handler). */
  readonly seed?: number
  /** Set by `enumElbo`'s enumeration handler: the enumerated variables this site sees. */
  readonly enumeration?: EnumContext
}

/** A message a handler has already answered (replay, substitute, condition). */
export interface Answer<V> {
  readonly value?: V
}

/**
 * A score-function baseline of one guide site (Pyro's `infer={'baseline': …}`): a fixed value
 * subtracted from the site's cost, a decaying average of that cost,
 * b ← beta·b + (1 − beta)·cost (beta default 0.9), kept by `svi` per site, or a network's
 * output b = net(input) (Pyro's `nn_baseline`), trained alongside by regressing the cost:
 * the surrogate gets −Σ (b − ⟂cost)².
 */
export type BaselineSpec =
  | { readonly value: number | tf.Tensor }
  | { readonly useDecayingAverage: true; readonly beta?: number }
  | { readonly net: Network<tf.Tensor, tf.Tensor>; readonly input: tf.Tensor }

/** Per-site inference options: `sample`'s third argument. */
export interface SampleOptions {
  /** A baseline for this site's score-function gradient (used only where the guide's distribution is not reparameterised). */
  readonly baseline?: BaselineSpec
  /**
   * A guide's own latent, which the model does not have (Pyro's `infer={'is_auxiliary': True}`):
   * its log q counts in every estimator, and no model site pairs with it (e.g. the joint vector an
   * `autoMultivariateNormal` guide draws before mapping it onto the model's sites).
   */
  readonly auxiliary?: boolean
  /**
   * Sum a finite-support site out exactly under `enumElbo` (Pyro's `infer={'enumerate': …}`):
   * 'parallel' lays the whole support along a fresh dim left of every plate (and particle) dim, so
   * the program sees all K values at once and broadcasts over them; 'sequential' (guide only) runs
   * the program once per value, each value of one draw's shape. Other estimators ignore it.
   */
  readonly enumerate?: 'parallel' | 'sequential'
}

/** `sample(name, dist)` / `observe(name, dist, value)`. */
export interface SampleMsg<N extends string = string, T extends tf.Tensor = tf.Tensor, K extends SiteKind = SiteKind, O extends SampleOptions = SampleOptions> extends SiteContext, Answer<T> {
  readonly _tag: 'Sample'
  readonly name: N
  readonly kind: K
  readonly dist: Distribution<T>
  /** The observed value (observations, and latents turned into observations by `condition`). */
  readonly obs: T | undefined
  /** Per-site inference options (baselines, auxiliary, enumeration); typed as given, so that an enumerated site is known at compile time. */
  readonly options: O
}

/** `param(name, init, { constraint, transform })`: a learnable tensor, stored unconstrained. */
export interface ParamMsg<N extends string = string> extends Answer<tf.Tensor> {
  readonly _tag: 'Param'
  readonly name: N
  readonly init: tf.Tensor | (() => tf.Tensor)
  readonly constraint: Constraint
  /** The map from the stored variable onto `constraint` (`transformTo(constraint, transform)`); absent: the constraint's default. */
  readonly transform?: TransformName
}

/** Something with learnable variables that maps tensors to tensors (a tfjs-layers model, or your own). */
export interface Network<I = tf.Tensor, O = tf.Tensor> {
  /** The forward pass. */
  readonly apply: (input: I) => O
  /** Its trainable variables. */
  readonly variables: readonly tf.Variable[]
}

/** `module(name, network)`: registers a network's variables under `name`. */
export interface ModuleMsg<N extends string = string, I = tf.Tensor, O = tf.Tensor> {
  readonly _tag: 'Module'
  readonly name: N
  readonly network: Network<I, O>
}

/** `factor(name, logWeight)`: adds `logWeight` to the log joint (auxiliary losses, regularisers). */
export interface FactorMsg<N extends string = string> extends SiteContext {
  readonly _tag: 'Factor'
  readonly name: N
  readonly logWeight: tf.Tensor
}

/**
 * `deterministic(name, value)`: records a value in the trace; no density. `value` is the program's own
 * value or a handler's answer (`replay` gives the replayed trace's); `compute`, from
 * `deterministic(name, () => …)`, makes it when no handler gave one.
 */
export interface DeterministicMsg<N extends string = string, T extends tf.Tensor = tf.Tensor> extends Answer<T> {
  readonly _tag: 'Deterministic'
  readonly name: N
  readonly compute?: () => T
}

/** Entering a plate; the interpreter answers with the subsample indices (int32, length subsampleSize). */
export interface PlateEnterMsg<N extends string = string> extends Answer<tf.Tensor> {
  readonly _tag: 'PlateEnter'
  readonly seed?: number
  readonly frame: PlateFrame & { readonly name: N }
}

/** Leaving a plate. */
export interface PlateExitMsg {
  readonly _tag: 'PlateExit'
  readonly name: string
}

/** Entering a scope whose sample and factor sites are scaled by `factor` (β-VAE, KL warm-up). */
export interface ScaleEnterMsg {
  readonly _tag: 'ScaleEnter'
  readonly factor: number | tf.Tensor
}

/** Leaving a scaled scope. */
export interface ScaleExitMsg {
  readonly _tag: 'ScaleExit'
}

/**
 * Entering a markov scope (see `markov`): enumeration recycles the dims of the scope's variables
 * `history` steps after they were made (never, with `keep`). 'scan' opens a chain whose steps are
 * marked by {@link MarkovStepMsg}; 'context' is one step of the chain of nested context scopes.
 */
export interface MarkovEnterMsg {
  readonly _tag: 'MarkovEnter'
  readonly history: number
  readonly keep: boolean
  readonly form: 'scan' | 'context'
}

/** The start of step `step` of the innermost scan chain. */
export interface MarkovStepMsg {
  readonly _tag: 'MarkovStep'
  readonly step: number
}

/** Leaving the innermost markov scope. */
export interface MarkovExitMsg {
  readonly _tag: 'MarkovExit'
}

/** Every effect a program can yield. */
export type Message =
  | SampleMsg
  | ParamMsg
  | ModuleMsg<string, never, unknown>
  | FactorMsg
  | DeterministicMsg
  | PlateEnterMsg
  | PlateExitMsg
  | ScaleEnterMsg
  | ScaleExitMsg
  | MarkovEnterMsg
  | MarkovStepMsg
  | MarkovExitMsg
