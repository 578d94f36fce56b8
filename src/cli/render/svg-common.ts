/**
 * Shared pieces of the hand-written SVG charts: escaping, "nice" axis ticks,
 * linear scales and a framed pair of axes with title and labels.
 *
 * @example
 * niceTicks(0.13, 9.7).ticks // [0, 2, 4, 6, 8, 10]
 */

/**
 * Escapes text for XML/HTML content and attribute values (`& < > " '`).
 *
 * @example
 * escapeXml('<script>') // '&lt;script&gt;'
 */
export const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)

/** An axis range rounded out to whole ticks, with the ticks and their step. */
export interface Ticks {
  readonly lo: number
  readonly hi: number
  readonly step: number
  readonly ticks: readonly number[]
}

/** The 1-, 2- or 5-times-a-power-of-ten step nearest `raw` from above. */
const niceStep = (raw: number): number => {
  const p = 10 ** Math.floor(Math.log10(raw))
  const m = raw / p
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p
}

/**
 * Ticks for a data range: about `target` steps of 1, 2 or 5 × 10^k, the range
 * rounded out to whole steps. An empty or one-point range is widened around its
 * value; `integer` forces steps of at least 1 (for epoch or index axes).
 *
 * @example
 * niceTicks(1, 3, 5, true).ticks // [1, 2, 3]
 */
export const niceTicks = (lo: number, hi: number, target = 5, integer = false): Ticks => {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return niceTicks(0, 1, target, integer)
  if (hi - lo <= 0) {
    const half = integer ? 1 : Math.abs(lo) * 0.1 || 1
    return niceTicks(lo - half, hi + half, target, integer)
  }
  const step = Math.max(niceStep((hi - lo) / target), integer ? 1 : 0)
  const first = Math.floor(lo / step + 1e-9)
  const last = Math.ceil(hi / step - 1e-9)
  const ticks = Array.from({ length: last - first + 1 }, (_, i) => (first + i) * step)
  return { lo: first * step, hi: last * step, step, ticks }
}

/**
 * Formats a tick value with just enough decimals for its step (no `-0`, no
 * binary noise like `0.30000000000000004`).
 *
 * @example
 * formatTick(0.30000000000000004, 0.1) // '0.3'
 */
export const formatTick = (v: number, step: number): string => {
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)))
  const s = v.toFixed(decimals)
  return Number(s) === 0 ? (0).toFixed(decimals) : s
}

/** The plot area of a chart, in SVG user units. */
export interface Frame {
  readonly width: number
  readonly height: number
  readonly left: number
  readonly right: number
  readonly top: number
  readonly bottom: number
}

/**
 * A linear map from `[d0, d1]` to `[r0, r1]` (rounded to 0.01 for compact output).
 *
 * @example
 * linear(0, 10, 0, 100)(5) // 50
 */
export const linear = (d0: number, d1: number, r0: number, r1: number) => (v: number): number =>
  Math.round((r0 + ((v - d0) / (d1 - d0)) * (r1 - r0)) * 100) / 100

/** Titles of a chart and its axes. */
export interface ChartLabels {
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
}

/** X positions with their label text, for axes whose labels are not plain numbers. */
export type TickMarks = readonly { readonly at: number; readonly label: string }[]

/**
 * The frame's axes, grid lines, tick labels, title and axis labels, as SVG elements.
 * `xTicks` and `yTicks` are already in user units.
 *
 * @example
 * axes(frame, [{ at: 70, label: '0' }], [{ at: 350, label: '0' }], { title: 'ELBO', xLabel: 'epoch', yLabel: 'nats' })
 */
export const axes = (f: Frame, xTicks: TickMarks, yTicks: TickMarks, labels: ChartLabels): string => {
  const [x0, x1, y0, y1] = [f.left, f.width - f.right, f.height - f.bottom, f.top]
  const out = [
    `<text class="title" x="${(x0 + x1) / 2}" y="${f.top / 2 + 6}" text-anchor="middle" font-size="16">${escapeXml(labels.title)}</text>`,
    ...yTicks.map((t) => `<line class="grid" x1="${x0}" x2="${x1}" y1="${t.at}" y2="${t.at}" stroke="#e5e5e5"/>` +
      `<text x="${x0 - 6}" y="${t.at + 4}" text-anchor="end">${escapeXml(t.label)}</text>`),
    ...xTicks.map((t) => `<line class="tick" x1="${t.at}" x2="${t.at}" y1="${y0}" y2="${y0 + 5}" stroke="#333"/>` +
      `<text x="${t.at}" y="${y0 + 18}" text-anchor="middle">${escapeXml(t.label)}</text>`),
    `<line class="axis" x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" stroke="#333"/>`,
    `<line class="axis" x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#333"/>`,
    `<text class="x-label" x="${(x0 + x1) / 2}" y="${f.height - 8}" text-anchor="middle">${escapeXml(labels.xLabel)}</text>`,
    `<text class="y-label" transform="translate(16 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(labels.yLabel)}</text>`,
  ]
  return out.join('\n')
}

/**
 * Wraps chart elements in a standalone SVG document (XML declaration, namespace,
 * white background, a sans-serif 12px default font).
 *
 * @example
 * svgDocument(640, 400, '<circle cx="5" cy="5" r="2"/>')
 */
export const svgDocument = (width: number, height: number, body: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
  `font-family="Helvetica, Arial, sans-serif" font-size="12">\n` +
  `<rect width="100%" height="100%" fill="#fff"/>\n${body}\n</svg>\n`
