/**
 * The supervised-only baseline of the semi-supervised VAE target (issue 19): the SSVAE's classifier
 * network (784-500-10 softplus MLP) trained on the labelled subset alone — `labels-per-class` random
 * labels per class from the first 50,000 training images (seeded, the same subset bench/ssvae.ts
 * uses for that seed), grey input in [0, 1] — with Adam 1e-3, batch 100.
 *
 * Read-out (Pyro's ss_vae_M2 protocol, the same rule bench/ssvae.ts applies to the SSVAE): training
 * images 50,000–60,000, never trained on, are the validation set; validation and test accuracy are
 * measured after every epoch; reported are the last epoch's test accuracy and the test accuracy at
 * the epoch of best validation accuracy (the earliest such epoch on ties). Never selected by test accuracy.
 *
 * Usage: npx tsx bench/ssvae-baseline.ts [--labels-per-class 100] [--epochs 100] [--seeds 0,1,2] [--init default|pyro]
 * `--init pyro`: hidden layers N(0, 0.001) as Pyro's example's MLP (see {@link pyroInit}).
 *
 * This file also exports what bench/ssvae.ts shares with it (the split with its validation set, the
 * per-epoch read-out, the baseline); run as a script only when it is the entry point.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import { backendInfo, elbo, flatten, initBackend, labelledSplit, oneHot, ssvae, svi } from 'tfppl'
import type { Dataset, OwnedNetwork } from 'tfppl'
import { accuracy, arg, classifierModel, list, loadSplits, noGuide } from './ssvae-common.js'

/** A command-line word `--name W`, else `fallback`. @example word('init', 'default') */
export const word = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}

/** One seed's data as bench/ssvae-common's `semiData`, plus the validation set (training images 50,000–60,000). */
export interface SplitData {
  readonly xl: tf.Tensor2D
  readonly yl: tf.Tensor2D
  readonly xu: tf.Tensor2D
  readonly xTest: tf.Tensor2D
  readonly testLabels: Int32Array
  /** Undefined when the training set has no images past the 50,000 pool (the bundled digits). */
  readonly xVal: tf.Tensor2D | undefined
  readonly valLabels: Int32Array | undefined
  readonly sizes: { labelled: number; unlabelled: number; validation: number }
  readonly dispose: () => void
}

/**
 * `labelledSplit` (pool: the first 50,000 training images; labelled and unlabelled come only from
 * it) and its validation part (images 50,000–60,000), grey pixels, flat.
 *
 * @example const d = splitData(train, test, 100, 0)
 */
export const splitData = (train: Dataset, test: Dataset, labelsPerClass: number, seed: number): SplitData => {
  const split = labelledSplit(train, { labelsPerClass, seed })
  const xl = flatten(split.labelled), yl = oneHot(split.labelled.labels, train.numClasses), xu = flatten(split.unlabelled)
  const xTest = flatten(test), testLabels = test.labels.dataSync() as Int32Array
  const xVal = split.validation === undefined ? undefined : flatten(split.validation)
  const valLabels = split.validation === undefined ? undefined : split.validation.labels.dataSync() as Int32Array
  const sizes = { labelled: split.labelled.size, unlabelled: split.unlabelled.size, validation: split.validation?.size ?? 0 }
  return { xl, yl, xu, xTest, testLabels, xVal, valLabels, sizes, dispose: () => { tf.dispose([xl, yl, xu, xTest, ...(xVal === undefined ? [] : [xVal])]); split.dispose() } }
}

/** Validation and test accuracy after one epoch. */
export interface EpochAccuracy { readonly epoch: number; readonly validation: number | undefined; readonly test: number }

/** The validation and test accuracy of `net` on `d` (validation undefined without a validation set). */
export const evaluate = (net: OwnedNetwork, d: SplitData, epoch: number): EpochAccuracy => ({
  epoch,
  validation: d.xVal === undefined ? undefined : accuracy((x) => net.apply(x), d.xVal, d.valLabels!),
  test: accuracy((x) => net.apply(x), d.xTest, d.testLabels),
})

/** The two read-outs of a curve: the last epoch's test accuracy, and the test accuracy at the (earliest) best-validation epoch. */
export interface ReadOut {
  readonly last: { epoch: number; test: number }
  readonly selected: { epoch: number; validation: number; test: number } | undefined
}

/** Pyro's rule (`if best_valid_acc < validation_accuracy`): the earliest epoch of highest validation accuracy. @example readOut(curve).selected?.test */
export const readOut = (curve: readonly EpochAccuracy[]): ReadOut => {
  const last = curve[curve.length - 1] ?? { epoch: 0, test: Number.NaN }
  let best: EpochAccuracy | undefined
  for (const r of curve) if (r.validation !== undefined && (best === undefined || r.validation > best.validation!)) best = r
  return { last: { epoch: last.epoch, test: last.test }, selected: best === undefined ? undefined : { epoch: best.epoch, validation: best.validation!, test: best.test } }
}

