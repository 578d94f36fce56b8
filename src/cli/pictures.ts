/**
 * The pictures and the report page of a run: samples, reconstructions,
 * latent traversals, per-class samples (conditional models), the model's
 * extras (VQ-VAE codebook and code usage), the ELBO curves and report.html.
 * Tensors are read into arrays and freed at once; files are written atomically.
 */
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import type { Dataset } from '../data/index.js'
import type { Extra } from '../models/image-model.js'
import { modelImages } from './data.js'
import { classesPng, curvesSvg, histogramSvg, encodePng, imageGrid, reconstructionsPng, reportHtml, samplesPng, traversalPng, writeFileAtomic } from './render/index.js'
import type { Figure, ImageBatch } from './render/index.js'
import type { Metrics, RunConfig } from './run-files.js'
import type { Session } from './session.js'
import { classifierFigure } from './classifier-report.js'

/** Reads images [n, h, w, c] (c > 1 averaged to gray) into an ImageBatch and disposes them. */
export const readImages = async (images: tf.Tensor4D): Promise<ImageBatch> => {
  const [, height, width, c] = images.shape
  try {
    const gray = c === 1 ? images : tf.mean(images, 3)
    try { return { data: Float32Array.from(await gray.data()), height, width } } finally { if (gray !== images) gray.dispose() }
  } finally {
    images.dispose()
  }
}

const countOf = (b: ImageBatch): number => b.data.length / (b.height * b.width)

/** Traversal grid size: the 16×16 manifold for a 2-D latent, else one row per latent dim (at most 10) of 11 steps. */
const traversalSize = (zDim: number): readonly [number, number] => (zDim === 2 ? [16, 16] : [Math.min(zDim, 10), 11])

const save = async (dir: string, file: string, data: string | Uint8Array): Promise<void> => writeFileAtomic(path.join(dir, file), data)

/** samples.png: 64 draws from the model. */
const samplesFigure = async (dir: string, s: Session): Promise<Figure> => {
  await save(dir, 'samples.png', samplesPng(await readImages(s.model.sample(64, s.config.seed))))
  return { title: 'Samples', file: 'samples.png', caption: '64 images drawn from the model (mean of p(x | z) for z from the prior).' }
}

/** reconstructions.png: the first 32 test images next to their mean reconstructions. */
const reconstructionsFigure = async (dir: string, s: Session, test: Dataset): Promise<Figure> => {
  const n = Math.min(32, test.size)
  const [x, y] = tf.tidy(() => [modelImages(tf.slice(test.images, 0, n), s.entry.binary), tf.slice(test.labels, 0, n)] as [tf.Tensor4D, tf.Tensor1D])
  try {
    const outputs = await readImages(s.model.reconstruct(x, y))
    const inputs = await readImages(tf.clone(x))
    await save(dir, 'reconstructions.png', reconstructionsPng(inputs, outputs, n, { pairsPerRow: 4 }))
  } finally {
    tf.dispose([x, y])
  }
  return { title: 'Reconstructions', file: 'reconstructions.png', caption: `The first ${n} test images${s.entry.binary ? ' (binarised)' : ''}, each followed by its reconstruction (decoder mean at the encoder's mean).` }
}

/** traversal.png: rows of decoded latent traversals (the manifold for a 2-D latent). */
const traversalFigure = async (dir: string, s: Session): Promise<Figure> => {
  const [rows, steps] = traversalSize(s.config.zDim)
  const all = await readImages(s.model.traverse(rows, steps, s.config.seed))
  const size = all.height * all.width
  const perRow = Math.round(countOf(all) / rows)
  const batches = Array.from({ length: rows }, (_, r) => ({ ...all, data: all.data.subarray(r * perRow * size, (r + 1) * perRow * size) }))
  await save(dir, 'traversal.png', traversalPng(batches))
  const caption = s.config.zDim === 2
    ? 'The decoded latent manifold: z₁ from −3 (left) to 3 (right), z₂ from 3 (top) to −3 (bottom).'
    : `Latent traversals: row i varies latent dimension i from −3 to 3 with the others at 0 (first ${rows} of ${s.config.zDim} dimensions).`
  return { title: 'Latent traversal', file: 'traversal.png', caption }
}

/** classes.png: 8 samples of each class, one row per class (conditional models). */
const classesFigure = async (dir: string, s: Session): Promise<Figure> => {
  const k = s.config.numClasses, per = 8
  const images = tf.tidy(() => tf.concat(Array.from({ length: k }, (_, c) => s.model.sample(per, s.config.seed + c, c)), 0))
  await save(dir, 'classes.png', classesPng(await readImages(images), k, per))
  return { title: 'Samples by class', file: 'classes.png', caption: `${per} samples for each class, one row per class (0 at the top).` }
}

const slug = (title: string): string => title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'extra'

