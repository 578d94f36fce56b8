/**
 * The effects a program can yield: `sample`, `observe`, `param`, `module`,
 * `factor`, `deterministic`, and `plate` / `sequentialPlate` (sub-program scopes).
 */
import type * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { transformNames } from '../distributions/biject.js'
import type { TransformName } from '../distributions/biject.js'
import * as constraints from '../distributions/constraints.js'
import type { Constraint } from '../distributions/constraints.js'
import type { Distribution, ValueOf } from '../distributions/distribution.js'
import type {
  DeterministicMsg, FactorMsg, Message, ModuleMsg, ParamMsg, PlateEnterMsg, PlateExitMsg, SampleMsg, SampleOptions, ScaleEnterMsg, ScaleExitMsg,
} from './messages.js'
import { AUTO_DIM } from './messages.js'
import { asNetwork } from './network.js'
import type { NetworkLike } from './network.js'
import { Effect, gen } from './program.js'
import type { Program } from './program.js'

const NO_CONTEXT = { scale: 1, mask: undefined, plates: [] } as const
const NO_OPTIONS: SampleOptions = {}

const checkName = (primitive: string, name: unknown): void => {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`${primitive}: the site name must be a non-empty string; got ${JSON.stringify(name)}`)
  }
}

const SAMPLE_OPTIONS: ReadonlySet<string> = new Set(['baseline', 'auxiliary', 'enumerate'])

/** A baseline option for an error message (a network or tensor is named, not serialised). */
const describeBaseline = (b: unknown): string =>
  typeof b === 'object' && b !== null ? `{ ${Object.entries(b).map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'object') : JSON.stringify(v)}`).join(', ')} }` : JSON.stringify(b)

/** Checks `sample`'s options: known keys, a boolean `auxiliary`, and a baseline of one of the three forms (beta in [0, 1)). */
const checkSampleOptions = (name: string, options: SampleOptions): void => {
  const unknown = Object.keys(options).filter((k) => !SAMPLE_OPTIONS.has(k))
  if (unknown.length > 0) throw new InvalidArgumentError(`sample '${name}': unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')}; the options are ${[...SAMPLE_OPTIONS].map((k) => `'${k}'`).join(', ')}`)
  const aux: unknown = options.auxiliary
  const enumerate: unknown = options.enumerate
  if (enumerate !== undefined && enumerate !== 'parallel' && enumerate !== 'sequential') throw new InvalidArgumentError(`sample '${name}': enumerate must be 'parallel' or 'sequential'; got ${JSON.stringify(enumerate)}`)
  if (aux !== undefined && typeof aux !== 'boolean') throw new InvalidArgumentError(`sample '${name}': auxiliary must be true or false; got ${JSON.stringify(aux)}`)
  const b: unknown = options.baseline
  if (b === undefined) return
  const ok = typeof b === 'object' && b !== null && (
    ('value' in b && (typeof b.value === 'number' ? Number.isFinite(b.value) : b.value instanceof Object)) ||
    ('useDecayingAverage' in b && b.useDecayingAverage === true && (!('beta' in b) || b.beta === undefined || (typeof b.beta === 'number' && b.beta >= 0 && b.beta < 1))) ||
    ('net' in b && typeof b.net === 'object' && b.net !== null && 'apply' in b.net && 'input' in b && b.input instanceof Object))
  if (!ok) throw new InvalidArgumentError(`sample '${name}': baseline must be { value: a finite number or a tensor }, { useDecayingAverage: true, beta?: a number in [0, 1) } or { net: a network, input: its input tensor }; got ${describeBaseline(b)}`)
}

/**
 * A latent random variable: the interpreter draws it (or replays, conditions…). The
 * options are per-site inference settings: a score-function baseline, or `auxiliary: true`
 * for a guide's own latent that the model does not have.
 *
 * @example
 * const z = yield* sample('z', normal(0, 1))
 * const k = yield* sample('k', categorical({ logits }), { baseline: { useDecayingAverage: true, beta: 0.95 } })
 * const u = yield* sample('u', multivariateNormal(loc, { scaleTril }), { auxiliary: true })   // in a guide
 * const y = yield* sample('y', categorical({ logits }), { enumerate: 'parallel' })   // all K values at once, under enumElbo
 */
export const sample = <N extends string, D extends Distribution, O extends SampleOptions = SampleOptions>(name: N, dist: D, options?: O): Effect<SampleMsg<N, ValueOf<D>, 'latent', O>, ValueOf<D>> => {
  checkName('sample', name)
  const opts = (options ?? NO_OPTIONS) as O
  checkSampleOptions(name, opts)
  return new Effect({ _tag: 'Sample', name, kind: 'latent', dist: dist as unknown as Distribution<ValueOf<D>>, obs: undefined, options: opts, ...NO_CONTEXT })
}

/**
 * An observed random variable: contributes log p(value) to the joint.
 *
 * @example yield* observe('x', bernoulli({ logits }).toEvent(1), x)
 */
