/**
 * The labelled subset of semi-supervised learning (Kingma et al. 2014): a
 * fixed number of labels per class drawn at random (seeded) from the first
 * `pool` training images, the rest of the pool unlabelled, and what lies beyond
 * the pool kept apart for validation — the protocol of Pyro's `ss_vae_M2`
 * (pool 50,000 of MNIST's 60,000; 100 labels per class gives N = 1,000).
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { makeDataset } from './dataset.js'
import type { Dataset } from './dataset.js'
import { DataError } from './errors.js'

/** Options of {@link labelledSplit}. */
export interface LabelledSplitOptions {
  /** Labelled images per class. */
  readonly labelsPerClass: number
  /** The first `pool` images are split into labelled and unlabelled (default 50,000, or the whole set when smaller). */
  readonly pool?: number
  /** Seeds the choice of labelled images (default 0). */
  readonly seed?: number
}

/** A semi-supervised split; it owns its three datasets (`dispose()` frees them). */
export interface LabelledSplit {
  /** `labelsPerClass` images of each class, in their original order. */
  readonly labelled: Dataset
  /** The other images of the pool, in their original order. Their labels are kept for diagnostics only: training must not read them. */
  readonly unlabelled: Dataset
  /** The images after the pool (none when the pool is the whole set). */
  readonly validation: Dataset | undefined
  /** Indices of the labelled images in the original set, ascending. */
  readonly labelledIndices: Int32Array
  readonly dispose: () => void
}

/** Pyro's `ss_vae_M2` pool: the first 50,000 MNIST training images (the last 10,000 are its validation set). */
export const SEMI_SUPERVISED_POOL = 50_000

/** A seeded shuffle of `xs` (mulberry32 + Fisher–Yates); a new array. */
const shuffled = (xs: readonly number[], seed: number): number[] => {
  let a = seed >>> 0
  const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t ^= t + Math.imul(t ^ (t >>> 7), 61 | t); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
  const p = [...xs]
  for (let i = p.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [p[i], p[j]] = [p[j]!, p[i]!] }
  return p
}

/**
 * The labelled indices: for each class c, `perClass` of the pool's images of class c, chosen by
 * a seeded shuffle of them (class c's shuffle seeded by seed·1009 + c, so classes do not share draws).
 *
 * @example chooseLabelled(Int32Array.from([0, 1, 0, 1, 1]), 2, 1, 0)   // e.g. Int32Array [0, 3]
 */
export const chooseLabelled = (labels: Int32Array, numClasses: number, perClass: number, seed: number): Int32Array => {
  const byClass = Array.from({ length: numClasses }, () => [] as number[])
  labels.forEach((c, i) => byClass[c]?.push(i))
  const short = byClass.findIndex((idx) => idx.length < perClass)
  if (short >= 0) {
    throw new DataError(`labelledSplit: ${perClass} labels per class asked, but class ${short} has only ${byClass[short]!.length} images among the ${labels.length} of the pool; ask for at most ${Math.min(...byClass.map((x) => x.length))} per class, or use a larger pool`)
  }
  const chosen = byClass.flatMap((idx, c) => shuffled(idx, (seed * 1009 + c) >>> 0).slice(0, perClass))
  return Int32Array.from(chosen.sort((a, b) => a - b))
}

/** The images and labels of `ds` at `indices`, as a new dataset named `name`. */
const gathered = (ds: Dataset, indices: Int32Array, name: string): Dataset => {
  const [images, labels] = tf.tidy(() => {
    const idx = tf.tensor1d(indices, 'int32')
    return [tf.gather(ds.images, idx), tf.gather(ds.labels, idx)] as [tf.Tensor4D, tf.Tensor1D]
  })
  return makeDataset({ name, images, labels, numClasses: ds.numClasses, ...(ds.classNames === undefined ? {} : { classNames: ds.classNames }) })
}

const checkOptions = (ds: Dataset, o: LabelledSplitOptions): number => {
  const pool = Math.min(o.pool ?? SEMI_SUPERVISED_POOL, ds.size)
  if (!Number.isInteger(o.labelsPerClass) || o.labelsPerClass < 1) throw new InvalidArgumentError(`labelledSplit: labelsPerClass must be a positive integer; got ${o.labelsPerClass}`)
  if (!Number.isInteger(pool) || pool < 1) throw new InvalidArgumentError(`labelledSplit: pool must be a positive integer; got ${o.pool}`)
  if (o.labelsPerClass * ds.numClasses >= pool) throw new InvalidArgumentError(`labelledSplit: ${o.labelsPerClass} labels per class × ${ds.numClasses} classes leave no unlabelled image in a pool of ${pool}; expected fewer than ${Math.ceil(pool / ds.numClasses)} per class`)
  return pool
}

/**
 * Splits the first `pool` images of `ds` into `labelsPerClass` labelled images per class (chosen
 * at random, seeded) and the rest of the pool, unlabelled; the images after the pool are returned
 * as `validation`. The caller disposes the split (`ds` is untouched).
 *
 * @example
 * const { train, test } = fashionMnist()
 * const split = labelledSplit(train, { labelsPerClass: 100, seed: 0 })   // 1,000 labelled, 49,000 unlabelled, 10,000 validation
 */
export const labelledSplit = (ds: Dataset, o: LabelledSplitOptions): LabelledSplit => {
  const pool = checkOptions(ds, o)
  const poolLabels = tf.tidy(() => tf.slice(ds.labels, 0, pool).dataSync() as Int32Array)
  const labelledIndices = chooseLabelled(poolLabels, ds.numClasses, o.labelsPerClass, o.seed ?? 0)
  const isLabelled = new Uint8Array(pool)
  labelledIndices.forEach((i) => { isLabelled[i] = 1 })
  const rest = Int32Array.from({ length: pool }, (_, i) => i).filter((i) => isLabelled[i] === 0)
  const parts: Dataset[] = []
  try {
    parts.push(gathered(ds, labelledIndices, `${ds.name} labelled (${o.labelsPerClass} per class)`))
    parts.push(gathered(ds, rest, `${ds.name} unlabelled`))
    if (pool < ds.size) parts.push(gathered(ds, Int32Array.from({ length: ds.size - pool }, (_, i) => pool + i), `${ds.name}[${pool}:]`))
  } catch (e) {
    for (const p of parts) p.dispose()
    throw e
  }
  const [labelled, unlabelled, validation] = parts as [Dataset, Dataset, Dataset | undefined]
  return { labelled, unlabelled, validation, labelledIndices, dispose: () => { for (const p of parts) p.dispose() } }
}
