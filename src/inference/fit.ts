/**
 * `fit`: epochs of minibatch SVI steps over a dataset, with shuffling,
 * validation, callbacks, early stopping and a typed history. It drives any
 * {@link Trainer} (`svi` passes itself); checkpointing (`fit-checkpoint.ts`,
 * which writes files with Node's modules) is imported only when asked for.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, showShape } from '../errors.js'
import type { Message } from '../dsl/messages.js'
import type { ProgramFn } from './loss.js'
import { checkFitData, checkFitOptions } from './fit-checks.js'
import type { BatchProgram, EpochRecord, FitData, FitOptions, History, Trainer } from './fit-types.js'

export type { EpochRecord, FitData, FitOptions, History, Trainer } from './fit-types.js'

const asTuple = (data: tf.Tensor | readonly tf.Tensor[]): readonly tf.Tensor[] => data instanceof tf.Tensor ? [data] : data

/** Checks tensor data: non-empty, all arguments with the same leading dim. */
const checkTensors = (where: string, xs: readonly tf.Tensor[]): number => {
  if (xs.length === 0 || xs.some((x) => !(x instanceof tf.Tensor) || x.rank === 0)) {
    throw new InvalidArgumentError(`${where}: expected tensors with a leading data dim; got ${xs.map((x) => x instanceof tf.Tensor ? showShape(x.shape) : typeof x).join(', ') || 'nothing'}`)
  }
  const n = xs[0]!.shape[0]!
  xs.forEach((x, i) => {
    if (x.shape[0] !== n) throw new InvalidArgumentError(`${where}: argument ${i} has ${x.shape[0]} data points but argument 0 has ${n} (shapes ${xs.map((y) => showShape(y.shape)).join(', ')})`)
  })
  if (n === 0) throw new InvalidArgumentError(`${where}: the dataset is empty`)
  return n
}

/** A seeded permutation (mulberry32 + Fisher–Yates). */
const permutation = (n: number, seed: number): Int32Array => {
  let a = seed >>> 0
  const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t ^= t + Math.imul(t ^ (t >>> 7), 61 | t); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
  const p = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [p[i], p[j]] = [p[j]!, p[i]!] }
  return p
}

/** Batches of tensor data for one epoch; each batch's tensors are the caller's to dispose. */
async function* tensorBatches(xs: readonly tf.Tensor[], batchSize: number, order: Int32Array | undefined): AsyncGenerator<tf.Tensor[]> {
  const n = xs[0]!.shape[0]!
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start)
    yield order === undefined
      ? xs.map((x) => tf.slice(x, start, size))
      : tf.tidy(() => { const idx = tf.tensor1d(order.subarray(start, start + size), 'int32'); return xs.map((x) => tf.gather(x, idx)) })
  }
}

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

/** The checkpointing of a run, if it asked for it: its half of `fit` (which writes files with Node's modules) is loaded only then. */
const checkpointing = async (opts: FitOptions) =>
  opts.checkpoint === undefined ? undefined : { dir: opts.checkpoint.dir, every: opts.checkpoint.every ?? 1, io: await import('./fit-checkpoint.js') }

/**
 * The training loop behind `svi(...).fit`: `s` is the trainer (svi passes itself).
 *
 * @example await svi({ optimizer, loss: elbo() }).fit(model, guide, x, { epochs: 5, batchSize: 64 })
 */
export const fitLoop = async <Args extends readonly tf.Tensor[]>(s: Trainer, model: ProgramFn<Args, Message>, guide: ProgramFn<Args, Message>, data: FitData<Args>, opts: FitOptions): Promise<History> => {
  checkFitOptions(opts)
  const epochs = opts.epochs ?? 1
  const iterable = Symbol.asyncIterator in (data as object) ? data as AsyncIterable<Readonly<Args>> : undefined
  const xs = iterable === undefined ? asTuple(data as tf.Tensor | readonly tf.Tensor[]) : []
  const n = iterable === undefined ? checkTensors('fit: data', xs) : Infinity
  const batchSize = opts.batchSize ?? Math.min(128, n)
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > n) {
    throw new InvalidArgumentError(`fit: batchSize must be an integer between 1 and the number of data points (${n}); got ${batchSize}`)
  }
  const valXs = opts.validation === undefined ? undefined : asTuple(opts.validation)
  if (valXs !== undefined) checkTensors('fit: validation', valXs)
  checkFitData(xs, valXs, iterable === undefined)
  const ckpt = await checkpointing(opts)
  if (ckpt !== undefined) await ckpt.io.checkCheckpointDir(ckpt.dir)
  const m = model as unknown as BatchProgram, g = guide as unknown as BatchProgram
  const init = () => {
    if (xs.length === 0) throw new InvalidArgumentError('fit: resume needs tensor data (the first batch creates the params before the checkpoint is loaded)')
    const batch = xs.map((x) => tf.slice(x, 0, batchSize))
    try { s.init(m, g, ...batch) } finally { tf.dispose(batch) }
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
    const order = opts.shuffle === false || iterable !== undefined ? undefined : permutation(n, ((opts.seed ?? 0) * 7919 + epoch) >>> 0)
    const batches = iterable ?? tensorBatches(xs, batchSize, order)
    const train = await meanOver(batches, async (b) => {
      const loss = s.step(m, g, ...b)
      opts.onStep?.({ step: s.state.step, loss, batch: b })
      await new Promise<void>((r) => setImmediate(r))   // let Ctrl-C and timers run between steps
      return loss
    }, iterable === undefined, aborted)
    // Stopped before the epoch's last batch (iterables: every stop counts, their length is unknown).
    if (train.stopped && (iterable !== undefined || train.batches < Math.ceil(n / batchSize))) {
      if (ckpt !== undefined) await ckpt.io.saveEpoch(s, ckpt.dir, epoch - 1, records)
      return { epochs: records, steps: s.state.step, stoppedEarly: true, aborted: true }
    }
    const trainLoss = train.mean
    const validationLoss = valXs === undefined ? undefined : (await meanOver(tensorBatches(valXs, batchSize, undefined), (b) => s.evaluate(m, g, ...b), true)).mean
    const record: EpochRecord = { epoch, trainLoss, validationLoss, seconds: (performance.now() - t0) / 1000 }
    records.push(record)
    if (ckpt !== undefined && (epoch - first) % ckpt.every === 0) await ckpt.io.saveEpoch(s, ckpt.dir, epoch, records)
    if (opts.progress !== false) process.stderr.write(`epoch ${epoch}/${first + epochs}  loss ${trainLoss.toFixed(4)}${validationLoss === undefined ? '' : `  validation ${validationLoss.toFixed(4)}`}  ${record.seconds.toFixed(1)}s\n`)
    if ((await opts.onEpochEnd?.(record)) === 'stop' || aborted()) stoppedEarly = true
    if (es !== undefined) {
      const monitored = es.monitor === 'validation' ? validationLoss ?? trainLoss : trainLoss
      if (improved(best, monitored, es.minDelta ?? 0)) { best = monitored; sinceBest = 0 } else if (++sinceBest >= es.patience) stoppedEarly = true
    }
  }
  return { epochs: records, steps: s.state.step, stoppedEarly: stoppedEarly || aborted(), aborted: aborted() }
}
