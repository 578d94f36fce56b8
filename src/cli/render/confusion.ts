/**
 * A classifier's confusion matrix as standalone SVG: one cell per (true class,
 * predicted class), shaded by the fraction of the true class it holds, with the
 * count written in it and the per-class recall at the end of each row.
 *
 * @example
 * writeFileSync('confusion.svg', confusionSvg([[8, 2], [1, 9]], { title: 'Test set', classNames: ['cat', 'dog'] }))
 */
import { InvalidArgumentError } from '../../errors.js'
import { escapeXml, svgDocument } from './svg-common.js'

/** Title and optional class names (default 0 … K − 1) of a {@link confusionSvg} chart. */
export interface ConfusionOptions {
  readonly title: string
  readonly classNames?: readonly string[]
}

const CELL = 44, LEFT = 120, TOP = 110

/** Blue at `share` of full strength (white at 0). */
const shade = (share: number): string => {
  const mix = (c: number) => Math.round(255 - share * (255 - c))
  return `rgb(${mix(31)},${mix(119)},${mix(180)})`
}

/** Checks the matrix: square K × K (K ≥ 1), counts finite integers ≥ 0; class names one per class. */
const check = (m: readonly (readonly number[])[], names: readonly string[] | undefined): void => {
  const k = m.length
  if (k === 0 || m.some((row) => row.length !== k)) throw new InvalidArgumentError(`confusionSvg: the matrix must be square K × K with K ≥ 1; got rows of lengths ${JSON.stringify(m.map((r) => r.length))}`)
  m.forEach((row, i) => row.forEach((c, j) => {
    if (!Number.isInteger(c) || c < 0) throw new InvalidArgumentError(`confusionSvg: matrix[${i}][${j}] must be a count (an integer ≥ 0); got ${c}`)
  }))
  if (names !== undefined && names.length !== k) throw new InvalidArgumentError(`confusionSvg: ${names.length} class names for ${k} classes; expected one per class`)
}

/** Row i of the chart: its label, K cells and the row's recall. */
const row = (counts: readonly number[], i: number, label: string): string => {
  const total = counts.reduce((a, b) => a + b, 0)
  const y = TOP + i * CELL
  const cells = counts.map((c, j) => {
    const share = total === 0 ? 0 : c / total
    const x = LEFT + j * CELL
    return `<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${shade(share)}" stroke="#ddd"><title>${escapeXml(`true ${label}, predicted column ${j}: ${c}`)}</title></rect>` +
      `<text x="${x + CELL / 2}" y="${y + CELL / 2 + 4}" text-anchor="middle" font-size="11" fill="${share > 0.5 ? '#fff' : '#222'}">${c}</text>`
  })
  const recall = total === 0 ? '—' : `${((100 * (counts[i] ?? 0)) / total).toFixed(1)}%`
  const k = counts.length
  return [`<text x="${LEFT - 6}" y="${y + CELL / 2 + 4}" text-anchor="end" font-size="12">${escapeXml(label)}</text>`, ...cells,
    `<text x="${LEFT + k * CELL + 6}" y="${y + CELL / 2 + 4}" font-size="12" fill="#555">${recall}</text>`].join('\n')
}

/**
 * The confusion matrix `m` (m[i][j]: points of true class i predicted as j): rows are true classes,
 * columns predictions, each cell shaded by its share of the row and labelled with its count; the
 * right column gives each class's recall and the subtitle the overall accuracy.
 *
 * @throws InvalidArgumentError if `m` is not square or holds a count that is not an integer ≥ 0.
 * @example const svg = confusionSvg(counts, { title: 'q(y | x) on the test set', classNames: FASHION_MNIST_CLASSES })
 */
export const confusionSvg = (m: readonly (readonly number[])[], options: ConfusionOptions): string => {
  check(m, options.classNames)
  const k = m.length
  const names = options.classNames ?? m.map((_, i) => String(i))
  const total = m.flat().reduce((a, b) => a + b, 0)
  const correct = m.reduce((a, r, i) => a + (r[i] ?? 0), 0)
  const width = LEFT + k * CELL + 70, height = TOP + k * CELL + 40
  const heads = names.map((n, j) => `<text x="${LEFT + j * CELL + CELL / 2}" y="${TOP - 8}" text-anchor="end" font-size="11" transform="rotate(-40 ${LEFT + j * CELL + CELL / 2} ${TOP - 8})">${escapeXml(n)}</text>`)
  const body = [
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<text class="subtitle" x="${width / 2}" y="40" text-anchor="middle" fill="#555" font-size="12">${escapeXml(`accuracy ${total === 0 ? '—' : `${((100 * correct) / total).toFixed(2)}%`} (${correct} of ${total}); rows: true class, columns: predicted; right: recall`)}</text>`,
    ...heads, ...m.map((r, i) => row(r, i, names[i]!)),
  ]
  return svgDocument(width, height, body.join('\n'))
}
