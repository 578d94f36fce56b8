/**
 * Line charts (e.g. train and test ELBO per epoch) as standalone SVG, without
 * any charting library.
 *
 * @example
 * writeFileSync('elbo.svg', curvesSvg([{ name: 'train', points: [[1, -120], [2, -105]] }], { title: 'ELBO', xLabel: 'epoch', yLabel: 'ELBO (nats)' }))
 */
import { axes, escapeXml, formatTick, linear, niceTicks, svgDocument, type ChartLabels, type Frame } from './svg-common.js'

/** One named line: its `[x, y]` points, drawn in the given order. */
export interface Series {
  readonly name: string
  readonly points: readonly (readonly [number, number])[]
}

/** Titles and optional size (default 640×400) of a {@link curvesSvg} chart. */
export interface CurvesOptions extends ChartLabels {
  readonly width?: number
  readonly height?: number
}

/** Line colours, cycled through by series index. */
export const PALETTE: readonly string[] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']

const LEGEND_WIDTH = 140

const finitePoints = (s: Series): (readonly [number, number])[] =>
  s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))

const extent = (values: readonly number[]): [number, number] =>
  values.length === 0 ? [0, 1] : values.reduce<[number, number]>(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity])

const legend = (series: readonly Series[], x: number, y: number): string =>
  series.map((s, i) => {
    const colour = PALETTE[i % PALETTE.length] ?? '#000'
    const cy = y + i * 18
    return `<g class="legend-item"><line x1="${x}" x2="${x + 20}" y1="${cy}" y2="${cy}" stroke="${colour}" stroke-width="2"/>` +
      `<text x="${x + 26}" y="${cy + 4}">${escapeXml(s.name)}</text></g>`
  }).join('\n')

const line = (points: readonly (readonly [number, number])[], colour: string, name: string, sx: (v: number) => number, sy: (v: number) => number): string => {
  const coords = points.map(([x, y]) => `${sx(x)},${sy(y)}`)
  const only = points[0]
  const dot = points.length === 1 && only !== undefined ? `<circle cx="${sx(only[0])}" cy="${sy(only[1])}" r="3" fill="${colour}"/>` : ''
  return `<polyline data-series="${escapeXml(name)}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round" points="${coords.join(' ')}"/>${dot}`
}

/**
 * A line chart of one or more series with axes, nice ticks, grid lines, a title,
 * axis labels and a legend. The y range is the data's, rounded out to whole
 * ticks; x ticks are whole numbers when every x is. Points with a non-finite
 * coordinate are left out (one `<polyline>` per series holds the rest).
 *
 * @example
 * const svg = curvesSvg(
 *   [{ name: 'train ELBO', points: history.map((e) => [e.epoch, e.trainElbo] as const) }],
 *   { title: 'ELBO per epoch', xLabel: 'epoch', yLabel: 'nats' },
 * )
 */
export const curvesSvg = (series: readonly Series[], options: CurvesOptions): string => {
  const f: Frame = { width: options.width ?? 640, height: options.height ?? 400, left: 70, right: LEGEND_WIDTH + 20, top: 40, bottom: 50 }
  const kept = series.map(finitePoints)
  const xs = kept.flatMap((ps) => ps.map((p) => p[0]))
  const ys = kept.flatMap((ps) => ps.map((p) => p[1]))
  const [xLo, xHi] = extent(xs)
  const xt = niceTicks(xLo, xHi, 8, xs.every(Number.isInteger))
  const yt = niceTicks(...extent(ys), 5)
  const [xMin, xMax] = xLo < xHi ? [xLo, xHi] : [xt.lo, xt.hi]
  const sx = linear(xMin, xMax, f.left, f.width - f.right)
  const sy = linear(yt.lo, yt.hi, f.height - f.bottom, f.top)
  const xTicks = xt.ticks.filter((t) => t >= xMin - 1e-9 && t <= xMax + 1e-9).map((t) => ({ at: sx(t), label: formatTick(t, xt.step) }))
  const yTicks = yt.ticks.map((t) => ({ at: sy(t), label: formatTick(t, yt.step) }))
  const lines = series.map((s, i) => line(kept[i] ?? [], PALETTE[i % PALETTE.length] ?? '#000', s.name, sx, sy))
  const empty = xs.length === 0 ? `<text x="${(f.left + f.width - f.right) / 2}" y="${f.height / 2}" text-anchor="middle" fill="#999">no data</text>` : ''
  const body = [axes(f, xTicks, yTicks, options), ...lines, empty, legend(series, f.width - LEGEND_WIDTH, f.top + 10)]
  return svgDocument(f.width, f.height, body.filter((s) => s !== '').join('\n'))
}
