/**
 * Training progress on stderr: on a terminal, one line per epoch redrawn in
 * place (bar, %, steps/s, ETA, running ELBO); otherwise one plain line per
 * finished epoch, so logs stay readable.
 */

/** Where progress goes. */
export interface ProgressSink {
  readonly write: (text: string) => void
  /** Redraw in place (`\r`) when true. */
  readonly tty: boolean
}

/** Per-epoch summary given to {@link Progress.epochEnd}. */
export interface EpochSummary {
  readonly epoch: number
  readonly trainElbo: number
  readonly testElbo: number | null
  readonly seconds: number
  /** A KL warm-up epoch: the train ELBO is the β-weighted objective (β < 1), not the ELBO. */
  readonly warmup?: boolean
}

/** The progress display of one training run. */
export interface Progress {
  readonly epochStart: (epoch: number) => void
  /** After each step, with the step's loss (−ELBO per image). */
  readonly step: (loss: number) => void
  readonly epochEnd: (e: EpochSummary) => void
  /** A message on its own line (clears a bar being drawn). */
  readonly note: (text: string) => void
}

const BAR = 24
const REDRAW_MS = 100

/** `m:ss` (or `h:mm:ss`). @example clock(75) // '1:15' */
export const clock = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return '?:??'
  const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m)
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`
}

/**
 * The progress line: `epoch 3/10 [#####·······]  42%  18.5 steps/s  ETA 0:07  ELBO -123.45`.
 *
 * @example progressLine({ epoch: 3, epochs: 10, done: 21, total: 50, seconds: 1.2, elbo: -123.4 })
 */
export const progressLine = (p: { epoch: number; epochs: number; done: number; total: number; seconds: number; elbo: number }): string => {
  const frac = Math.min(1, p.done / Math.max(1, p.total))
  const filled = Math.round(frac * BAR)
  const rate = p.seconds > 0 ? p.done / p.seconds : 0
  const eta = rate > 0 ? (p.total - p.done) / rate : NaN
  return `epoch ${p.epoch}/${p.epochs} [${'#'.repeat(filled)}${'·'.repeat(BAR - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%  ` +
    `${rate.toFixed(1)} steps/s  ETA ${clock(eta)}  ELBO ${Number.isFinite(p.elbo) ? p.elbo.toFixed(2) : '…'}`
}

/**
 * The finished-epoch line; in a KL warm-up epoch the train figure is labelled as β-weighted.
 *
 * @example epochLine({ epoch: 1, trainElbo: -200, testElbo: -180, seconds: 14 }, 10)
 */
export const epochLine = (e: EpochSummary, epochs: number): string =>
  `epoch ${e.epoch}/${epochs}  train ELBO ${e.trainElbo.toFixed(2)}${e.warmup === true ? ' (β-weighted, KL warm-up)' : ''}  ` +
  `test ELBO ${e.testElbo === null ? '—' : e.testElbo.toFixed(2)}  ${e.seconds.toFixed(1)} s`

/**
 * A progress display for `epochs` epochs (numbered up to `epochs`) of `stepsPerEpoch` steps.
 *
 * @example
 * const p = progress({ write: (s) => process.stderr.write(s), tty: process.stderr.isTTY }, 10, 63)
 */
export const progress = (sink: ProgressSink, epochs: number, stepsPerEpoch: number): Progress => {
  let epoch = 0, done = 0, lossSum = 0, t0 = 0, lastDraw = 0, drawn = false
  const clear = (): void => { if (drawn) { sink.write('\r\x1b[K'); drawn = false } }
  const draw = (force: boolean): void => {
    const now = performance.now()
    if (!sink.tty || (!force && now - lastDraw < REDRAW_MS)) return
    lastDraw = now
    sink.write(`\r\x1b[K${progressLine({ epoch, epochs, done, total: stepsPerEpoch, seconds: (now - t0) / 1000, elbo: done > 0 ? -lossSum / done : NaN })}`)
    drawn = true
  }
  return {
    epochStart: (e) => { epoch = e; done = 0; lossSum = 0; t0 = performance.now(); draw(true) },
    step: (loss) => { done++; lossSum += loss; draw(done === stepsPerEpoch) },
    epochEnd: (e) => { clear(); sink.write(`${epochLine(e, epochs)}\n`) },
    note: (text) => { clear(); sink.write(`${text}\n`) },
  }
}
