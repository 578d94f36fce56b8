/**
 * `tfppl train`: fits a model with SVI (ELBO, Adam 1e-3) on a data set,
 * checkpointing after every epoch, writing metrics.json as it goes, and the
 * pictures and report.html at the end. Ctrl-C stops at the next epoch
 * boundary (checkpoint and metrics saved, exit 130); `--resume` continues.
 */
import * as tf from '@tensorflow/tfjs-core'
import { backendInfo } from '../backend/init.js'
import type { EpochRecord, FitOptions } from '../inference/fit-types.js'
import type { ModelKind } from '../models/image-model.js'
import type { CliIO } from './io.js'
import type { TrainFlags } from './codecs.js'
import { loadData, programArgs } from './data.js'
import type { Splits } from './data.js'
import { EXIT, UsageError } from './errors.js'
import { listenForInterrupt } from './interrupt.js'
import { writeReport } from './pictures.js'
import { progress } from './progress.js'
import type { Progress } from './progress.js'
import { MetricsCodec, RunConfigCodec, checkpointEpochs, runPaths, writeJson } from './run-files.js'
import type { EpochMetricsRecord, Metrics, RunConfig } from './run-files.js'
import { createSession, entryOrThrow, restoreParams } from './session.js'
import type { Session } from './session.js'
import { createRunDir, removeCreated } from './run-dir.js'
import { TRAIN_DEFAULTS, planTraining } from './train-config.js'
import { trainStreams } from './semi-supervised.js'
import type { TrainStreams } from './semi-supervised.js'
import type { TrainPlan } from './train-config.js'

/**
 * The batch size for `size` training images: the planned one, or the whole set when the default
 * is larger than it (with a note saying so); a larger `--batch-size` given by hand is a UsageError.
 */
const fitBatchSize = (plan: TrainPlan, size: number): { readonly batchSize: number; readonly note?: string } => {
  const b = plan.config.batchSize
  if (b <= size) return { batchSize: b }
  if (plan.defaultBatchSize) return { batchSize: size, note: `tfppl train: batch size ${size}, the whole training set (the default ${b} is more than its ${size} images)` }
  throw new UsageError(`tfppl train: --batch-size ${b} is larger than the ${size} training images; expected at most ${size} (or leave --batch-size out to use ${Math.min(size, TRAIN_DEFAULTS.batchSize)})`)
}

/** The full config once the data is known, and a note when the batch size had to shrink. */
const completeConfig = (plan: TrainPlan, data: Splits): { readonly config: RunConfig; readonly note?: string } => {
  const { batchSize, note } = fitBatchSize(plan, data.train.size)
  const [h, w, ch] = data.train.imageShape
  const config = { ...plan.config, batchSize, binarized: entryOrThrow(plan.config.model).binary, imageShape: [h, w, ch] as [number, number, number], numClasses: data.train.numClasses }
  return note === undefined ? { config } : { config, note }
}

const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null)

/** An epoch of fit's history as a metrics.json entry (ELBO = −loss). */
const toMetrics = (r: EpochRecord): EpochMetricsRecord =>
  ({ epoch: r.epoch, trainElbo: -r.trainLoss, testElbo: finite(r.validationLoss === undefined ? undefined : -r.validationLoss), seconds: r.seconds })

/** Everything one training run holds; `dispose` frees it all. */
interface Job {
  readonly plan: TrainPlan
  readonly config: RunConfig
  readonly data: Splits
  readonly session: Session
  readonly trainArgs: tf.Tensor[]
  readonly testArgs: tf.Tensor[]
  /** A semi-supervised model's labelled and unlabelled streams (it trains on these, not on trainArgs). */
  readonly streams?: TrainStreams
}

const disposeJob = (j: Job): void => {
  tf.dispose([...j.trainArgs, ...j.testArgs])
  j.streams?.dispose()
  j.session.dispose()
  j.data.train.dispose()
  j.data.test.dispose()
}

