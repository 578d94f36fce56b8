/**
 * The semi-supervised VAE (M2) target of issue 19: per seed, the SSVAE trained by `svi.fit` on a
 * labelled and an unlabelled stream (Pyro's ss_vae_M2 protocol: grey input, z 50, hidden 500,
 * enumerated y, α = 46 per labelled point, Adam 4.2e-4, batch 200, `labels-per-class` random labels
 * per class from the first 50,000 training images, the other 49,000 unlabelled, labelled batches
 * spread among them), the mean epoch time, and the supervised-only baseline on the same labelled
 * subset in the same run.
 *
 * Read-out, the same for the SSVAE and the baseline (Pyro's example's protocol): training images
 * 50,000–60,000, never trained on, are the validation set; validation and test accuracy of q(y | x)
 * after every epoch (kept in the results JSON); reported are the last epoch's test accuracy and the
 * test accuracy at the epoch of best validation accuracy (the earliest on ties, as Pyro's `<`).
 *
 * Usage: npx tsx bench/ssvae.ts [--epochs 50] [--seeds 0,1,2] [--labels-per-class 100] [--alpha 46]
 *   [--threads 1|2] [--loss enum|elbo] [--max-steps N] [--baseline-epochs 100]
 *   [--scale-link softplus|exp] [--beta1 0.9] [--adam-eps 1e-7] [--init default|pyro] [--pyro-steps] [--name NAME]
 * Pyro-faithful: --scale-link exp --beta1 0.95 --adam-eps 1e-8 (its README's `-b1 0.95`, torch's
 * Adam ε, its encoder's `Exp` scale); --init pyro: hidden layers N(0, 0.001) as its MLP (the
 * baseline then runs with both initialisations).
 * --pyro-steps: Pyro's example steps its one shared Adam twice per batch — its ELBO's SVI, then its
 * auxiliary loss's SVI, whose trace holds every parameter (`pyro.module`) and so updates every one of
 * them, with a zero gradient (`zero_grads` leaves zeros, not None) on unlabelled batches and wherever
 * the auxiliary term does not reach. Emulated: after each update, a second one with zero gradients
 * (on labelled batches the auxiliary gradient stays in the first update, with the ELBO's).
 * `--loss elbo` samples y (score function) instead of enumerating it. The enumerated loss turns off
 * the no-enumerated-site warning (the labelled batches observe y: nothing to enumerate), as the CLI does.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { backendInfo, elbo, enumElbo, initBackend, setNative, ssvae, svi } from 'tfppl'
import type { Loss } from 'tfppl'
import { arg, list, loadSplits } from './ssvae-common.js'
import { evaluate, pct, pyroInit, readOut, splitData, trainBaselineCurve, word } from './ssvae-baseline.js'
import type { EpochAccuracy, ReadOut, SplitData } from './ssvae-baseline.js'

const [epochs, perClass, alpha, threads, maxSteps, baselineEpochs] = [arg('epochs', 50), arg('labels-per-class', 100), arg('alpha', 46), arg('threads', 1), arg('max-steps', Infinity), arg('baseline-epochs', 100)]
const [beta1, adamEps] = [arg('beta1', 0.9), arg('adam-eps', 1e-7)]
const seeds = list('seeds', [0, 1, 2])
const lossName = word('loss', 'enum')
const scaleLink = word('scale-link', 'softplus')
const init = word('init', 'default')
const pyroSteps = process.argv.includes('--pyro-steps')
if (scaleLink !== 'softplus' && scaleLink !== 'exp') throw new Error(`bench/ssvae: --scale-link must be softplus or exp; got ${scaleLink}`)
if (init !== 'default' && init !== 'pyro') throw new Error(`bench/ssvae: --init must be default or pyro; got ${init}`)
await initBackend()
if (backendInfo().name === 'wasm') setNative(backendInfo().native, threads)
const makeLoss = (): Loss => lossName === 'enum' ? enumElbo({ maxPlateNesting: 1, strictEnumerationWarning: false }) : elbo()
const { train, test, source } = loadSplits()
const info = backendInfo()
const settings = `scale link ${scaleLink}, Adam 4.2e-4 β1 ${beta1} β2 0.999 ε ${adamEps}${pyroSteps ? ' applied twice per batch (the second with zero gradients, as Pyro\'s example)' : ''}, ${init} init`

/** tfjs's Adam, each update followed by one with zero gradients (Pyro's example's second SVI step); not fused (its own class name). */
class TwiceAdam extends tf.AdamOptimizer {
  override getClassName(): string { return 'TwiceAdam' }
  override applyGradients(grads: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    super.applyGradients(grads)
    const named: Array<[string, tf.Tensor]> = Array.isArray(grads) ? grads.map((g) => [g.name, g.tensor]) : Object.entries(grads)
    const zeros = named.map(([name, g]) => ({ name, tensor: tf.zerosLike(g) }))
    super.applyGradients(zeros)
    tf.dispose(zeros.map((z) => z.tensor))
  }
}
const adam = (): tf.Optimizer => pyroSteps ? new TwiceAdam(4.2e-4, beta1, 0.999, adamEps) : tf.train.adam(4.2e-4, beta1, 0.999, adamEps)
console.log(`ssvae on ${source}: ${perClass} labels per class, α ${alpha}, loss ${lossName}, ${settings}, ${epochs} epochs${Number.isFinite(maxSteps) ? ` (at most ${maxSteps} steps)` : ''}; ${info.name}, native ${info.nativeStatus}`)

