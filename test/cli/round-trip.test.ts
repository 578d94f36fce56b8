/**
 * The whole command in-process on 256 bundled digits with a tiny network:
 * train (interrupted after epoch 1) → train --resume → sample → eval --json → report.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import * as E from 'fp-ts/lib/Either.js'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/main.js'
import { REGISTRY } from '../../src/cli/models.js'
import type { ModelEntry } from '../../src/cli/models.js'
import { MetricsCodec, RunConfigCodec } from '../../src/cli/run-files.js'
import { capture } from './helpers.js'

/** The size of a grid PNG of rows × cols 28×28 cells (pad 1, scale 2). */
const gridSize = (rows: number, cols: number) => ({ width: (cols * 29 + 1) * 2, height: (rows * 29 + 1) * 2 })

const pngSize = async (file: string) => {
  const png = PNG.sync.read(await fs.readFile(file))
  return { width: png.width, height: png.height }
}

const readMetrics = async (dir: string) => {
  const m = MetricsCodec.decode(JSON.parse(await fs.readFile(path.join(dir, 'metrics.json'), 'utf8')))
  if (E.isLeft(m)) throw new Error('metrics.json does not decode')
  return m.right
}

const TRAIN = ['train', 'vae', '--limit', '256', '--hidden', '32', '--z-dim', '2', '--batch-size', '64', '--seed', '3']

