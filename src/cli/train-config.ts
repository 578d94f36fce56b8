/**
 * The configuration of a `tfppl train` run: defaults for a new run, or the
 * run directory's config.json for `--resume` (flags that contradict it are
 * refused; `--epochs` sets the new total).
 */
import { promises as fs } from 'node:fs'
import type { ModelKind } from '../models/image-model.js'
import type { TrainFlags } from './codecs.js'
import { dataSource } from './data.js'
import { UsageError } from './errors.js'
import { readConfig, runPaths } from './run-files.js'
import { DEFAULT_LABELS_PER_CLASS, SEMI_SUPERVISED_KINDS, semiSupervisedData } from './semi-supervised.js'
import type { RunConfig } from './run-files.js'

/** Defaults of `tfppl train` (the VAE's are the Fashion-MNIST protocol of bench/RESULTS.md: 784-400-50, batch 128). */
export const TRAIN_DEFAULTS = { data: 'mnist', epochs: 10, batchSize: 128, hidden: [400] as readonly number[], seed: 0 } as const

/**
 * Default `--hidden` per model: 400 (the VAE protocol), but two layers of 512 for the CVAE, whose
 * class fidelity they raise from 74.7% to 79.7% on Fashion-MNIST (bench/RESULTS.md), and 500 for the
 * semi-supervised VAE (Pyro's ss_vae_M2).
 */
export const DEFAULT_HIDDEN: Readonly<Record<ModelKind, readonly number[]>> = { vae: TRAIN_DEFAULTS.hidden, cvae: [512, 512], ladder: TRAIN_DEFAULTS.hidden, vqvae: TRAIN_DEFAULTS.hidden, ssvae: [500] }

/** Default `--z-dim` per model: the latent size (VAE, CVAE), z₁'s size (ladder; z₂ has half), the code size (VQ-VAE). */
export const DEFAULT_Z_DIM: Readonly<Record<ModelKind, number>> = { vae: 50, cvae: 50, ladder: 64, vqvae: 16, ssvae: 50 }

/** The settings of a run before its data is loaded (image shape and classes come from the data). */
export type PlannedConfig = Omit<RunConfig, 'imageShape' | 'numClasses' | 'binarized'>

/** What `train` will do: the run directory, the settings, and whether it continues an earlier run. */
export interface TrainPlan {
  readonly out: string
  readonly config: PlannedConfig
  /** The earlier run's config (with `--resume` on an existing run). */
  readonly previous?: RunConfig
  /** The batch size is the default (no `--batch-size`, no earlier run): it may shrink to fit a small training set. */
  readonly defaultBatchSize: boolean
}

const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false)

/** A fresh run's settings from the flags and the defaults. */
const fresh = (model: ModelKind, f: TrainFlags): PlannedConfig => ({
  version: 1, model,
  zDim: f['z-dim'] ?? DEFAULT_Z_DIM[model],
  hidden: [...(f.hidden ?? DEFAULT_HIDDEN[model])],
  data: { source: dataSource(f.data ?? (SEMI_SUPERVISED_KINDS.includes(model) ? semiSupervisedData() : TRAIN_DEFAULTS.data)), limit: f.limit ?? null },
  ...(SEMI_SUPERVISED_KINDS.includes(model) ? { labelsPerClass: f['labels-per-class'] ?? DEFAULT_LABELS_PER_CLASS } : {}),
  seed: f.seed ?? TRAIN_DEFAULTS.seed,
  epochs: f.epochs ?? TRAIN_DEFAULTS.epochs,
  batchSize: f['batch-size'] ?? TRAIN_DEFAULTS.batchSize,
})

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Refuses flags that contradict the run being resumed (`--epochs` may change: it is the new total). */
const checkResumable = (out: string, model: ModelKind, f: TrainFlags, given: PlannedConfig, prev: RunConfig): void => {
  const checks: ReadonlyArray<readonly [string, boolean, unknown, unknown]> = [
    ['model', true, model, prev.model],
    ['--z-dim', f['z-dim'] !== undefined, given.zDim, prev.zDim],
    ['--hidden', f.hidden !== undefined, given.hidden, prev.hidden],
    ['--data', f.data !== undefined, given.data.source, prev.data.source],
    ['--labels-per-class', f['labels-per-class'] !== undefined, given.labelsPerClass, prev.labelsPerClass],
    ['--limit', f.limit !== undefined, given.data.limit, prev.data.limit],
    ['--seed', f.seed !== undefined, given.seed, prev.seed],
    ['--batch-size', f['batch-size'] !== undefined, given.batchSize, prev.batchSize],
  ]
  for (const [flag, isGiven, value, before] of checks) {
    if (isGiven && !same(value, before)) {
      throw new UsageError(`tfppl train: ${flag} ${JSON.stringify(value)} does not match the run being resumed in ${out} (${JSON.stringify(before)} in config.json); drop it or choose another --out`)
    }
  }
}

/**
 * Plans a `train` command: the output directory (default `runs/<model>`) and its settings.
 * Without `--resume`, a directory that already holds a run is refused.
 *
 * @example const plan = await planTraining('vae', { epochs: 5, out: 'runs/quick' })
 */
export const planTraining = async (model: ModelKind, f: TrainFlags): Promise<TrainPlan> => {
  const out = f.out ?? `runs/${model}`
  const given = fresh(model, f)
  if (f['labels-per-class'] !== undefined && !SEMI_SUPERVISED_KINDS.includes(model)) throw new UsageError(`tfppl train: --labels-per-class applies to the semi-supervised models (${SEMI_SUPERVISED_KINDS.join(', ')}), not to ${model}; drop it`)
  const defaultBatchSize = f['batch-size'] === undefined
  const hasRun = (await exists(runPaths(out).config)) || (await exists(runPaths(out).checkpoint))
  if (!f.resume) {
    if (hasRun) throw new UsageError(`tfppl train: ${out} already holds a run; pass --resume to continue it, or choose another --out`)
    return { out, config: given, defaultBatchSize }
  }
  if (!(await exists(runPaths(out).config))) return { out, config: given, defaultBatchSize }
  const previous = await readConfig(out)
  checkResumable(out, model, f, given, previous)
  const { imageShape: _s, numClasses: _n, binarized: _b, ...kept } = previous
  return { out, config: { ...kept, epochs: f.epochs ?? previous.epochs }, previous, defaultBatchSize: false }
}
