/**
 * The files of a run directory and their io-ts codecs: `config.json` (what
 * was trained, on what, with which seed), `metrics.json` (ELBO per epoch) and
 * the epoch recorded in the checkpoint. Everything read back is decoded; a
 * file that does not decode is a {@link RunFileError} naming the file and field.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { TfpplError } from '../errors.js'
import { ModelKindCodec } from './codecs.js'
import { writeFileAtomic } from './render/index.js'

/** A run file that is missing or does not decode. */
export class RunFileError extends TfpplError {}

const PositiveInt = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1, 'a positive integer')
const NonNegativeInt = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'a non-negative integer')

/** Where the data came from: `mnist`, `fashion-mnist`, or an absolute directory of IDX files; `limit` caps train and test sizes. */
export const DataSpecCodec = t.type({ source: t.string, limit: t.union([PositiveInt, t.null]) }, 'DataSpec')
/** A decoded data spec. */
export type DataSpec = t.TypeOf<typeof DataSpecCodec>

/** `config.json`: everything needed to rebuild the model and its data. */
export const RunConfigCodec = t.intersection([t.type({
  version: t.literal(1),
  model: ModelKindCodec,
  zDim: PositiveInt,
  hidden: t.array(PositiveInt),
  data: DataSpecCodec,
  binarized: t.boolean,
  imageShape: t.tuple([PositiveInt, PositiveInt, PositiveInt]),
  numClasses: PositiveInt,
  seed: NonNegativeInt,
  epochs: PositiveInt,
  batchSize: PositiveInt,
}), t.partial({ labelsPerClass: PositiveInt })], 'RunConfig')
/** A decoded config.json. */
export type RunConfig = t.TypeOf<typeof RunConfigCodec>

/** One epoch of `metrics.json` (ELBO = −loss, nats per image; testElbo null if it was not finite). */
export const EpochMetricsCodec = t.type({ epoch: PositiveInt, trainElbo: t.number, testElbo: t.union([t.number, t.null]), seconds: t.number }, 'EpochMetrics')
/** One decoded epoch of metrics.json. */
export type EpochMetricsRecord = t.TypeOf<typeof EpochMetricsCodec>

/** `metrics.json`: the backend trained on, the native accelerator's state then (absent in older runs), the epochs. */
export const MetricsCodec = t.intersection([
  t.type({ backend: t.string, epochs: t.array(EpochMetricsCodec) }),
  t.partial({ nativeAccelerator: t.string }),
], 'Metrics')
/** A decoded metrics.json. */
export type Metrics = t.TypeOf<typeof MetricsCodec>

/** The part of the checkpoint manifest the command reads: the epoch and history `fit` saved. */
const CheckpointExtraCodec = t.type({
  extra: t.type({
    epoch: NonNegativeInt,
    history: t.array(t.type({ epoch: PositiveInt, trainLoss: t.number, validationLoss: t.union([t.number, t.null, t.undefined]), seconds: t.number })),
  }),
}, 'CheckpointManifest')

/** The file names inside a run directory. */
export const runPaths = (dir: string) => ({
  config: path.join(dir, 'config.json'),
  metrics: path.join(dir, 'metrics.json'),
  checkpoint: path.join(dir, 'checkpoint'),
  manifest: path.join(dir, 'checkpoint', 'manifest.json'),
  report: path.join(dir, 'report.html'),
})

/** `a.b[2].c: expected X, got Y` for the first decoding error. */
const explain = (errors: t.Errors): string => {
  const first = errors[0]
  if (first === undefined) return 'invalid'
  const keys = first.context.map((c) => c.key).filter((k) => k !== '')
  const expected = first.context[first.context.length - 1]?.type.name ?? 'a value'
  return `${keys.length === 0 ? 'the file' : `field ${keys.join('.')}`}: expected ${expected}, got ${JSON.stringify(first.value) ?? 'nothing'}`
}

/**
 * Reads and decodes a JSON file: Left(message naming the file and field) on failure.
 *
 * @example const cfg = await readJson(RunConfigCodec, 'runs/vae/config.json')
 */
export const readJson = async <A, O>(codec: t.Type<A, O, unknown>, file: string): Promise<E.Either<string, A>> => {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : 'EUNKNOWN'
    return E.left(`cannot read ${file} (${code})`)
  }
  let json: unknown
  try { json = JSON.parse(text) } catch (e) { return E.left(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`) }
  return E.mapLeft((errs: t.Errors) => `${file}: ${explain(errs)}`)(codec.decode(json))
}

/** {@link readJson}, throwing a {@link RunFileError}. @example const cfg = await readJsonOrThrow(RunConfigCodec, p) */
export const readJsonOrThrow = async <A, O>(codec: t.Type<A, O, unknown>, file: string): Promise<A> => {
  const r = await readJson(codec, file)
  if (E.isLeft(r)) throw new RunFileError(r.left)
  return r.right
}

/** Writes `value` (encoded by `codec`) as pretty JSON, atomically. @example await writeJson(MetricsCodec, p, metrics) */
export const writeJson = <A, O>(codec: t.Type<A, O, unknown>, file: string, value: A): Promise<void> =>
  writeFileAtomic(file, `${JSON.stringify(codec.encode(value), null, 2)}\n`)

/**
 * The run's config, or a RunFileError saying the directory is not a run.
 *
 * @example const cfg = await readConfig('runs/vae')
 */
export const readConfig = async (dir: string): Promise<RunConfig> => {
  const file = runPaths(dir).config
  const exists = await fs.access(file).then(() => true, () => false)
  if (!exists) throw new RunFileError(`${dir} is not a tfppl run directory: ${file} is missing (create one with tfppl train)`)
  return readJsonOrThrow(RunConfigCodec, file)
}

/** Metrics of a run (empty when metrics.json does not exist yet). @example const m = await readMetrics('runs/vae', 'wasm') */
export const readMetrics = async (dir: string, backend: string): Promise<Metrics> => {
  const file = runPaths(dir).metrics
  const exists = await fs.access(file).then(() => true, () => false)
  return exists ? readJsonOrThrow(MetricsCodec, file) : { backend, epochs: [] }
}

/**
 * The epochs recorded in the run's checkpoint (those `fit` will resume after), as metrics;
 * undefined when there is no checkpoint.
 *
 * @example const done = await checkpointEpochs('runs/vae')   // e.g. 4 records
 */
export const checkpointEpochs = async (dir: string): Promise<readonly EpochMetricsRecord[] | undefined> => {
  const candidates = [runPaths(dir).manifest, path.join(`${runPaths(dir).checkpoint}.backup`, 'manifest.json')]   // .backup: an interrupted save
  const found = await Promise.all(candidates.map((f) => fs.access(f).then(() => true, () => false)))
  const file = candidates[found.indexOf(true)]
  if (file === undefined) return undefined
  const m = await readJsonOrThrow(CheckpointExtraCodec, file)
  return m.extra.history.filter((h) => h.epoch <= m.extra.epoch).map((h) => ({
    epoch: h.epoch, trainElbo: -h.trainLoss,
    testElbo: typeof h.validationLoss === 'number' && Number.isFinite(h.validationLoss) ? -h.validationLoss : null,
    seconds: h.seconds,
  }))
}
