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
 * A dataset: one tensor, a tuple of tensors sharing their leading dim, an
 * async iterable of batches (the caller owns those tensors; for several epochs
 * it must be re-iterable, i.e. start afresh on each `[Symbol.asyncIterator]()`),
 * or several tensor datasets fed in turn ({@link FitStreams}).
 *
 * @example const data: FitData<[tf.Tensor2D, tf.Tensor2D]> = [x, labels]
 */
export type FitData<Args extends readonly tf.Tensor[]> = Args | (Args extends readonly [tf.Tensor] ? tf.Tensor : never) | AsyncIterable<Readonly<Args>> | FitStreams<Args>

/**
 * How {@link FitStreams} interleaves its streams' batches within an epoch.
 * - `'spread'` (default; Pyro's `ss_vae_M2` protocol): every stream's batches once per epoch, each
 *   stream's m batches evenly spread over the epoch (batch j of a stream at time (j + ½)/m; ties go
 *   to the earlier stream). 1,000 labelled and 49,000 unlabelled images in batches of 200: 5
 *   labelled batches among 245 unlabelled ones, one every 50 steps.
 * - `'alternate'`: one batch of each stream in turn (s₀, s₁, s₀, s₁, …) until the longest stream
 *   has been seen once; a shorter stream starts over (reshuffled) when it runs out. Steps per
 *   epoch = streams × the longest stream's batches.
 *
 * @example const schedule: StreamSchedule = 'alternate'
 */
export type StreamSchedule = 'spread' | 'alternate'

/**
 * One dataset of {@link FitStreams}: tensors sharing their leading dim, and its own batch size.
 *
 * @example const labelled: FitStream<[tf.Tensor, tf.Tensor?]> = { data: [xl, yl], batchSize: 100 }
 */
export interface FitStream<Args extends readonly tf.Tensor[]> {
  /** The stream's tensors; each step passes one batch of them to the model and guide, e.g. `model(x, y)` or `model(x)`. */
  readonly data: Args
  /** Data points per batch (default: fit's `batchSize`, else min(128, this stream's size)). */
  readonly batchSize?: number
}

/**
 * Several datasets fed to one model/guide pair, one batch per step (Kingma et al.'s semi-supervised
 * training: a labelled stream `[x, y]` and an unlabelled stream `[x]` for programs over `(x, y?)`).
 * Each step is an ordinary `svi.step` on one stream's batch; the epoch's loss is the mean over all its
 * data points. Each stream is shuffled on its own every pass (unless `shuffle: false`).
 *
 * @example
 * await s.fit(m.model, m.guide, { streams: [{ data: [xl, yl] }, { data: [xu] }], schedule: 'spread' }, { epochs: 50, batchSize: 200 })
 */
export interface FitStreams<Args extends readonly tf.Tensor[]> {
  readonly streams: readonly FitStream<Args>[]
  /** Default 'spread'. */
  readonly schedule?: StreamSchedule
}

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
  /** Save params, optimizer and SVI state every `every` epochs (default 1), all or nothing: in Node to the folder `dir`, in a browser to IndexedDB under the key `dir`. */
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
  /** `init` without synchronous reads (GPU backends); `fit` prefers it when given. */
  readonly initAsync?: OnBatch<Promise<void>>
  /** One gradient step; returns the loss. */
  readonly step: OnBatch<number>
  /** One gradient step without synchronous reads (GPU backends); `fit` prefers it when given. */
  readonly stepAsync?: OnBatch<Promise<number>>
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

/**
 * How `fit` saves and resumes a run that asked for `checkpoint` (in Node: files, `fit-checkpoint.ts`).
 * The host provides it (`platform().fitCheckpoints`); where none is installed, such a run is refused.
 *
 * @example const io: FitCheckpointIo = await import('./fit-checkpoint.js')
 */
export interface FitCheckpointIo {
  /** Fails at once when checkpoints cannot be saved to `dir`. */
  readonly checkCheckpointDir: (dir: string) => Promise<void>
  /** Loads the checkpoint in `dir` into the trainer, if there is one (`init` first creates the params). */
  readonly resumeFrom: (s: Trainer, dir: string, init: () => Promise<void>) => Promise<{ epoch: number; records: EpochRecord[] } | undefined>
  /** Saves the run after `epoch`, atomically. */
  readonly saveEpoch: (s: Trainer, dir: string, epoch: number, records: readonly EpochRecord[]) => Promise<void>
}
