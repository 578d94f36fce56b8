/**
 * The batches `fit` feeds its steps, whatever form the data takes: one tensor
 * dataset cut into (shuffled) batches, an async iterable passed through, or
 * several tensor datasets ({@link FitStreams}) interleaved by a schedule — how a
 * semi-supervised model sees a labelled and an unlabelled stream.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, showShape } from '../errors.js'
import { checkFinite, checkFitData, checkValidationFits } from './fit-checks.js'
import type { FitData, FitOptions, FitStreams, StreamSchedule } from './fit-types.js'

// ---------------------------------------------------------------------------
// model

/** What `fit` iterates each epoch, and what it checks and initialises from. */
export interface EpochSource {
  /** The batches of one epoch (1-based; seeds the shuffling). */
  readonly batches: (epoch: number) => AsyncIterable<readonly tf.Tensor[]>
  /** Tensor data: `fit` made each batch and disposes it (an iterable's batches are the caller's). */
  readonly owned: boolean
  /** Batches per epoch; undefined for an iterable (its length is unknown). */
  readonly perEpoch: number | undefined
  /** The batch size of validation. */
  readonly batchSize: number
  /** The first batch of every tensor dataset (to create the params before a resume); the caller disposes them. */
  readonly firstBatches: () => tf.Tensor[][]
  /** Runs the data checks: finite values, validation shaped like a dataset of the same arity. */
  readonly check: (validation: readonly tf.Tensor[] | undefined) => Promise<void>
}

/** One tensor dataset of the source, resolved: its tensors, size, batch size and batches per pass. */
interface Resolved { readonly xs: readonly tf.Tensor[]; readonly n: number; readonly batchSize: number; readonly count: number }

// ---------------------------------------------------------------------------
// utils

/**
 * Checks tensor data: non-empty, all arguments with the same leading dim; returns that dim.
 *
 * @example checkTensors('fit: data', [x, c])   // 60000
 */
export const checkTensors = (where: string, xs: readonly tf.Tensor[]): number => {
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

/**
 * A seeded permutation of 0 … n − 1 (mulberry32 + Fisher–Yates).
 *
 * @example permutation(5, 1)   // e.g. Int32Array [3, 0, 4, 1, 2]
 */
export const permutation = (n: number, seed: number): Int32Array => {
  let a = seed >>> 0
  const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t ^= t + Math.imul(t ^ (t >>> 7), 61 | t); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
  const p = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [p[i], p[j]] = [p[j]!, p[i]!] }
  return p
}

/** Points [start, start + size) of `xs` (in `order` when shuffled); new tensors the caller disposes. */
const batchAt = (xs: readonly tf.Tensor[], start: number, size: number, order: Int32Array | undefined): tf.Tensor[] =>
  order === undefined
    ? xs.map((x) => tf.slice(x, start, size))
    : tf.tidy(() => { const idx = tf.tensor1d(order.subarray(start, start + size), 'int32'); return xs.map((x) => tf.gather(x, idx)) })

/**
 * Batches of tensor data for one pass, in `order` (shuffled) or as stored; each batch's tensors are
 * the caller's to dispose.
 *
 * @example for await (const b of tensorBatches([xVal], 128, undefined)) tf.dispose(b)
 */
export async function* tensorBatches(xs: readonly tf.Tensor[], batchSize: number, order: Int32Array | undefined): AsyncGenerator<tf.Tensor[]> {
  const n = xs[0]!.shape[0]!
  for (let start = 0; start < n; start += batchSize) yield batchAt(xs, start, Math.min(batchSize, n - start), order)
}

// ---------------------------------------------------------------------------
// combinators