/** One model extra: an image grid (PNG) or a count histogram (SVG). */
const extraFigure = async (dir: string, extra: Extra): Promise<{ readonly image?: Figure; readonly svg?: Figure }> => {
  if (extra.images !== undefined) {
    const batch = await readImages(extra.images)
    const n = countOf(batch), cols = Math.ceil(Math.sqrt(n))
    const file = `${slug(extra.title)}.png`
    await save(dir, file, encodePng(imageGrid(batch.data, { count: n, height: batch.height, width: batch.width, rows: Math.ceil(n / cols), cols, scale: batch.height < 8 ? 8 : 2 })))
    return { image: { title: extra.title, file, caption: extra.caption } }
  }
  if (extra.counts === undefined) return {}
  const file = `${slug(extra.title)}.svg`
  await save(dir, file, histogramSvg(extra.counts, { title: extra.title, xLabel: 'index' }))
  return { svg: { title: extra.title, file, caption: extra.caption } }
}

/** elbo.svg: train and test ELBO per epoch (the caption says which train figures are β-weighted). */
const elboFigure = async (dir: string, metrics: Metrics, warmupEpochs = 0): Promise<Figure> => {
  const train = metrics.epochs.map((e) => [e.epoch, e.trainElbo] as const)
  const test = metrics.epochs.flatMap((e) => (e.testElbo === null ? [] : [[e.epoch, e.testElbo] as const]))
  await save(dir, 'elbo.svg', curvesSvg([{ name: 'train ELBO', points: train }, { name: 'test ELBO', points: test }], { title: 'ELBO per epoch', xLabel: 'epoch', yLabel: 'ELBO (nats per image)' }))
  const warmup = warmupEpochs > 0 ? ` In the first ${warmupEpochs} epochs (KL warm-up) the train figure is the β-weighted objective (β < 1), which lies above the ELBO; the test ELBO is always the ELBO itself (β = 1).` : ''
  return { title: 'ELBO', file: 'elbo.svg', caption: `Train ELBO (running mean over each epoch) and test ELBO (end of each epoch), nats per image; higher is better.${warmup}` }
}

/** Every picture of the run: the PNG figures and the SVG charts. */
const drawAll = async (dir: string, s: Session, test: Dataset, metrics: Metrics): Promise<{ images: Figure[]; svgs: Figure[] }> => {
  const images = [await samplesFigure(dir, s), await reconstructionsFigure(dir, s, test), await traversalFigure(dir, s)]
  if (s.entry.conditional) images.push(await classesFigure(dir, s))
  const svgs = [await elboFigure(dir, metrics, s.entry.warmupEpochs)]
  for (const extra of s.model.extras?.() ?? []) {
    const f = await extraFigure(dir, extra)
    if (f.image !== undefined) images.push(f.image)
    if (f.svg !== undefined) svgs.push(f.svg)
  }
  return { images, svgs }
}

const describeData = (c: RunConfig): string => `${c.data.source}${c.data.limit === null ? '' : ` (first ${c.data.limit} train and test images)`}${c.binarized ? ', binarised at 0.5' : ''}`

/**
 * Draws every picture of a trained session into `dir` and writes `dir/report.html`
 * showing them with the metrics; returns the report's path.
 *
 * @example const page = await writeReport('runs/vae', session, test, metrics)
 */
export const writeReport = async (dir: string, s: Session, test: Dataset, metrics: Metrics): Promise<string> => {
  const { images, svgs } = await drawAll(dir, s, test, metrics)
  const c = s.config
  const details: Array<readonly [string, string]> = [
    ['model', c.model], ['data', describeData(c)], ['latent dimensions', String(c.zDim)], ['hidden layers', c.hidden.join(', ')],
    ['batch size', String(c.batchSize)], ['seed', String(c.seed)], ['epochs (planned)', String(c.epochs)],
  ]
  if (c.labelsPerClass !== undefined) details.push(['labels per class', String(c.labelsPerClass)])
  const classifier = await classifierFigure(dir, s, test)   // models with a classifier: confusion.svg and the test accuracy
  if (classifier !== undefined) { svgs.push(classifier.figure); details.push(classifier.detail) }
  const epochs = metrics.epochs.map((e) => ({ epoch: e.epoch, trainElbo: e.trainElbo, seconds: e.seconds, ...(e.testElbo === null ? {} : { testElbo: e.testElbo }) }))
  const html = reportHtml({
    title: `tfppl ${c.model} on ${path.basename(c.data.source)}`, backend: metrics.backend,
    ...(metrics.nativeAccelerator === undefined ? {} : { accelerator: metrics.nativeAccelerator }), metrics: { epochs }, images, svgs, details,
  })
  const file = path.join(dir, 'report.html')
  await writeFileAtomic(file, html)
  return file
}