export const observe = <N extends string, D extends Distribution>(name: N, dist: D, value: ValueOf<D>): Effect<SampleMsg<N, ValueOf<D>, 'observed'>, ValueOf<D>> => {
  checkName('observe', name)
  return new Effect({ _tag: 'Sample', name, kind: 'observed', dist: dist as unknown as Distribution<ValueOf<D>>, obs: value, options: NO_OPTIONS, ...NO_CONTEXT })
}

/** Options of {@link param}. */
export interface ParamOptions {
  /** The set the param lives in (default `constraints.real`). */
  readonly constraint?: Constraint
  /**
   * The map from the stored unconstrained variable onto `constraint` (see `transformTo`): for
   * `positive`, 'exp' (the default, as Pyro) or 'softplus' (tfppl's default before); for `simplex`,
   * 'softmax' (default) or 'stickBreaking'. It shapes the optimisation, not the model: the same
   * learning rate moves exp(u) and softplus(u) differently. Checkpoints record it.
   */
  readonly transform?: TransformName
}

/**
 * A learnable tensor, created from `init` on first use (a thunk is called only
 * then) and stored unconstrained, u = f⁻¹(init) with f = `transformTo(constraint, transform)`;
 * the program receives the constrained value f(u). A param already in the store keeps the
 * constraint and transform it was created (or loaded) with.
 *
 * @example
 * const scale = yield* param('scale', () => tf.ones([2]), { constraint: constraints.positive })   // exp(u)
 * const rate = yield* param('rate', () => tf.scalar(7), { constraint: constraints.positive, transform: 'softplus' })
 */
export const param = <N extends string>(name: N, init: tf.Tensor | (() => tf.Tensor), opts: ParamOptions = {}): Effect<ParamMsg<N>, tf.Tensor> => {
  checkName('param', name)
  const constraint = opts.constraint ?? constraints.real
  if (opts.transform !== undefined && !transformNames(constraint).includes(opts.transform)) {
    const names = transformNames(constraint)
    throw new InvalidArgumentError(`param '${name}': the transform ${JSON.stringify(opts.transform)} does not map onto the constraint '${constraint._tag}' (${constraint.describe}); ${names.length === 0 ? 'no transform does' : `choose ${names.map((k) => `'${k}'`).join(' or ')}`}`)
  }
  return new Effect({ _tag: 'Param', name, init, constraint, ...(opts.transform !== undefined && { transform: opts.transform }) })
}

/**
 * Registers a network's variables under `name` and returns its forward pass.
 *
 * @example const decode = yield* module('decoder', decoderNet)
 */
export const module = <N extends string, I = tf.Tensor, O = tf.Tensor>(name: N, network: NetworkLike<I, O>): Effect<ModuleMsg<N, I, O>, (input: I) => O> => {
  checkName('module', name)
  return new Effect({ _tag: 'Module', name, network: asNetwork(network) })
}

/**
 * Adds `logWeight` (any shape; summed) to the log joint.
 *
 * @example yield* factor('commitment', tf.neg(tf.mul(beta, commitmentLoss)))
 */
export const factor = <N extends string>(name: N, logWeight: tf.Tensor): Effect<FactorMsg<N>, void> => {
  checkName('factor', name)
  return new Effect({ _tag: 'Factor', name, logWeight, ...NO_CONTEXT })
}

/**
 * Records a deterministic function of other sites in the trace. Given a thunk, the site is
 * computed only when no handler answers it: under `replay` it gets the value the replayed trace has
 * at a deterministic site of the same name, so a model replayed on its guide's trace reads what the
 * guide computed (and computes it only when it runs without such a trace). A site given a value
 * keeps it under replay.
 *
 * @example
 * const mean = yield* deterministic('mean', tf.sigmoid(logits))
 * const ze = yield* deterministic('z_e', () => encode(x))   // in a model: the guide's 'z_e' when replayed on its trace
 */
export const deterministic = <N extends string, T extends tf.Tensor>(name: N, value: T | (() => T)): Effect<DeterministicMsg<N, T>, T> => {
  checkName('deterministic', name)
  return new Effect(typeof value === 'function' ? { _tag: 'Deterministic', name, compute: value } : { _tag: 'Deterministic', name, value })
}

/** Options of {@link plate}. */
export interface PlateOptions {
  /** Elements in this run; sites inside are scaled by size / subsampleSize. Default: size (or the length of `subsample`). */
  readonly subsampleSize?: number
  /** The elements of this run, as int32 indices (Pyro's `subsample`); default: a random subsample each run. */
  readonly subsample?: tf.Tensor
  /** The batch dim the plate indexes, counted from the right (−1 is the rightmost batch dim). Default: the rightmost dim no enclosing plate holds. */
  readonly dim?: number
}

/** The frame of a plate after its options are checked: sizes agree, a given subsample has the subsample's length. */
const plateFrame = (primitive: string, name: string, size: number, subsampleSize: number | undefined, subsampleLength: number | undefined): { name: string; size: number; subsampleSize: number } => {
  const n = subsampleSize ?? subsampleLength ?? size
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(n) || n < 1 || n > size) {
    throw new InvalidArgumentError(`${primitive} '${name}': size must be a positive integer and 1 ≤ subsampleSize ≤ size; got size ${size}, subsampleSize ${n}`)
  }
  if (subsampleLength !== undefined && subsampleLength !== n) {
    throw new InvalidArgumentError(`${primitive} '${name}': the subsample has ${subsampleLength} indices but subsampleSize is ${n}; give one of them, or both equal`)
  }
  return { name, size, subsampleSize: n }
}