/** Trains one seed's SSVAE; its per-epoch validation and test accuracy, read-outs, epoch times and steps. */
const trainSsvae = async (seed: number, d: SplitData) => {
  const m = ssvae({ alpha, seed, scaleLink })
  if (init === 'pyro') for (const [i, net] of [m.networks.classifier, m.networks.encoder, m.networks.decoder].entries()) pyroInit(net, i === 0 ? seed : seed + 1000 * i)
  const s = svi({ optimizer: adam(), loss: makeLoss(), seed })
  const abort = new AbortController()
  const curve: EpochAccuracy[] = []
  const h = await s.fit(m.model, m.guide, { streams: [{ data: [d.xl, d.yl] }, { data: [d.xu] }], schedule: 'spread' }, {
    epochs, batchSize: 200, seed, progress: false, signal: abort.signal,
    onStep: ({ step }) => { if (step >= maxSteps) abort.abort() },
    onEpochEnd: (r) => {
      const a = evaluate(m.networks.classifier, d, r.epoch)
      curve.push(a)
      console.log(`  seed ${seed} epoch ${r.epoch}: loss ${r.trainLoss.toFixed(2)}, ${r.seconds.toFixed(1)} s, validation ${pct(a.validation)}, test ${pct(a.test)}`)
    },
  })
  s.params.dispose(); s.optimizer.dispose(); m.dispose()
  return { curve, readOut: readOut(curve), epochSeconds: h.epochs.map((r) => r.seconds), steps: h.steps }
}

