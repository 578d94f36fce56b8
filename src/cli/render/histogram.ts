/**
 * Bar charts of counts per category as standalone SVG, e.g. how often each code
 * of a VQ-VAE codebook is used.
 *
 * @example
 * writeFileSync('codes.svg', histogramSvg([5, 0, 12, 3], { title: 'Code usage', xLabel: 'code' }))
 */
import { InvalidArgumentError } from '../../errors.js'
import { axes, escapeXml, formatTick, linear, niceTicks, svgDocument, type Frame } from './svg-common.js'

/** Titles and optional size (default 640×400) of a {@link histogramSvg} chart. */
export interface HistogramOptions {
  readonly title: string
  readonly xLabel: string
  /** Y-axis label (default `'count'`). */
  readonly yLabel?: string
  readonly width?: number
  readonly height?: number
}

const bar = (i: number, count: number, sx: (v: number) => number, sy: (v: number) => number): string => {
  const x = sx(i)
  const w = Math.max(0.5, Math.round((sx(i + 1) - x) * 0.85 * 100) / 100)
  const y = sy(count)
  return `<rect class="bar" x="${x}" y="${y}" width="${w}" height="${Math.round((sy(0) - y) * 100) / 100}" fill="#1f77b4"><title>${i}: ${count}</title></rect>`
}

/**
 * A bar per entry of `counts` (bar `i` is category `i`), with a y axis from 0
 * to a nice maximum, about ten index ticks, and a subtitle saying how many
 * categories were used at all (`used 37 of 512`).
 *
 * @throws InvalidArgumentError if a count is negative or not finite.
 * @example
 * const svg = histogramSvg(usage, { title: 'VQ code usage (test set)', xLabel: 'code index' })
 */
export const histogramSvg = (counts: readonly number[], options: HistogramOptions): string => {
  const bad = counts.findIndex((c) => !Number.isFinite(c) || c < 0)
  if (bad >= 0) throw new InvalidArgumentError(`histogramSvg: counts[${bad}] must be a finite number >= 0, got ${counts[bad]}`)
  const f: Frame = { width: options.width ?? 640, height: options.height ?? 400, left: 70, right: 20, top: 60, bottom: 50 }
  const k = counts.length
  const max = counts.reduce((m, c) => Math.max(m, c), 0)
  const yt = niceTicks(0, max > 0 ? max : 1, 5, counts.every(Number.isInteger))
  const sx = linear(0, Math.max(1, k), f.left, f.width - f.right)
  const sy = linear(0, yt.hi, f.height - f.bottom, f.top)
  const xt = niceTicks(0, Math.max(0, k - 1), 10, true)
  const xTicks = xt.ticks.filter((t) => t < k).map((t) => ({ at: Math.round((sx(t) + sx(t + 1)) * 50) / 100, label: formatTick(t, xt.step) }))
  const yTicks = yt.ticks.map((t) => ({ at: sy(t), label: formatTick(t, yt.step) }))
  const used = counts.filter((c) => c > 0).length
  const subtitle = `<text class="subtitle" x="${(f.left + f.width - f.right) / 2}" y="${f.top - 10}" text-anchor="middle" fill="#555">${escapeXml(`used ${used} of ${k}`)}</text>`
  const bars = counts.map((c, i) => (c > 0 ? bar(i, c, sx, sy) : '')).filter((s) => s !== '')
  const body = [axes(f, xTicks, yTicks, { title: options.title, xLabel: options.xLabel, yLabel: options.yLabel ?? 'count' }), subtitle, ...bars]
  return svgDocument(f.width, f.height, body.join('\n'))
}
