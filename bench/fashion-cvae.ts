/**
 * CVAE on Fashion-MNIST (same protocol as the VAE: binarised at 0.5, MLP 784-400,
 * z 50, Adam 1e-3, batch 128, learned conditional prior), then class fidelity by the
 * judges of bench/judges.ts (small classifiers trained on the real training images). Usage: npx tsx bench/fashion-cvae.ts [--epochs 10] [--seed 0] [--prior conditional|independent] [--fidelity-every N] [--analytic-kl] [--z-dim 50] [--hidden 400[,400…]] [--samples-per-class 1000] [--glorot] [--conv-judge-epochs E]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { binarize, cvae, elbo, fashionMnist, initBackend, svi } from 'tfppl'
import { trainJudges, verdicts } from './judges.js'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const [epochs, seed, zDim, perClassN] = [arg('epochs', 10), arg('seed', 0), arg('z-dim', 50), arg('samples-per-class', 1000)]
const init = process.argv.includes('--glorot') ? 'glorot' as const : 'fanIn' as const
const prior = process.argv.includes('--prior') && process.argv[process.argv.indexOf('--prior') + 1] === 'independent' ? 'independent' : 'conditional'
await initBackend()
const { train, test } = fashionMnist()
const hiddenArg = process.argv.indexOf('--hidden')
const hidden = hiddenArg >= 0 ? process.argv[hiddenArg + 1]!.split(',').map(Number) : [400]
const m = cvae({ imageShape: [28, 28, 1], numClasses: 10, zDim, hidden, prior, init, seed })
const bin = binarize.fixed(0.5)
const [x, c] = m.inputs(bin(train.images) as tf.Tensor4D, train.labels)
const [xt, ct] = m.inputs(bin(test.images) as tf.Tensor4D, test.labels)
const fidelityEvery = arg('fidelity-every', epochs)
const kl = process.argv.includes('--analytic-kl') ? 'auto' as const : 'mc' as const

const judges = trainJudges(train, test, arg('conv-judge-epochs', 0))

const fidelityByEpoch: Record<string, number>[] = []
const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo({ kl }), seed })
const h = await s.fit(m.model, m.guide, [x!, c!], { epochs, batchSize: 128, seed, validation: [xt!, ct!], progress: false,
  onEpochEnd: (r) => {
    console.log(`epoch ${r.epoch}: train ELBO ${(-r.trainLoss).toFixed(2)}, conditional test ELBO ${(-r.validationLoss!).toFixed(2)}`)
    if (r.epoch % fidelityEvery === 0 && r.epoch < epochs) {
      fidelityByEpoch.push({ epoch: r.epoch, ...Object.fromEntries(Object.entries(verdicts(m, judges, perClassN, seed)).map(([k, v]) => [k, v.fidelity])) })
    }
  } })
const final = verdicts(m, judges, perClassN, seed)
fidelityByEpoch.push({ epoch: epochs, ...Object.fromEntries(Object.entries(final).map(([k, v]) => [k, v.fidelity])) })
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/fashion-cvae-${prior}${kl === 'auto' ? '-analytic-kl' : ''}${zDim === 50 ? '' : `-z${zDim}`}${hidden.join() === '400' ? '' : `-h${hidden.join('-')}`}${init === 'glorot' ? '-glorot' : ''}${epochs === 10 ? '' : `-${epochs}epochs`}-seed${seed}.json`, JSON.stringify({
  protocol: `fashion-mnist cvae 784-${hidden.join('-')}-${zDim}, ${prior} prior, ${kl === 'auto' ? 'analytic' : 'Monte Carlo'} KL`, prior, kl, seed, zDim, hidden, init, samplesPerClass: perClassN,
  epochs: h.epochs.map((r) => ({ epoch: r.epoch, trainElbo: -r.trainLoss, testElbo: -r.validationLoss!, seconds: r.seconds })),
  ...final, fidelityByEpoch,
}, null, 2) + '\n')