/**
 * Pyro's example's initialisation of its MLPs (`examples/vae/utils/custom_mlp.py`): every hidden
 * layer's weights and biases N(0, 0.001); the output layer keeps PyTorch's U(±1/√fan_in). Applied
 * in place to an `mlp` (variables [w0, b0, …, wL, bL]), seeded.
 *
 * @example pyroInit(m.networks.classifier, 7)
 */
export const pyroInit = (net: OwnedNetwork, seed: number): void => {
  const vars = net.variables
  for (let i = 0; i < vars.length - 2; i += 1) {
    const v = vars[i]!
    tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.001, 'float32', seed * 7919 + 101 * i + 13)))
  }
}


/**
 * The supervised-only baseline: the SSVAE's classifier network (784-500-10 softplus MLP, the same
 * initialisation for the same seed and `init`) trained on the labelled images alone by maximum
 * likelihood, Adam 1e-3, batch 100, shuffled each epoch; validation and test accuracy after every epoch.
 *
 * @example const { curve, readOut } = await trainBaselineCurve(d, 0, 100, 'default')
 */
export const trainBaselineCurve = async (d: SplitData, seed: number, epochs: number, init: 'default' | 'pyro'): Promise<{ curve: EpochAccuracy[]; readOut: ReadOut; seconds: number }> => {
  const m = ssvae({ seed })
  if (init === 'pyro') pyroInit(m.networks.classifier, seed)
  const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed })
  const curve: EpochAccuracy[] = []
  const t0 = performance.now()
  await s.fit(classifierModel(m.networks.classifier), noGuide, [d.xl, d.yl], {
    epochs, batchSize: Math.min(100, d.xl.shape[0]), seed, progress: false,
    onEpochEnd: (r) => { curve.push(evaluate(m.networks.classifier, d, r.epoch)) },
  })
  const seconds = (performance.now() - t0) / 1000
  s.params.dispose(); s.optimizer.dispose(); m.dispose()
  return { curve, readOut: readOut(curve), seconds }
}

/** A percentage with two decimals. @example pct(0.7932)   // '79.32%' */
export const pct = (a: number | undefined): string => a === undefined ? '—' : `${(100 * a).toFixed(2)}%`

const main = async () => {
  const [perClass, epochs, seeds] = [arg('labels-per-class', 100), arg('epochs', 100), list('seeds', [0, 1, 2])]
  const init = word('init', 'default')
  if (init !== 'default' && init !== 'pyro') throw new Error(`bench/ssvae-baseline: --init must be default or pyro; got ${init}`)
  await initBackend()
  const { train, test, source } = loadSplits()
  console.log(`supervised-only baseline on ${source}: ${perClass} labels per class, grey input, 784-500-10 softplus (${init} init), Adam 1e-3, batch 100, ${epochs} epochs; ${backendInfo().name}`)
  const rows = []
  for (const seed of seeds) {
    const d = splitData(train, test, perClass, seed)
    const r = await trainBaselineCurve(d, seed, epochs, init)
    d.dispose()
    rows.push({ seed, lastTest: r.readOut.last.test, selected: r.readOut.selected, seconds: r.seconds, curve: r.curve })
    console.log(`seed ${seed}: test accuracy ${pct(r.readOut.last.test)} at epoch ${r.readOut.last.epoch}; at best validation (epoch ${r.readOut.selected?.epoch ?? '—'}, ${pct(r.readOut.selected?.validation)}) ${pct(r.readOut.selected?.test)} (${r.seconds.toFixed(1)} s)`)
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const meanLast = mean(rows.map((r) => r.lastTest))
  const meanSelected = rows.every((r) => r.selected !== undefined) ? mean(rows.map((r) => r.selected!.test)) : undefined
  console.log(`mean test accuracy over seeds ${seeds.join(', ')}: last epoch ${pct(meanLast)}, validation-selected ${pct(meanSelected)}`)
  mkdirSync('bench/results', { recursive: true })
  writeFileSync(`bench/results/ssvae-baseline-${perClass}pc-${epochs}epochs${init === 'pyro' ? '-pyroinit' : ''}-val.json`, JSON.stringify({
    protocol: `supervised-only baseline: ${perClass} labels per class from the first 50,000 training images (seeded), grey input, 784-500-10 softplus MLP (${init === 'pyro' ? "hidden layer N(0, 0.001), Pyro's example's" : 'fan-in'} init), Adam 1e-3, batch 100, ${epochs} epochs; validation = training images 50,000–60,000; read-outs: last epoch's test accuracy, test accuracy at the earliest best-validation epoch`,
    source, backend: backendInfo().name, rows, meanLast, meanSelected,
  }, null, 2) + '\n')
  train.dispose(); test.dispose()
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
