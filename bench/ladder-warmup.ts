/**
 * The ladder VAE's KL warm-up on Fashion-MNIST: β raised once per epoch (the
 * first epoch at β = 0) or after every step (`--perstep 1`). Prints, per epoch,
 * β, the train ELBO, the median and worst batch, and the batches above 1.5× the
 * median of the 20 before them. Usage:
 *   npx tsx bench/ladder-warmup.ts [--epochs 4] [--warmup 2] [--limit 30000] [--perstep 0|1] [--floor 1e-4] [--clip 0]
 */
import * as tf from '@tensorflow/tfjs-core'
import { binarize, elbo, fashionMnist, flatten, initBackend, svi, ladderVae } from 'tfppl'
const arg = (name: string, fallback: number): number => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? Number(process.argv[i + 1]) : fallback }
const [epochs, warmup, limit, perStep, floor, clip] = [arg('epochs', 4), arg('warmup', 2), arg('limit', 30000), arg('perstep', 0), arg('floor', 1e-4), arg('clip', 0)]
await initBackend()
const { train } = fashionMnist()
const x = tf.tidy(() => binarize.fixed(0.5)(flatten(train)).slice(0, limit))
const spe = Math.ceil(limit / 128)
const m = ladderVae({ imageShape: [28, 28, 1], latentDims: [64, 32], hidden: 400, warmup, seed: 0, minScale: floor, ...(perStep ? { stepsPerEpoch: spe } : {}) })
const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 0, ...(clip > 0 ? { clipNorm: clip } : {}) })
const losses: number[] = []
await s.fit(m.model, m.guide, [x], { epochs, batchSize: 128, seed: 0, progress: false,
  onEpochStart: (e) => m.beforeEpoch?.(e),
  onStep: ({ loss, batch }) => { m.afterStep?.(batch); losses.push(loss) },
  onEpochEnd: (r) => {
    const start = losses.length - spe
    const spikes = losses.slice(start).filter((l, i) => { const prev = losses.slice(Math.max(0, start + i - 20), start + i).sort((a, b) => a - b); return prev.length > 5 && l > 1.5 * prev[prev.length >> 1]! }).length
    const ep = losses.slice(start), sorted = [...ep].sort((a, b) => a - b), med = sorted[sorted.length >> 1]!
    console.log(`epoch ${r.epoch} beta ${m.beta().toFixed(2)} train ${(-r.trainLoss).toFixed(1)} median ${(-med).toFixed(1)} worst ${(-sorted.at(-1)!).toFixed(1)} spikes(>1.5× running median) ${spikes}`)
  } })
