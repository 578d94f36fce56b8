/**
 * `tfppl eval`: the test ELBO and the IWAE-K estimate of log p(x) (importance
 * sampling with the guide as proposal, K samples per image) on the first N
 * test images, in nats per image. Images are taken in chunks so memory stays
 * bounded whatever N and K are.
 */
import * as tf from '@tensorflow/tfjs-core'
import { logMarginal } from '../inference/log-marginal.js'
import type { Dataset } from '../data/index.js'
import type { EvalFlags } from './codecs.js'
import { loadData, programArgs } from './data.js'
import { EXIT } from './errors.js'
import type { CliIO } from './io.js'
import { openRun } from './session.js'
import type { Session } from './session.js'

/** Defaults of `tfppl eval`. */
export const EVAL_DEFAULTS = { iwae: 100, n: 1000 } as const

/** Images per chunk, and importance samples per `logMarginal` batch. */
const CHUNK = 100
const DRAWS_PER_BATCH = 25

/** The two numbers `eval` reports (nats per image). */
export interface EvalResult {
  readonly testElbo: number
  readonly iwae: number
}

/** Sums of the ELBO and of the log-likelihood estimate over one chunk of images. */
const chunkSums = async (s: Session, args: tf.Tensor[], count: number, k: number, seed: number): Promise<readonly [number, number]> => {
  const { model, guide } = s.model
  const elboSum = -(await s.svi.evaluate(model, guide, ...args)) * count
  const lp = logMarginal(model, guide, args, { numParticles: k, batch: Math.min(k, DRAWS_PER_BATCH), seed, handlers: [s.svi.params.handler] })
  try {
    const total = tf.sum(lp)
    try { return [elboSum, (await total.data())[0]!] } finally { total.dispose() }
  } finally {
    lp.dispose()
  }
}

/**
 * The mean test ELBO and IWAE-K estimate over the first `n` images of `test`.
 *
 * @example const { testElbo, iwae } = await evaluateRun(session, test, 1000, 100, 0, () => {})
 */
export const evaluateRun = async (s: Session, test: Dataset, n: number, k: number, seed: number, onChunk: (done: number) => void): Promise<EvalResult> => {
  let elbo = 0, lp = 0
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start)
    const args = programArgs(s.model, test, s.entry.binary, start, count)
    try {
      const [e, l] = await chunkSums(s, args, count, k, seed + start)
      elbo += e; lp += l
    } finally {
      tf.dispose(args)
    }
    onChunk(start + count)
  }
  return { testElbo: elbo / n, iwae: lp / n }
}

/**
 * `tfppl eval DIR [--iwae K] [--n N] [--seed S] [--json]`; resolves to the exit code.
 *
 * @example await evaluateCommand('runs/vae', { iwae: 100, json: true }, io)
 */
export const evaluateCommand = async (dir: string, flags: EvalFlags, io: CliIO): Promise<number> => {
  const session = await openRun(dir)
  const data = loadData(session.config.data)
  data.train.dispose()
  try {
    const n = Math.min(flags.n ?? EVAL_DEFAULTS.n, data.test.size), k = flags.iwae ?? EVAL_DEFAULTS.iwae
    const tick = (done: number): void => { if (io.stderrIsTTY) io.stderr(`\r\x1b[Keval: ${done}/${n} test images (IWAE-${k})`) }
    const r = await evaluateRun(session, data.test, n, k, flags.seed ?? session.config.seed, tick)
    if (io.stderrIsTTY) io.stderr('\r\x1b[K')
    io.stdout(flags.json === true ? `${JSON.stringify({ testElbo: r.testElbo, iwae: r.iwae })}\n`
      : `test ELBO  ${r.testElbo.toFixed(3)} nats/image (first ${n} test images)\n` +
        `IWAE-${k}  ${r.iwae.toFixed(3)} nats/image (log-likelihood estimate, ${k} importance samples per image)\n`)
    return EXIT.ok
  } finally {
    data.test.dispose()
    session.dispose()
  }
}
