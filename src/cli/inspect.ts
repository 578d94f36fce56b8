/**
 * `tfppl sample` and `tfppl report`: read a trained run (config.json and the
 * checkpoint) and draw from it.
 */
import * as path from 'node:path'
import { backendInfo } from '../backend/init.js'
import type { SampleFlags } from './codecs.js'
import { loadData } from './data.js'
import { EXIT, UsageError } from './errors.js'
import type { CliIO } from './io.js'
import { readImages, writeReport } from './pictures.js'
import { encodePng, imageGrid, writeFileAtomic } from './render/index.js'
import { readMetrics } from './run-files.js'
import { openRun } from './session.js'
import type { Session } from './session.js'

/** Checks `--class` against the run: only conditional models take it, and it must be a class of the data. */
const checkClass = (s: Session, cls: number | undefined): void => {
  if (cls === undefined) return
  if (!s.entry.conditional) throw new UsageError(`tfppl sample: --class needs a class-conditional model (cvae); this run is a ${s.config.model}`)
  if (cls >= s.config.numClasses) throw new UsageError(`tfppl sample: --class expects a class in 0..${s.config.numClasses - 1}; got ${cls}`)
}

/**
 * `tfppl sample DIR [--n 64] [--class c] [--seed S]`: n draws in a square grid,
 * written to DIR/samples.png (DIR/samples-class-c.png with --class); prints the path.
 *
 * @example await sampleCommand('runs/vae', { n: 16 }, io)
 */
export const sampleCommand = async (dir: string, flags: SampleFlags, io: CliIO): Promise<number> => {
  const s = await openRun(dir)
  try {
    checkClass(s, flags.class)
    const n = flags.n ?? 64
    const batch = await readImages(s.model.sample(n, flags.seed ?? s.config.seed, flags.class))
    const cols = Math.ceil(Math.sqrt(n))
    const png = encodePng(imageGrid(batch.data, { count: n, height: batch.height, width: batch.width, rows: Math.ceil(n / cols), cols }))
    const file = path.join(dir, flags.class === undefined ? 'samples.png' : `samples-class-${flags.class}.png`)
    await writeFileAtomic(file, png)
    io.stdout(`${file}\n`)
    return EXIT.ok
  } finally {
    s.dispose()
  }
}

/**
 * `tfppl report DIR`: redraws every picture from the checkpoint and rewrites DIR/report.html; prints its path.
 *
 * @example await reportCommand('runs/vae', io)
 */
export const reportCommand = async (dir: string, io: CliIO): Promise<number> => {
  const s = await openRun(dir)
  try {
    const data = loadData(s.config.data)
    data.train.dispose()
    try {
      const file = await writeReport(dir, s, data.test, await readMetrics(dir, backendInfo().name))
      io.stdout(`report: ${file}\n`)
    } finally {
      data.test.dispose()
    }
    return EXIT.ok
  } finally {
    s.dispose()
  }
}