/** Creates the run directory (first: a bad --out fails before the data loads; removed again if the run is refused), loads the data, writes config.json, builds the model and the program arguments. */
const prepare = async (plan: TrainPlan, io: CliIO): Promise<Job> => {
  const created = await createRunDir(plan.out)
  let data: ReturnType<typeof loadData>
  try {
    data = loadData(plan.config.data)
  } catch (e) {
    await removeCreated(created)
    throw e
  }
  try {
    const { config, note } = completeConfig(plan, data)
    if (note !== undefined) io.stderr(`${note}\n`)
    await writeJson(RunConfigCodec, runPaths(plan.out).config, config)
    const session = createSession(config, Math.ceil(data.train.size / config.batchSize))
    const streams = session.entry.semiSupervised === undefined ? undefined : trainStreams(session.model, data.train, config, session.entry.binary)
    const trainArgs = streams === undefined ? programArgs(session.model, data.train, session.entry.binary) : []
    const testArgs = programArgs(session.model, data.test, session.entry.binary)
    for (const note of streams?.notes ?? []) io.stderr(`${note}\n`)
    return { plan, config, data, session, trainArgs, testArgs, ...(streams === undefined ? {} : { streams }) }
  } catch (e) {
    data.train.dispose(); data.test.dispose()
    await removeCreated(created)   // a refused run leaves no folder behind (one holding config.json stays)
    throw e
  }
}

/** Steps in one epoch (fit's batches: the last one may be short). */
const stepsPerEpoch = (j: Job): number => j.streams?.stepsPerEpoch ?? Math.ceil(j.data.train.size / j.config.batchSize)

/**
 * fit's callbacks: the model's schedules, the progress display, metrics.json after each epoch.
 * After an epoch's last step the schedules move to their end, so fit's pass over the test set
 * measures the ELBO itself (the ladder's β = 1), as `tfppl eval` does, not the β-weighted
 * objective of the KL warm-up; the next epoch's `beforeEpoch` resumes the schedule.
 */
const epochCallbacks = (j: Job, metrics: Metrics, bar: Progress, steps: { intoEpoch: number }, stopRequested: () => boolean): Pick<FitOptions, 'onEpochStart' | 'onStep' | 'onEpochEnd'> => {
  const { model, entry, svi } = j.session
  const perEpoch = stepsPerEpoch(j), warmup = entry.warmupEpochs ?? 0
  return {
    onEpochStart: (e) => { steps.intoEpoch = 0; model.beforeEpoch?.(e); bar.epochStart(e) },
    onStep: ({ loss, batch }) => {
      steps.intoEpoch += 1
      const kept = svi.takeKept()   // the step's values of the sites in model.keep
      try { model.afterStep?.(batch, kept) } finally { tf.dispose(Object.values(kept)) }
      if (steps.intoEpoch === perEpoch) entry.toScheduleEnd?.(model)
      bar.step(loss)
    },
    onEpochEnd: async (r) => {
      const m = toMetrics(r)
      metrics.epochs.push(m)
      await writeJson(MetricsCodec, runPaths(j.plan.out).metrics, metrics)
      bar.epochEnd({ ...m, warmup: m.epoch <= warmup })
      steps.intoEpoch = 0
      return stopRequested() ? 'stop' : undefined
    },
  }
}

/**
 * Runs `fit` for the remaining epochs; metrics.json is rewritten after each one. Returns undefined
 * when training ran to the end, else how many steps of an unfinished epoch were taken before Ctrl-C.
 */
const fitRemaining = async (j: Job, metrics: Metrics, bar: Progress, io: CliIO): Promise<number | undefined> => {
  const steps = { intoEpoch: 0 }
  const { model, svi } = j.session
  const done = metrics.epochs.at(-1)?.epoch ?? 0
  const abort = new AbortController()
  const stop = listenForInterrupt(() => {
    bar.note('tfppl: interrupted; stopping after this step with a checkpoint (Ctrl-C again to quit at once)')
    abort.abort()
  }, io.signal)
  try {
    // resume: a checkpoint may exist with no complete epoch (Ctrl-C during epoch 1).
    await svi.fit(model.model, model.guide, j.streams?.data ?? j.trainArgs, {
      epochs: j.config.epochs - done, batchSize: j.config.batchSize, seed: j.config.seed, validation: j.testArgs, progress: false,
      checkpoint: { dir: runPaths(j.plan.out).checkpoint }, resume: j.plan.previous !== undefined, signal: abort.signal,
      ...epochCallbacks(j, metrics, bar, steps, () => stop.requested()),
    })
    return stop.requested() ? steps.intoEpoch : undefined
  } finally {
    stop.dispose()
  }
}