/**
 * Conditional independence over `size` elements, vectorised: the plate owns a batch
 * dim (see {@link PlateOptions.dim}); every sample and factor site inside is broadcast
 * to the plate's size at that dim and scaled by size / subsampleSize. `body` gets the
 * subsample indices (int32).
 *
 * @example
 * yield* plate('data', N, { subsampleSize: 128 }, (idx) => gen(function* () {
 *   const z = yield* sample('z', normal(0, 1))            // shape [128]
 *   yield* observe('x', normal(z, 1), tf.gather(data, idx))
 * }))
 */
export const plate = <N extends string, M extends Message, A>(
  name: N, size: number, opts: PlateOptions, body: (indices: tf.Tensor) => Program<M, A>,
): Program<M | PlateEnterMsg<N> | PlateExitMsg, A> => {
  checkName('plate', name)
  if (opts.dim !== undefined && !(Number.isInteger(opts.dim) && opts.dim < 0)) throw new InvalidArgumentError(`plate '${name}': dim must be a negative integer (−1 is the rightmost batch dim); got ${opts.dim}`)
  if (opts.subsample !== undefined && opts.subsample.rank !== 1) throw new InvalidArgumentError(`plate '${name}': subsample must be a rank-1 tensor of indices; got shape [${opts.subsample.shape.join(', ')}]`)
  const frame = { ...plateFrame('plate', name, size, opts.subsampleSize, opts.subsample?.shape[0]), name, dim: opts.dim ?? AUTO_DIM }
  return gen(function* () {
    const indices = yield* new Effect<PlateEnterMsg<N>, tf.Tensor>({ _tag: 'PlateEnter', frame, ...(opts.subsample && { value: opts.subsample }) })
    const result = yield* body(indices)
    yield* new Effect<PlateExitMsg, void>({ _tag: 'PlateExit', name })
    return result
  })
}

/** Options of {@link sequentialPlate}. */
export interface SequentialPlateOptions {
  /** The elements to visit (default 0 … size − 1); sites inside are scaled by size / subsample.length. */
  readonly subsample?: readonly number[]
}

/**
 * Conditional independence over `size` elements, one at a time (Pyro's `for i in plate(...)`):
 * runs `body(i)` for each element i and returns the results. Iterations own no dim; each is
 * independent of the others, so a score-function site of one iteration does not see the costs
 * of another under `elbo({ downstream: true })`.
 *
 * @example
 * const zs = yield* sequentialPlate('groups', 3, {}, (i) => gen(function* () {
 *   return yield* sample(`z_${i}`, normal(0, 1))
 * }))
 */
export const sequentialPlate = <N extends string, M extends Message, A>(
  name: N, size: number, opts: SequentialPlateOptions, body: (index: number) => Program<M, A>,
): Program<M | PlateEnterMsg<N> | PlateExitMsg, A[]> => {
  checkName('sequentialPlate', name)
  const elements = opts.subsample ?? Array.from({ length: size }, (_, i) => i)
  const frame = plateFrame('sequentialPlate', name, size, undefined, elements.length)
  const bad = elements.find((i) => !Number.isInteger(i) || i < 0 || i >= size)
  if (bad !== undefined) throw new InvalidArgumentError(`sequentialPlate '${name}': subsample index ${bad} is not an integer in [0, ${size})`)
  return gen(function* () {
    const results: A[] = []
    for (const i of elements) {
      yield* new Effect<PlateEnterMsg<N>, unknown>({ _tag: 'PlateEnter', frame: { ...frame, name, dim: AUTO_DIM, iteration: i } })
      results.push(yield* body(i))
      yield* new Effect<PlateExitMsg, void>({ _tag: 'PlateExit', name })
    }
    return results
  })
}

/**
 * Runs `body` with the log-density of every sample and factor site inside
 * multiplied by `factor` — in the model and the guide alike, as Pyro's
 * `poutine.scale`: β-VAE (β on the latent), KL warm-up (β rising from 0 to 1).
 *
 * @example
 * const z = yield* scaled(beta, () => gen(function* () { return yield* sample('z', prior) }))
 */
export const scaled = <M extends Message, A>(factor: number | tf.Tensor, body: () => Program<M, A>): Program<M | ScaleEnterMsg | ScaleExitMsg, A> => {
  if (typeof factor === 'number' && !(factor >= 0 && Number.isFinite(factor))) {
    throw new InvalidArgumentError(`scaled: the factor must be a finite number ≥ 0 or a tensor; got ${factor}`)
  }
  return gen(function* () {
    yield* new Effect<ScaleEnterMsg, void>({ _tag: 'ScaleEnter', factor })
    const result = yield* body()
    yield* new Effect<ScaleExitMsg, void>({ _tag: 'ScaleExit' })
    return result
  })
}