describe('tfppl train → sample → eval → report', () => {
  let root = '', dir = '', tensorsBefore = 0, modelLeak = 0
  let creations: { mock: { calls: unknown[] } } | undefined

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-cli-'))
    dir = path.join(root, 'run')
    const entry = REGISTRY.vae as ModelEntry
    // What building and disposing the model itself leaves behind (not the command's doing), counted per model built.
    const t0 = tf.memory().numTensors
    entry.create({ imageShape: [28, 28, 1], numClasses: 10, zDim: 2, hidden: [32], seed: 3 }).dispose()
    modelLeak = tf.memory().numTensors - t0
    creations = vi.spyOn(entry, 'create')
    tensorsBefore = tf.memory().numTensors
  })
  afterAll(async () => {
    vi.restoreAllMocks()
    await fs.rm(root, { recursive: true, force: true })
  })

  it('Ctrl-C (an aborted signal) stops after the current step with a checkpoint and metrics, exit 130', async () => {
    const stop = new AbortController()
    stop.abort()
    const c = capture(stop.signal)
    expect(await main([...TRAIN, '--epochs', '2', '--out', dir], c.io)).toBe(130)
    expect(c.err()).toContain('stopping after this step')
    expect(c.err()).toContain('stopped after 1 step of epoch 1 (--resume repeats that epoch from its start, with the weights saved now)')
    expect((await readMetrics(dir)).epochs).toEqual([])
    expect(existsSync(path.join(dir, 'checkpoint', 'manifest.json'))).toBe(true)
    expect(existsSync(path.join(dir, 'report.html'))).toBe(false)
  })

  it('refuses to train into an existing run without --resume (exit 2)', async () => {
    const c = capture()
    expect(await main([...TRAIN, '--out', dir], c.io)).toBe(2)
    expect(c.err()).toBe(`tfppl train: ${dir} already holds a run; pass --resume to continue it, or choose another --out\n`)
  })

  it('refuses --resume with settings that contradict config.json (exit 2)', async () => {
    const c = capture()
    expect(await main([...TRAIN, '--z-dim', '3', '--out', dir, '--resume'], c.io)).toBe(2)
    expect(c.err()).toContain('tfppl train: --z-dim 3 does not match the run being resumed')
  })

  it('--resume continues the epoch numbering and writes every output', async () => {
    const c = capture()
    expect(await main([...TRAIN, '--epochs', '2', '--out', dir, '--resume'], c.io)).toBe(0)
    expect(c.err()).toContain('resuming')
    expect(c.out()).toBe(`report: ${path.join(dir, 'report.html')}\n`)
    const metrics = await readMetrics(dir)
    expect(metrics.backend).toBe(tf.getBackend())
    expect(metrics.epochs.map((e) => e.epoch)).toEqual([1, 2])
    for (const e of metrics.epochs) {
      expect(Number.isFinite(e.trainElbo) && e.trainElbo < 0).toBe(true)
      expect(e.testElbo !== null && Number.isFinite(e.testElbo) && e.testElbo < 0).toBe(true)
      expect(e.seconds).toBeGreaterThan(0)
    }
    const config = RunConfigCodec.decode(JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')))
    expect(E.isRight(config) && config.right).toMatchObject({ model: 'vae', zDim: 2, hidden: [32], seed: 3, epochs: 2, data: { source: 'mnist', limit: 256 } })
  })

  it('--resume on a finished run trains nothing and redraws the same pictures from the checkpoint', async () => {
    const before = await fs.readFile(path.join(dir, 'samples.png'))
    await fs.rm(path.join(dir, 'samples.png'))
    const c = capture()
    expect(await main([...TRAIN, '--epochs', '2', '--out', dir, '--resume'], c.io)).toBe(0)
    expect(c.err()).toContain('is already trained for 2 epochs')
    expect((await readMetrics(dir)).epochs.map((e) => e.epoch)).toEqual([1, 2])
    expect((await fs.readFile(path.join(dir, 'samples.png'))).equals(before)).toBe(true)
  })

  it('the pictures have the right sizes and the report shows them all', async () => {
    expect(await pngSize(path.join(dir, 'samples.png'))).toEqual(gridSize(8, 8))
    expect(await pngSize(path.join(dir, 'reconstructions.png'))).toEqual(gridSize(8, 8))   // 32 pairs, 4 per row
    expect(await pngSize(path.join(dir, 'traversal.png'))).toEqual(gridSize(16, 16))       // the 2-D manifold
    const svg = await fs.readFile(path.join(dir, 'elbo.svg'), 'utf8')
    expect(svg).toContain('<svg')
    expect(svg).toContain('test ELBO')
    const html = await fs.readFile(path.join(dir, 'report.html'), 'utf8')
    for (const f of ['samples.png', 'reconstructions.png', 'traversal.png', 'elbo.svg']) expect(html).toContain(`src="${f}"`)
  })

  it('sample writes an n-image grid', async () => {
    const c = capture()
    expect(await main(['sample', dir, '--n', '16'], c.io)).toBe(0)
    expect(c.out()).toBe(`${path.join(dir, 'samples.png')}\n`)
    expect(await pngSize(path.join(dir, 'samples.png'))).toEqual(gridSize(4, 4))
    const cls = capture()
    expect(await main(['sample', dir, '--class', '1'], cls.io)).toBe(2)
    expect(cls.err()).toBe('tfppl sample: --class needs a class-conditional model (cvae); this run is a vae\n')
  })

  it('eval --json prints exactly { testElbo, iwae }, finite, with IWAE ≥ ELBO', async () => {
    const c = capture()
    expect(await main(['eval', dir, '--iwae', '20', '--n', '64', '--json'], c.io)).toBe(0)
    const r = JSON.parse(c.out()) as Record<string, unknown>
    expect(Object.keys(r)).toEqual(['testElbo', 'iwae'])
    const { testElbo, iwae } = r as { testElbo: number; iwae: number }
    expect(Number.isFinite(testElbo) && Number.isFinite(iwae)).toBe(true)
    expect(iwae).toBeGreaterThanOrEqual(testElbo - 1)
    expect(iwae).toBeLessThan(0)
  })

  it('eval without --json prints both numbers in words', async () => {
    const c = capture()
    expect(await main(['eval', dir, '--iwae', '2', '--n', '8'], c.io)).toBe(0)
    expect(c.out()).toMatch(/^test ELBO {2}-\d+\.\d{3} nats\/image \(first 8 test images\)\nIWAE-2 {2}-\d+\.\d{3} nats\/image/)
  })

  it('report redraws the pictures and the page', async () => {
    await fs.rm(path.join(dir, 'traversal.png'))
    const c = capture()
    expect(await main(['report', dir], c.io)).toBe(0)
    expect(c.out()).toBe(`report: ${path.join(dir, 'report.html')}\n`)
    expect(existsSync(path.join(dir, 'traversal.png'))).toBe(true)
  })

  it('leaves no tensors behind (beyond what the model constructor itself leaks, if anything)', () => {
    expect(modelLeak).toBeGreaterThanOrEqual(0)
    expect(tf.memory().numTensors - tensorsBefore).toBe((creations?.mock.calls.length ?? 0) * modelLeak)
  })
})

describe('the built command', () => {
  const bin = path.resolve('dist/cli/main.js')
  it.skipIf(!existsSync(bin))('node dist/cli/main.js --help prints the usage and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 30_000 })
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('tfppl train <vae|cvae|ladder|vqvae|ssvae>')
  })
})
