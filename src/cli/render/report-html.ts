/**
 * The HTML report page of a `tfppl` run: one self-contained file (inline CSS, no
 * scripts) with the per-epoch metrics and every figure with its caption. Figures
 * are referenced by relative file name, so the page and its pictures are kept
 * together in one output folder.
 *
 * @example
 * await writeFileAtomic('out/index.html', reportHtml({ title: 'VAE on MNIST', backend: 'wasm', metrics: { epochs }, images: [], svgs: [] }))
 */
import { escapeXml } from './svg-common.js'

/** One epoch's row of the metrics table (ELBO per data point, in nats; wall-clock seconds). */
export interface EpochMetrics {
  readonly epoch: number
  readonly trainElbo: number
  /** Absent when the run has no test set or skipped evaluation this epoch. */
  readonly testElbo?: number
  readonly seconds: number
}

/** A picture on the page: its heading, its file name relative to the page, and a caption. */
export interface Figure {
  readonly title: string
  readonly file: string
  readonly caption?: string
}

/** Everything a report shows. `details` are extra key–value facts (model, data set, seed…). */
export interface ReportInput {
  readonly title: string
  readonly backend: string
  /** The native accelerator's state when the run trained ('active (OpenBLAS 0.3.21, pthread build, 1 thread)', or why not); shown beside the backend. */
  readonly accelerator?: string
  readonly metrics: { readonly epochs: readonly EpochMetrics[] }
  readonly images: readonly Figure[]
  readonly svgs: readonly Figure[]
  readonly details?: readonly (readonly [string, string])[]
}

const CSS = `
body { font-family: Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 960px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; } th { background: #f3f3f3; }
td.key { text-align: left; font-weight: bold; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
figcaption { color: #444; margin-top: 0.3rem; }
`.trim()

const esc = escapeXml

/** A relative file name as a URL: each path segment percent-encoded, then HTML-escaped. */
const relUrl = (file: string): string => esc(file.split('/').map(encodeURIComponent).join('/'))

const num = (v: number | undefined, digits: number): string =>
  v === undefined ? '—' : Number.isFinite(v) ? v.toFixed(digits) : String(v)

const metricsTable = (epochs: readonly EpochMetrics[]): string => {
  if (epochs.length === 0) return '<p class="empty">No epochs were recorded.</p>'
  const rows = epochs.map((e) =>
    `<tr><td>${num(e.epoch, 0)}</td><td>${num(e.trainElbo, 3)}</td><td>${num(e.testElbo, 3)}</td><td>${num(e.seconds, 1)}</td></tr>`)
  const head = '<tr><th>epoch</th><th>train ELBO</th><th>test ELBO</th><th>seconds</th></tr>'
  return `<table class="metrics">\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`
}

const summary = (epochs: readonly EpochMetrics[]): string => {
  const last = epochs[epochs.length - 1]
  if (last === undefined) return ''
  const tests = epochs.flatMap((e) => (e.testElbo !== undefined && Number.isFinite(e.testElbo) ? [e.testElbo] : []))
  const best = tests.length > 0 ? `; best test ELBO ${num(Math.max(...tests), 3)}` : ''
  const total = epochs.reduce((s, e) => s + e.seconds, 0)
  return `<p class="summary">Final train ELBO ${num(last.trainElbo, 3)}, test ELBO ${num(last.testElbo, 3)}${best}; ${epochs.length} epochs in ${num(total, 1)} s.</p>`
}

const detailsTable = (details: readonly (readonly [string, string])[]): string =>
  details.length === 0 ? '' :
    `<table class="details">\n${details.map(([k, v]) => `<tr><td class="key">${esc(k)}</td><td>${esc(v)}</td></tr>`).join('\n')}\n</table>`

const figure = (f: Figure): string =>
  `<figure>\n<h3>${esc(f.title)}</h3>\n<img src="${relUrl(f.file)}" alt="${esc(f.title)}">\n` +
  (f.caption !== undefined && f.caption !== '' ? `<figcaption>${esc(f.caption)}</figcaption>\n` : '') + '</figure>'

const section = (heading: string, figures: readonly Figure[]): string =>
  figures.length === 0 ? '' : `<section>\n<h2>${esc(heading)}</h2>\n${figures.map(figure).join('\n')}\n</section>`

/**
 * Renders the report page. All text (titles, captions, backend, details) is
 * HTML-escaped and file names are percent-encoded, so no input can inject markup.
 * Metrics show 3 decimals; a missing test ELBO shows as `—`, a non-finite one as `NaN`/`Infinity`.
 *
 * @example
 * const html = reportHtml({
 *   title: 'VAE on MNIST', backend: 'wasm', accelerator: 'active (OpenBLAS 0.3.21, pthread build, 1 thread)',
 *   metrics: { epochs: [{ epoch: 1, trainElbo: -120.5, testElbo: -118.2, seconds: 12.3 }] },
 *   images: [{ title: 'Samples', file: 'samples.png', caption: '64 draws from the prior' }],
 *   svgs: [{ title: 'ELBO', file: 'elbo.svg' }],
 * })
 */
export const reportHtml = (input: ReportInput): string => {
  const { epochs } = input.metrics
  const body = [
    `<h1>${esc(input.title)}</h1>`,
    `<p class="meta">Backend: ${esc(input.backend)}${input.accelerator === undefined ? '' : `; native accelerator: ${esc(input.accelerator)}`}</p>`,
    detailsTable(input.details ?? []),
    `<section>\n<h2>Metrics</h2>\n${summary(epochs)}\n${metricsTable(epochs)}\n</section>`,
    section('Charts', input.svgs),
    section('Pictures', input.images),
  ]
  return '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(input.title)}</title>\n` +
    `<style>\n${CSS}\n</style>\n</head>\n<body>\n${body.filter((s) => s !== '').join('\n')}\n</body>\n</html>\n`
}