/**
 * The order of one epoch's batches under `schedule`, given each stream's batches per pass: pairs
 * [stream, j], the j-th batch that stream yields this epoch (j ≥ count: a further pass).
 * 'spread' places batch j of a stream with m batches at time (j + ½)/m, ties to the earlier stream;
 * 'alternate' takes one batch of each stream in turn, max(counts) rounds.
 *
 * @example streamPlan([3, 1], 'spread')      // [[0, 0], [0, 1], [1, 0], [0, 2]]
 * @example streamPlan([3, 1], 'alternate')   // [[0, 0], [1, 0], [0, 1], [1, 1], [0, 2], [1, 2]]
 */
export const streamPlan = (counts: readonly number[], schedule: StreamSchedule): ReadonlyArray<readonly [stream: number, batch: number]> => {
  if (schedule === 'alternate') {
    const rounds = Math.max(...counts)
    return Array.from({ length: rounds * counts.length }, (_, t) => [t % counts.length, Math.floor(t / counts.length)] as const)
  }
  // (2j + 1)/(2m) compared exactly by cross-multiplying: (2j_a + 1)·m_b vs (2j_b + 1)·m_a.
  const entries = counts.flatMap((m, i) => Array.from({ length: m }, (_, j) => ({ i, j, m })))
  return entries.sort((a, b) => (2 * a.j + 1) * b.m - (2 * b.j + 1) * a.m || a.i - b.i).map((e) => [e.i, e.j] as const)
}

/** The seed of stream `i`'s pass `pass` in `epoch` (one stream alone keeps `fit`'s historical seed). */
const passSeed = (seed: number, epoch: number, i: number, pass: number, alone: boolean): number => {
  const base = (seed * 7919 + epoch) >>> 0
  return alone && pass === 0 ? base : (base ^ Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(pass + 1, 0x85ebca6b)) >>> 0
}

/** One epoch of interleaved stream batches, each stream reshuffled at the start of each of its passes. */
async function* streamBatches(streams: readonly Resolved[], plan: ReturnType<typeof streamPlan>, order: (i: number, pass: number) => Int32Array | undefined): AsyncGenerator<tf.Tensor[]> {
  const current = streams.map(() => ({ pass: -1, order: undefined as Int32Array | undefined }))
  for (const [i, j] of plan) {
    const s = streams[i]!, c = current[i]!, pass = Math.floor(j / s.count), k = j % s.count
    if (c.pass !== pass) { c.pass = pass; c.order = order(i, pass) }
    yield batchAt(s.xs, k * s.batchSize, Math.min(s.batchSize, s.n - k * s.batchSize), c.order)
  }
}

// ---------------------------------------------------------------------------
// constructors

const isStreams = (data: unknown): data is FitStreams<readonly tf.Tensor[]> =>
  typeof data === 'object' && data !== null && !(data instanceof tf.Tensor) && !Array.isArray(data) && 'streams' in data

/** A dataset's batch size: given, or min(128, n); an integer in [1, n]. */
const resolveBatch = (where: string, given: number | undefined, n: number): number => {
  const b = given ?? Math.min(128, n)
  if (!Number.isInteger(b) || b < 1 || b > n) throw new InvalidArgumentError(`fit: ${where} must be an integer between 1 and the number of data points (${n}); got ${b}`)
  return b
}

/** Checks and resolves the streams of a {@link FitStreams} dataset. */
const resolveStreams = (data: FitStreams<readonly tf.Tensor[]>, batchSize: number | undefined): { streams: Resolved[]; schedule: StreamSchedule } => {
  const schedule: unknown = data.schedule ?? 'spread'
  if (schedule !== 'spread' && schedule !== 'alternate') throw new InvalidArgumentError(`fit: streams schedule must be 'spread' or 'alternate'; got ${JSON.stringify(schedule)}`)
  if (!Array.isArray(data.streams) || data.streams.length === 0) throw new InvalidArgumentError(`fit: streams must be a non-empty array of { data: [tensors…], batchSize? }; got ${Array.isArray(data.streams) ? 'an empty array' : typeof data.streams}`)
  const streams = data.streams.map((s, i) => {
    const xs = s.data instanceof tf.Tensor ? [s.data] : s.data
    const n = checkTensors(`fit: streams[${i}].data`, Array.isArray(xs) ? xs : [])
    const b = resolveBatch(`streams[${i}].batchSize`, s.batchSize ?? batchSize, n)
    return { xs, n, batchSize: b, count: Math.ceil(n / b) }
  })
  return { streams, schedule }
}

