/**
 * `tfppl train`: fits a model with SVI (ELBO, Adam 1e-3) on a data set,
 * checkpointing after every epoch, writing metrics.json as it goes, and the
 * pictures and report.html at the end. Ctrl-C stops at the next epoch
 * boundary (checkpoint and metrics saved, exit 130); `--resume` continues.
 */
import { promises as fs } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { backendInfo } from '../backend/init.js'
import type { EpochRecord } from '../inference/fit-types.js'
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
import { planTraining } from './train-config.js'
import type { TrainPlan } from './train-config.js'

/** The full config once the data is known; checks the batch size against the training set. */
const completeConfig = (plan: TrainPlan, data: Splits): RunConfig => {
  const c = plan.config
  if (c.batchSize > data.train.size) throw new UsageError(`tfppl train: --batch-size ${c.batchSize} is larger than the ${data.train.size} training images`)
  const [h, w, ch] = data.train.imageShape
  return { ...c, binarized: entryOrThrow(c.model).binary, imageShape: [h, w, ch], numClasses: data.train.numClasses }
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
}

const disposeJob = (j: Job): void => {
  tf.dispose([...j.trainArgs, ...j.testArgs])
  j.session.dispose()
  j.data.train.dispose()
  j.data.test.dispose()
}

/** Creates the run directory, or a UsageError naming `--out`, the OS error and what was expected. */
const makeRunDir = async (out: string): Promise<void> => {
  try {
    await fs.mkdir(out, { recursive: true })
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code
    throw new UsageError(`tfppl train: --out ${out}: cannot create the run directory (${typeof code === 'string' ? code : String(e)}); expected a directory path that can be created and written (no part of it may be a regular file)`)
  }
}

/** Loads the data, writes config.json, builds the model and the program arguments. */
const prepare = async (plan: TrainPlan): Promise<Job> => {
  const data = loadData(plan.config.data)
  try {
    const config = completeConfig(plan, data)
    await makeRunDir(plan.out)
    await writeJson(RunConfigCodec, runPaths(plan.out).config, config)
    const session = createSession(config, Math.ceil(data.train.size / config.batchSize))
    const trainArgs = programArgs(session.model, data.train, session.entry.binary)
    const testArgs = programArgs(session.model, data.test, session.entry.binary)
    return { plan, config, data, session, trainArgs, testArgs }
  } catch (e) {
    data.train.dispose(); data.test.dispose()
    throw e
  }
}

/**
 * Runs `fit` for the remaining epochs; metrics.json is rewritten after each one. Returns undefined
 * when training ran to the end, else how many steps of an unfinished epoch were taken before Ctrl-C.
 */
const fitRemaining = async (j: Job, metrics: Metrics, bar: Progress, io: CliIO): Promise<number | undefined> => {
  let stepsIntoEpoch = 0
  const { model, svi } = j.session
  const done = metrics.epochs.at(-1)?.epoch ?? 0
  const abort = new AbortController()
  const stop = listenForInterrupt(() => {
    bar.note('tfppl: interrupted; stopping after this step with a checkpoint (Ctrl-C again to quit at once)')
    abort.abort()
  }, io.signal)
  try {
    // resume: a checkpoint may exist with no complete epoch (Ctrl-C during epoch 1).
    await svi.fit(model.model, model.guide, j.trainArgs, {
      epochs: j.config.epochs - done, batchSize: j.config.batchSize, seed: j.config.seed, validation: j.testArgs, progress: false,
      checkpoint: { dir: runPaths(j.plan.out).checkpoint }, resume: j.plan.previous !== undefined, signal: abort.signal,
      onEpochStart: (e) => { model.beforeEpoch?.(e); bar.epochStart(e) },
      onStep: ({ loss, batch }) => { stepsIntoEpoch += 1; model.afterStep?.(batch); bar.step(loss) },
      onEpochEnd: async (r) => {
        const m = toMetrics(r)
        metrics.epochs.push(m)
        await writeJson(MetricsCodec, runPaths(j.plan.out).metrics, metrics)
        bar.epochEnd(m)
        stepsIntoEpoch = 0
        return stop.requested() ? 'stop' : undefined
      },
    })
    return stop.requested() ? stepsIntoEpoch : undefined
  } finally {
    stop.dispose()
  }
}

/** Metrics to start from: the epochs recorded in the checkpoint being resumed, else none. */
const startingMetrics = async (plan: TrainPlan): Promise<Metrics> => {
  const recorded = plan.previous === undefined ? undefined : await checkpointEpochs(plan.out)
  return { backend: backendInfo().name, epochs: [...(recorded ?? [])] }
}

/** Trains, then writes the pictures and the report; the exit code. */
const runJob = async (j: Job, io: CliIO): Promise<number> => {
  const metrics = await startingMetrics(j.plan)
  const done = metrics.epochs.at(-1)?.epoch ?? 0
  const stepsPerEpoch = Math.ceil(j.data.train.size / j.config.batchSize)
  const bar = progress({ write: io.stderr, tty: io.stderrIsTTY }, j.config.epochs, stepsPerEpoch)
  if (done >= j.config.epochs) bar.note(`tfppl: ${j.plan.out} is already trained for ${done} epochs; redrawing the pictures (raise --epochs to train further)`)
  else if (j.plan.previous !== undefined) bar.note(`tfppl: resuming ${j.plan.out} after epoch ${done} of ${j.config.epochs}`)
  else bar.note(`tfppl: training ${j.config.model} on ${j.data.train.name} (${j.data.train.size} train / ${j.data.test.size} test images) for ${j.config.epochs} epoch${j.config.epochs === 1 ? '' : 's'} on ${metrics.backend}`)
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
  const job = await prepare(plan)
  try {
    return await runJob(job, io)
  } finally {
    disposeJob(job)
  }
}