/** Metrics to start from: this backend and accelerator, the epochs recorded in the checkpoint being resumed (else none). */
const startingMetrics = async (plan: TrainPlan): Promise<Metrics> => {
  const recorded = plan.previous === undefined ? undefined : await checkpointEpochs(plan.out)
  const info = backendInfo()
  return { backend: info.name, nativeAccelerator: info.nativeStatus, epochs: [...(recorded ?? [])] }
}

/** Where training runs, for the start line: `wasm, native accelerator: active (OpenBLAS 0.3.21, pthread build, 1 thread)`. */
const describeBackend = (m: Metrics): string => `${m.backend}, native accelerator: ${m.nativeAccelerator ?? 'unknown'}`

/** The line that starts `train`: what is trained on what data and where, or what is resumed. */
const startLine = (j: Job, metrics: Metrics, done: number): string => {
  const c = j.config
  if (done >= c.epochs) return `tfppl: ${j.plan.out} is already trained for ${done} epochs; redrawing the pictures (raise --epochs to train further)`
  if (j.plan.previous !== undefined) return `tfppl: resuming ${j.plan.out} after epoch ${done} of ${c.epochs} on ${describeBackend(metrics)}`
  const sizes = `${j.data.train.size} train / ${j.data.test.size} test images, batch ${c.batchSize}`
  return `tfppl: training ${c.model} on ${j.data.train.name} (${sizes}) for ${c.epochs} epoch${c.epochs === 1 ? '' : 's'} on ${describeBackend(metrics)}`
}

/** Trains, then writes the pictures and the report; the exit code. */
const runJob = async (j: Job, io: CliIO): Promise<number> => {
  const metrics = await startingMetrics(j.plan)
  const done = metrics.epochs.at(-1)?.epoch ?? 0
  const bar = progress({ write: io.stderr, tty: io.stderrIsTTY }, j.config.epochs, stepsPerEpoch(j))
  bar.note(startLine(j, metrics, done))
  if (done >= j.config.epochs) await restoreParams(j.session, j.plan.out)   // nothing to fit: the pictures need the trained params
  const partial = done < j.config.epochs ? await fitRemaining(j, metrics, bar, io) : undefined
  await writeJson(MetricsCodec, runPaths(j.plan.out).metrics, metrics)
  if (partial !== undefined) {
    const last = metrics.epochs.at(-1)?.epoch ?? done
    const next = last < j.config.epochs ? 'continue with --resume' : `training is complete; draw the pictures with tfppl report ${j.plan.out}`
    const where = partial > 0 ? `after ${partial} step${partial === 1 ? '' : 's'} of epoch ${last + 1} (--resume repeats that epoch from its start, with the weights saved now)` : `after epoch ${last}`
    io.stderr(`tfppl: stopped ${where}; checkpoint and metrics saved in ${j.plan.out} (${next})\n`)
    return EXIT.interrupted
  }
  const report = await writeReport(j.plan.out, j.session, j.data.test, metrics)
  io.stdout(`report: ${report}\n`)
  return EXIT.ok
}

/**
 * `tfppl train <model> [flags]`; resolves to the exit code.
 *
 * @example await train('vae', { epochs: 2, limit: 256, out: '/tmp/run' }, io)
 */
export const train = async (model: ModelKind, flags: TrainFlags, io: CliIO): Promise<number> => {
  const plan = await planTraining(model, flags)
  entryOrThrow(plan.config.model)
  const job = await prepare(plan, io)
  try {
    return await runJob(job, io)
  } finally {
    disposeJob(job)
  }
}
