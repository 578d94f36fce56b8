/**
 * `fit`: epochs of minibatch SVI steps over a dataset (or several interleaved
 * streams; the batching is `fit-batches.ts`), with shuffling, validation,
 * callbacks, early stopping and a typed history. It drives any {@link Trainer}
 * (`svi` passes itself). What depends on the host comes from `platform()`:
 * yielding to the event loop between steps, the progress line, and
 * checkpointing (in Node `fit-checkpoint.ts`, files; loaded only when asked for).
 */
import * as tf from '@tensorflow/tfjs-core'
import { platform } from '../platform.js'
import { CheckpointError } from './checkpoint-manifest.js'
import type { Message } from '../dsl/messages.js'
import type { ProgramFn } from './loss.js'
import { checkFitOptions } from './fit-checks.js'
import { checkTensors, epochSource, tensorBatches } from './fit-batches.js'
import type { BatchProgram, EpochRecord, FitData, FitOptions, History, Trainer } from './fit-types.js'

export type { EpochRecord, FitData, FitOptions, History, Trainer } from './fit-types.js'

const asTuple = (data: tf.Tensor | readonly tf.Tensor[]): readonly tf.Tensor[] => data instanceof tf.Tensor ? [data] : data

/**
 * Mean loss over batches, weighted by their sizes (batches are disposed). After each batch
 * `stop()` is asked; `stopped` says whether it ended the pass.
 */
const meanOver = async (batches: AsyncIterable<readonly tf.Tensor[]>, each: (b: readonly tf.Tensor[]) => number | Promise<number>, dispose: boolean, stop: () => boolean = () => false) => {
  let total = 0, count = 0, batchCount = 0
  for await (const b of batches) {
    const size = b[0]?.shape[0] ?? 1
    try {
      total += (await each(b)) * size
    } finally {
      if (dispose) tf.dispose([...b])   // also when the step throws (a NonFiniteError): the batch is ours
    }
    count += size
    batchCount += 1
    if (stop()) return { mean: total / Math.max(count, 1), stopped: true, batches: batchCount }
  }
  return { mean: total / Math.max(count, 1), stopped: false, batches: batchCount }
}

const improved = (best: number, loss: number, minDelta: number) => loss < best - minDelta

/** The checkpointing of a run, if it asked for it: the platform's (in Node: files), loaded only then. */
const checkpointing = async (opts: FitOptions) => {
  if (opts.checkpoint === undefined) return undefined
  const load = platform().fitCheckpoints
  if (load === undefined) {
    throw new CheckpointError(`fit: checkpoint.dir '${opts.checkpoint.dir}' asks for checkpoints, which this host cannot store: tfppl saves them as files, through its Node entry ('tfppl' in Node, or 'tfppl/node'); leave out \`checkpoint\` here`, opts.checkpoint.dir)
  }
  return { dir: opts.checkpoint.dir, every: opts.checkpoint.every ?? 1, io: await load() }
}

/**
 * The training loop behind `svi(...).fit`: `s` is the trainer (svi passes itself).
 *
 * @example await svi({ optimizer, loss: elbo() }).fit(model, guide, x, { epochs: 5, batchSize: 64 })
 */
export const fitLoop = async <Args extends readonly tf.Tensor[]>(s: Trainer, model: ProgramFn<Args, Message>, guide: ProgramFn<Args, Message>, data: FitData<Args>, opts: FitOptions): Promise<History> => {
  checkFitOptions(opts)
  const epochs = opts.epochs ?? 1
  const src = epochSource(data as FitData<readonly tf.Tensor[]>, opts)
  const valXs = opts.validation === undefined ? undefined : asTuple(opts.validation)
  if (valXs !== undefined) checkTensors('fit: validation', valXs)
  await src.check(valXs)
  const ckpt = await checkpointing(opts)
  if (ckpt !== undefined) await ckpt.io.checkCheckpointDir(ckpt.dir)
  const m = model as unknown as BatchProgram, g = guide as unknown as BatchProgram
  // Before a resume: every dataset's first batch creates the params the checkpoint is loaded into.
  const init = async (): Promise<void> => {
    const batches = src.firstBatches()
    try {
      for (const b of batches) await (s.initAsync === undefined ? s.init(m, g, ...b) : s.initAsync(m, g, ...b))
    } finally { tf.dispose(batches.flat()) }
  }
  const resumed = opts.resume === true && ckpt !== undefined ? await ckpt.io.resumeFrom(s, ckpt.dir, init) : undefined
  const records: EpochRecord[] = [...(resumed?.records ?? [])]
  const first = resumed?.epoch ?? opts.initialEpoch ?? 0
  const es = opts.earlyStopping
  let best = Infinity, sinceBest = 0, stoppedEarly = false
  const aborted = (): boolean => opts.signal?.aborted === true
  // The signal is read after every step: an aborted signal still lets one step run.
  for (let epoch = first + 1; epoch <= first + epochs && !stoppedEarly; epoch++) {
    await opts.onEpochStart?.(epoch)
    const t0 = performance.now()
    const train = await meanOver(src.batches(epoch), async (b) => {
      const loss = s.stepAsync !== undefined ? await s.stepAsync(m, g, ...b) : s.step(m, g, ...b)
      opts.onStep?.({ step: s.state.step, loss, batch: b })
      await platform().yieldToHost()   // let Ctrl-C, timers and a page's events run between steps
      return loss
    }, src.owned, aborted)
    // Stopped before the epoch's last batch (iterables: every stop counts, their length is unknown).
    if (train.stopped && (src.perEpoch === undefined || train.batches < src.perEpoch)) {
      if (ckpt !== undefined) await ckpt.io.saveEpoch(s, ckpt.dir, epoch - 1, records)
      return { epochs: records, steps: s.state.step, stoppedEarly: true, aborted: true }
    }
    const trainLoss = train.mean
    const validationLoss = valXs === undefined ? undefined : (await meanOver(tensorBatches(valXs, src.batchSize, undefined), (b) => s.evaluate(m, g, ...b), true)).mean
    const record: EpochRecord = { epoch, trainLoss, validationLoss, seconds: (performance.now() - t0) / 1000 }
    records.push(record)
    if (ckpt !== undefined && (epoch - first) % ckpt.every === 0) await ckpt.io.saveEpoch(s, ckpt.dir, epoch, records)
    if (opts.progress !== false) platform().progress(`epoch ${epoch}/${first + epochs}  loss ${trainLoss.toFixed(4)}${validationLoss === undefined ? '' : `  validation ${validationLoss.toFixed(4)}`}  ${record.seconds.toFixed(1)}s`)
    if ((await opts.onEpochEnd?.(record)) === 'stop' || aborted()) stoppedEarly = true
    if (es !== undefined) {
      const monitored = es.monitor === 'validation' ? validationLoss ?? trainLoss : trainLoss
      if (improved(best, monitored, es.minDelta ?? 0)) { best = monitored; sinceBest = 0 } else if (++sinceBest >= es.patience) stoppedEarly = true
    }
  }
  return { epochs: records, steps: s.state.step, stoppedEarly: stoppedEarly || aborted(), aborted: aborted() }
}
