/**
 * What `fit` takes and returns (data, options, history), and the narrow
 * {@link Trainer} it drives. Types only: `fit.ts`, its checks and its
 * checkpointing all read them from here, so none of them imports another
 * for a type.
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { Message } from '../dsl/messages.js'
import type { CheckpointState, CheckpointStore } from './checkpoint-codec.js'
import type { ProgramFn } from './loss.js'

/**
 * A dataset: one tensor, a tuple of tensors sharing their leading dim, or an
 * async iterable of batches (the caller owns those tensors; for several epochs
 * it must be re-iterable, i.e. start afresh on each `[Symbol.asyncIterator]()`).
 *
 * @example const data: FitData<[tf.Tensor2D, tf.Tensor2D]> = [x, labels]
 */
export type FitData<Args extends readonly tf.Tensor[]> = Args | (Args extends readonly [tf.Tensor] ? tf.Tensor : never) | AsyncIterable<Readonly<Args>>

/**
 * One epoch of the history; losses are −bound per data point.
 *
 * @example history.epochs.map((r: EpochRecord) => r.trainLoss)
 */
export interface EpochRecord {
  readonly epoch: number
  readonly trainLoss: number
  readonly validationLoss: number | undefined
  readonly seconds: number
}

/**
 * What `fit` returns.
 *
 * @example const { epochs, steps, stoppedEarly }: History = await s.fit(model, guide, x)
 */
export interface History {
  readonly epochs: readonly EpochRecord[]
  readonly steps: number
  readonly stoppedEarly: boolean
  /** Stopped by `signal` (a partial epoch is not in `epochs`). */
  readonly aborted: boolean
}

/**
 * Options of `fit`.
 *
 * @example const opts: FitOptions = { epochs: 10, batchSize: 128, checkpoint: { dir: 'runs/vae' }, resume: true }
 */
export interface FitOptions {
  readonly epochs?: number
  readonly batchSize?: number
  /** Reshuffle every epoch (tensor data; default true). */
  readonly shuffle?: boolean
  /** Seeds the shuffling (default 0). */
  readonly seed?: number
  /** Validation data: its loss is recorded each epoch. */
  readonly validation?: tf.Tensor | readonly tf.Tensor[]
  /** After each step; `batch` (the step's arguments) is valid only during the call. */
  readonly onStep?: (info: { readonly step: number; readonly loss: number; readonly batch: readonly tf.Tensor[] }) => void
  /** Before each epoch (1-based epoch number): schedules such as KL warm-up. */
  readonly onEpochStart?: (epoch: number) => void | Promise<void>
  /** Called after each epoch; return 'stop' to end training. */
  readonly onEpochEnd?: (record: EpochRecord) => void | 'stop' | Promise<void | 'stop'>
  /** Stop when the monitored loss has not improved by `minDelta` for `patience` epochs. */
  readonly earlyStopping?: { readonly patience: number; readonly minDelta?: number; readonly monitor?: 'train' | 'validation' }
  /** Print one line per epoch to stderr (default true). */
  readonly progress?: boolean
  /** Epochs already done (numbering and shuffling continue from here; default 0). */
  readonly initialEpoch?: number
  /** Save params, optimizer and SVI state to `dir` every `every` epochs (default 1), atomically (Node only: it writes files). */
  readonly checkpoint?: { readonly dir: string; readonly every?: number }
  /** Continue from the checkpoint in `checkpoint.dir` when there is one (tensor data only). */
  readonly resume?: boolean
  /**
   * Stop after the current step once aborted (Ctrl-C). The partial epoch is not recorded; with
   * `checkpoint`, the params as they are now are saved under the last complete epoch, so `resume`
   * repeats the interrupted epoch from its first batch, starting from these params.
   */
  readonly signal?: AbortSignal
}

/** A model or guide over one batch of tensors, as `fit` calls it. @example const m = model as unknown as BatchProgram */
export type BatchProgram = ProgramFn<readonly tf.Tensor[], Message>

/** Runs a model/guide pair on one batch (its tensors spread after the pair). */
type OnBatch<R> = (model: BatchProgram, guide: BatchProgram, ...batch: tf.Tensor[]) => R

/**
 * What the training loop drives: the steps, and what a checkpoint saves and restores.
 * `svi(...)` is one (it passes itself to the loop).
 *
 * @example const t: Trainer = svi({ optimizer: tf.train.adam(1e-3), loss: elbo() })
 */
export interface Trainer {
  /** Creates every param from one batch, without an update (before resuming). */
  readonly init: OnBatch<void>
  /** One gradient step; returns the loss. */
  readonly step: OnBatch<number>
  /** The loss without an update (validation). */
  readonly evaluate: OnBatch<Promise<number>>
  /** The step counter (read after each step) and baselines; saved with each checkpoint. */
  readonly state: Readonly<CheckpointState>
  /** Restores the counters of a checkpoint. */
  readonly restore: (state: CheckpointState) => void
  /** The params and modules a checkpoint saves and restores. */
  readonly params: CheckpointStore
  /** Its state is saved and restored with the params. */
  readonly optimizer: tf.Optimizer
}
