/**
 * The contract between estimators (ELBO, IWAE) and `svi`: an estimator is a
 * pure function from a model, a guide, their arguments and a context (seed,
 * param handlers, baselines) to tensors; `svi` differentiates and owns memory.
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { Message } from '../dsl/messages.js'
import type { Program } from '../dsl/program.js'
import type { Handler } from './interpreter.js'
import type { BaselineSeen } from './score-function.js'
import type { Warn } from './warnings.js'

/** A model or guide: arguments in, program out. */
export type ProgramFn<Args extends readonly unknown[], M extends Message = Message, A = unknown> = (...args: Args) => Program<M, A>

/** What an estimator is run with. */
export interface LossContext {
  /** Seeds every draw of this estimate. */
  readonly seed: number
  /** Handlers applied (innermost) to both model and guide, e.g. the param store. */
  readonly handlers: readonly Handler[]
  /** The decaying-average baselines of score-function sites, by site name (absent: none yet). */
  readonly baselines: ReadonlyMap<string, number>
  /** Where the estimator reports what runs but looks wrong (svi's warnings channel); none: not checked. */
  readonly warn?: Warn
}

/** One estimate. */
export interface LossEstimate {
  /** The objective to maximise; its gradient is the estimator's gradient (score-function terms included). */
  readonly surrogate: tf.Scalar
  /** The bound's value (ELBO or IWAE), summed over data points. */
  readonly bound: tf.Scalar
  /** What each decaying-average baseline saw this step (`svi` folds it into the average). */
  readonly baselines: readonly BaselineSeen[]
  /** Data points the bound covers when a subsampled plate says so (its size); otherwise undefined. */
  readonly dataSize: number | undefined
}

/** An estimator of a variational bound. */
export interface Loss {
  readonly _tag: 'Loss'
  readonly name: string
  readonly estimate: <Args extends readonly unknown[]>(model: ProgramFn<Args>, guide: ProgramFn<Args>, args: Args, ctx: LossContext) => LossEstimate
}