/** Validation checked against the first stream with as many tensors (a stream's tuple is one of the program's argument lists). */
const checkStreamsValidation = (streams: readonly Resolved[], validation: readonly tf.Tensor[]): void => {
  const match = streams.find((s) => s.xs.length === validation.length)
  if (match === undefined) throw new InvalidArgumentError(`fit: validation has ${validation.length} tensor(s) but the streams have ${streams.map((s) => s.xs.length).join(', ')}; expected as many validation tensors as one of the streams`)
  checkValidationFits(match.xs, validation)
}

/** The source of several interleaved tensor datasets. */
const streamSource = (data: FitStreams<readonly tf.Tensor[]>, opts: FitOptions): EpochSource => {
  const { streams, schedule } = resolveStreams(data, opts.batchSize)
  const plan = streamPlan(streams.map((s) => s.count), schedule)
  const seed = opts.seed ?? 0
  return {
    batches: (epoch) => streamBatches(streams, plan, (i, pass) => opts.shuffle === false ? undefined : permutation(streams[i]!.n, passSeed(seed, epoch, i, pass, false))),
    owned: true, perEpoch: plan.length, batchSize: opts.batchSize ?? streams[0]!.batchSize,
    firstBatches: () => streams.map((s) => s.xs.map((x) => tf.slice(x, 0, s.batchSize))),
    check: async (validation) => {
      for (const [i, s] of streams.entries()) await checkFinite(`fit: streams[${i}].data`, s.xs)
      if (validation !== undefined) { checkStreamsValidation(streams, validation); await checkFinite('fit: validation', validation) }
    },
  }
}

/** The source of one tensor dataset (a tensor or a tuple of tensors). */
const tensorSource = (data: tf.Tensor | readonly tf.Tensor[], opts: FitOptions): EpochSource => {
  const xs = data instanceof tf.Tensor ? [data] : data
  const n = checkTensors('fit: data', xs)
  const batchSize = resolveBatch('batchSize', opts.batchSize, n)
  const seed = opts.seed ?? 0
  return {
    batches: (epoch) => tensorBatches(xs, batchSize, opts.shuffle === false ? undefined : permutation(n, passSeed(seed, epoch, 0, 0, true))),
    owned: true, perEpoch: Math.ceil(n / batchSize), batchSize,
    firstBatches: () => [xs.map((x) => tf.slice(x, 0, batchSize))],
    check: (validation) => checkFitData(xs, validation, true),
  }
}

/**
 * What `fit` iterates for `data`: one tensor dataset's batches (shuffled per epoch unless
 * `shuffle: false`), an async iterable's own batches, or a {@link FitStreams} dataset's
 * interleaved batches.
 *
 * @example const src = epochSource({ streams: [{ data: [xl, yl] }, { data: [xu] }] }, { batchSize: 200 })
 */
export const epochSource = (data: FitData<readonly tf.Tensor[]>, opts: FitOptions): EpochSource => {
  if (isStreams(data)) return streamSource(data, opts)
  if (typeof data === 'object' && data !== null && Symbol.asyncIterator in data) {
    const iterable = data as AsyncIterable<readonly tf.Tensor[]>
    const batchSize = opts.batchSize ?? 128
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`fit: batchSize must be a positive integer; got ${batchSize}`)
    return {
      batches: () => iterable, owned: false, perEpoch: undefined, batchSize,
      firstBatches: () => { throw new InvalidArgumentError('fit: resume needs tensor data (the first batch creates the params before the checkpoint is loaded)') },
      check: (validation) => checkFitData([], validation, false),
    }
  }
  return tensorSource(data as tf.Tensor | readonly tf.Tensor[], opts)
}