const gain = (a: number | undefined, b: number | undefined) => a === undefined || b === undefined ? undefined : 100 * (a - b)
const signed = (g: number | undefined) => g === undefined ? '—' : `${g >= 0 ? '+' : ''}${g.toFixed(2)}`
const rows = []
for (const seed of seeds) {
  const d = splitData(train, test, perClass, seed)
  const t0 = performance.now()
  const r = await trainSsvae(seed, d)
  const seconds = (performance.now() - t0) / 1000
  // The baseline with the SSVAE's classifier initialisation; with --init pyro also with the default one.
  const baseRun = baselineEpochs > 0 ? await trainBaselineCurve(d, seed, baselineEpochs, init) : undefined
  const base: ReadOut | undefined = baseRun?.readOut
  const baseDefault = baselineEpochs > 0 && init === 'pyro' ? await trainBaselineCurve(d, seed, baselineEpochs, 'default') : undefined
  d.dispose()
  const row = {
    seed, sizes: d.sizes, steps: r.steps, seconds, epochSeconds: r.epochSeconds,
    ssvae: r.readOut, baseline: base, ...(baseDefault === undefined ? {} : { baselineDefaultInit: baseDefault.readOut }),
    gainLast: gain(r.readOut.last.test, base?.last.test), gainSelected: gain(r.readOut.selected?.test, base?.selected?.test),
    curve: r.curve, baselineCurve: baseRun?.curve, ...(baseDefault === undefined ? {} : { baselineDefaultInitCurve: baseDefault.curve }),
  }
  rows.push(row)
  console.log(`seed ${seed}: ssvae last (epoch ${r.readOut.last.epoch}) ${pct(r.readOut.last.test)}, at best validation (epoch ${r.readOut.selected?.epoch ?? '—'}, ${pct(r.readOut.selected?.validation)}) ${pct(r.readOut.selected?.test)}; ${r.steps} steps, ${seconds.toFixed(1)} s (${(seconds / r.steps * 1000).toFixed(1)} ms/step incl. evaluation)`)
  if (base !== undefined) console.log(`seed ${seed}: baseline (${init} init) last ${pct(base.last.test)}, at best validation (epoch ${base.selected?.epoch ?? '—'}, ${pct(base.selected?.validation)}) ${pct(base.selected?.test)}; gain last ${signed(row.gainLast)}, selected ${signed(row.gainSelected)} points`)
  if (baseDefault !== undefined) console.log(`seed ${seed}: baseline (default init) last ${pct(baseDefault.readOut.last.test)}, at best validation (epoch ${baseDefault.readOut.selected?.epoch ?? '—'}) ${pct(baseDefault.readOut.selected?.test)}`)
}
const mean = (xs: Array<number | undefined>) => xs.some((x) => x === undefined) || xs.length === 0 ? undefined : (xs as number[]).reduce((a, b) => a + b, 0) / xs.length
const epochTimes = rows.flatMap((r) => r.epochSeconds)
const summary = {
  ssvaeLast: mean(rows.map((r) => r.ssvae.last.test)), ssvaeSelected: mean(rows.map((r) => r.ssvae.selected?.test)),
  baselineLast: mean(rows.map((r) => r.baseline?.last.test)), baselineSelected: mean(rows.map((r) => r.baseline?.selected?.test)),
  gainLast: mean(rows.map((r) => r.gainLast)), gainSelected: mean(rows.map((r) => r.gainSelected)),
  epochSeconds: mean(epochTimes),
}
console.log(`mean over seeds ${seeds.join(', ')}: ssvae last ${pct(summary.ssvaeLast)}, selected ${pct(summary.ssvaeSelected)}; baseline last ${pct(summary.baselineLast)}, selected ${pct(summary.baselineSelected)}; gain last ${signed(summary.gainLast)}, selected ${signed(summary.gainSelected)} points; epoch ${summary.epochSeconds === undefined ? 'not completed' : `${summary.epochSeconds.toFixed(1)} s`} (${threads} thread${threads === 1 ? '' : 's'})`)
const pyroFaithful = scaleLink === 'exp' && beta1 === 0.95 && adamEps === 1e-8
const name = word('name', `${lossName}-${perClass}pc-a${alpha}-${epochs}epochs${Number.isFinite(maxSteps) ? `-max${maxSteps}steps` : ''}-t${threads}${pyroFaithful ? '-pyroopt' : scaleLink !== 'softplus' || beta1 !== 0.9 || adamEps !== 1e-7 ? `-${scaleLink}-b${beta1}-eps${adamEps}` : ''}${init === 'pyro' ? '-pyroinit' : ''}${pyroSteps ? '-pyrosteps' : ''}-val`)
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/ssvae-${name}-seeds${seeds.join('_')}.json`, JSON.stringify({
  protocol: `ssvae M2: grey input, z 50, hidden 500, y ${lossName === 'enum' ? 'enumerated' : 'sampled (score function)'}, α ${alpha} per labelled point, ${settings}, batch 200, ${perClass} labels per class from the first 50,000 training images (seeded), the rest of them unlabelled, 'spread' schedule; validation = training images 50,000–60,000; read-outs (SSVAE and baseline alike): last epoch's test accuracy, test accuracy at the earliest best-validation epoch; baseline ${baselineEpochs} epochs, Adam 1e-3, batch 100, the SSVAE's classifier init`,
  source, backend: info.name, native: info.nativeStatus, threads, scaleLink, beta1, adamEps, init, pyroSteps, alpha, epochs, ...(Number.isFinite(maxSteps) ? { maxSteps } : {}), summary, rows,
}, null, 2) + '\n')
train.dispose(); test.dispose()
