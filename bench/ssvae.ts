/**
 * The semi-supervised VAE (M2) target of issue 19: per seed, the SSVAE trained by `svi.fit` on a
 * labelled and an unlabelled stream (Pyro's ss_vae_M2 protocol: grey input, z 50, hidden 500,
 * enumerated y, α = 46 per labelled point, Adam 4.2e-4, batch 200, `labels-per-class` random labels
 * per class from the first 50,000 training images, the other 49,000 unlabelled, labelled batches
 * spread among them), then the test accuracy of q(y | x), the mean epoch time, and the
 * supervised-only baseline on the same labelled subset in the same run.
 * Usage: npx tsx bench/ssvae.ts [--epochs 50] [--seeds 0,1,2] [--labels-per-class 100] [--alpha 46]
 *   [--threads 1|2] [--loss enum|elbo] [--max-steps N] [--baseline-epochs 100]
 * `--loss elbo` samples y (score function) instead of enumerating it: a smoke run before enumElbo exists.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { backendInfo, elbo, initBackend, setNative, ssvae, svi } from 'tfppl'
import type { Loss } from 'tfppl'
import { accuracy, arg, enumElboIfBuilt, list, loadSplits, semiData, trainBaseline } from './ssvae-common.js'

const [epochs, perClass, alpha, threads, maxSteps, baselineEpochs] = [arg('epochs', 50), arg('labels-per-class', 100), arg('alpha', 46), arg('threads', 1), arg('max-steps', Infinity), arg('baseline-epochs', 100)]
const seeds = list('seeds', [0, 1, 2])
const lossName = process.argv.includes('--loss') ? process.argv[process.argv.indexOf('--loss') + 1] : 'enum'
await initBackend()
if (backendInfo().name === 'wasm') setNative(backendInfo().native, threads)
const makeEnum = await enumElboIfBuilt()
if (lossName === 'enum' && makeEnum === undefined) throw new Error('bench/ssvae: enumElbo is not in this build yet; run with --loss elbo (y sampled, score function) for a smoke run')
const makeLoss = (): Loss => lossName === 'enum' ? makeEnum!({ maxPlateNesting: 1 }) : elbo()
const { train, test, source } = loadSplits()
const info = backendInfo()
console.log(`ssvae on ${source}: ${perClass} labels per class, α ${alpha}, loss ${lossName}, ${epochs} epochs${Number.isFinite(maxSteps) ? ` (at most ${maxSteps} steps)` : ''}; ${info.name}, native ${info.nativeStatus}`)

/** Trains one seed's SSVAE; its test accuracy, epoch times and steps. */
const trainSsvae = async (seed: number, d: ReturnType<typeof semiData>) => {
  const m = ssvae({ alpha, seed })
  const s = svi({ optimizer: tf.train.adam(4.2e-4), loss: makeLoss(), seed })
  const abort = new AbortController()
  const h = await s.fit(m.model, m.guide, { streams: [{ data: [d.xl, d.yl] }, { data: [d.xu] }], schedule: 'spread' }, {
    epochs, batchSize: 200, seed, progress: false, signal: abort.signal,
    onStep: ({ step }) => { if (step >= maxSteps) abort.abort() },
    onEpochEnd: (r) => { console.log(`  seed ${seed} epoch ${r.epoch}: loss ${r.trainLoss.toFixed(2)}, ${r.seconds.toFixed(1)} s, test accuracy ${(100 * accuracy((x) => m.networks.classifier.apply(x), d.xTest, d.testLabels)).toFixed(2)}%`) },
  })
  const acc = accuracy((x) => m.networks.classifier.apply(x), d.xTest, d.testLabels)
  s.params.dispose(); s.optimizer.dispose(); m.dispose()
  return { accuracy: acc, epochSeconds: h.epochs.map((r) => r.seconds), steps: h.steps }
}

const rows = []
for (const seed of seeds) {
  const d = semiData(train, test, perClass, seed)
  const t0 = performance.now()
  const r = await trainSsvae(seed, d)
  const seconds = (performance.now() - t0) / 1000
  const base = baselineEpochs > 0 ? await trainBaseline(d, seed, baselineEpochs) : undefined
  d.dispose()
  rows.push({ seed, ...r, seconds, baseline: base?.accuracy })
  console.log(`seed ${seed}: ssvae ${(100 * r.accuracy).toFixed(2)}% after ${r.steps} steps (${seconds.toFixed(1)} s, ${(seconds / r.steps * 1000).toFixed(1)} ms/step)${base === undefined ? '' : `; baseline ${(100 * base.accuracy).toFixed(2)}%`}`)
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const epochTimes = rows.flatMap((r) => r.epochSeconds)
console.log(`mean: ssvae ${(100 * mean(rows.map((r) => r.accuracy))).toFixed(2)}%${rows.every((r) => r.baseline !== undefined) ? `, baseline ${(100 * mean(rows.map((r) => r.baseline!))).toFixed(2)}%` : ''}; epoch ${epochTimes.length > 0 ? `${mean(epochTimes).toFixed(1)} s` : 'not completed'} (${threads} thread${threads === 1 ? '' : 's'})`)
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/ssvae-${lossName}-${perClass}pc-a${alpha}-${epochs}epochs${Number.isFinite(maxSteps) ? `-max${maxSteps}steps` : ''}-t${threads}-seeds${seeds.join("_")}.json`, JSON.stringify({
  protocol: `ssvae M2: grey input, z 50, hidden 500, y ${lossName === 'enum' ? 'enumerated' : 'sampled (score function)'}, α ${alpha} per labelled point, Adam 4.2e-4, batch 200, ${perClass} labels per class from the first 50,000 training images (seeded), the rest unlabelled, 'spread' schedule; baseline ${baselineEpochs} epochs`,
  source, backend: info.name, native: info.nativeStatus, threads, ...(Number.isFinite(maxSteps) ? { maxSteps } : {}), rows,
}, null, 2) + '\n')
train.dispose(); test.dispose()
