/**
 * The supervised-only baseline of the semi-supervised VAE target (issue 19): the SSVAE's classifier
 * network (784-500-10 softplus MLP) trained on the labelled subset alone — `labels-per-class` random
 * labels per class from the first 50,000 training images (seeded, the same subset bench/ssvae.ts
 * uses for that seed), grey input in [0, 1] — with Adam 1e-3, batch 100; test accuracy on the test set.
 * Usage: npx tsx bench/ssvae-baseline.ts [--labels-per-class 100] [--epochs 100] [--seeds 0,1,2]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { backendInfo, initBackend } from 'tfppl'
import { arg, list, loadSplits, semiData, trainBaseline } from './ssvae-common.js'

const [perClass, epochs, seeds] = [arg('labels-per-class', 100), arg('epochs', 100), list('seeds', [0, 1, 2])]
await initBackend()
const { train, test, source } = loadSplits()
console.log(`supervised-only baseline on ${source}: ${perClass} labels per class, grey input, 784-500-10 softplus, Adam 1e-3, batch 100, ${epochs} epochs; ${backendInfo().name}`)
const rows: Array<{ seed: number; accuracy: number; seconds: number }> = []
for (const seed of seeds) {
  const d = semiData(train, test, perClass, seed)
  const r = await trainBaseline(d, seed, epochs)
  d.dispose()
  rows.push({ seed, ...r })
  console.log(`seed ${seed}: test accuracy ${(100 * r.accuracy).toFixed(2)}% (${r.seconds.toFixed(1)} s)`)
}
const mean = rows.reduce((a, r) => a + r.accuracy, 0) / rows.length
console.log(`mean test accuracy ${(100 * mean).toFixed(2)}% over seeds ${seeds.join(', ')}`)
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/ssvae-baseline-${perClass}pc-${epochs}epochs.json`, JSON.stringify({
  protocol: `supervised-only baseline: ${perClass} labels per class from the first 50,000 training images (seeded), grey input, 784-500-10 softplus MLP (fan-in init), Adam 1e-3, batch 100, ${epochs} epochs`,
  source, backend: backendInfo().name, rows, mean,
}, null, 2) + '\n')
train.dispose(); test.dispose()
