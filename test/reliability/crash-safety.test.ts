/**
 * Crash safety of `tfppl train`: the command runs as a child process (`node --import tsx
 * src/cli/main.ts`, no build needed) on a tiny IDX data set (256 + 64 real digits) and is
 * killed with SIGKILL at seeded random moments, then resumed with `--resume`, again and again.
 * After every kill the run directory must hold a loadable checkpoint at least as far as the
 * child had reported, and whole config.json / metrics.json; the run finished through kills and
 * resumes must equal an uninterrupted run bit for bit. Ctrl-C (SIGINT) must save and exit 130
 * with a resumable checkpoint.
 *
 * The children run on this process's backend, except on cpu, where they are forced to wasm
 * (TFPPL_BACKEND=wasm): the pure-JS backend is ~10× slower and the kill loop would not fit.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backendInfo } from '../../src/backend/init.js'
import { FASHION_MNIST_FILES, encodeIdx, mnistDigits } from '../../src/data/index.js'
import type { Dataset } from '../../src/data/index.js'
import { loadCheckpoint } from '../../src/inference/checkpoint.js'
import { decodeCheckpoint } from '../../src/inference/checkpoint-manifest.js'
import type { Manifest } from '../../src/inference/checkpoint-manifest.js'
import { checkpointEpochs, readConfig, readMetrics, runPaths } from '../../src/cli/run-files.js'
import { openRun } from '../../src/cli/session.js'
import { kill, killAll, seeded, sleep, spawnTs } from './children.js'

/** `s` as a literal in a RegExp. */
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

const EPOCHS = 40            // of every run; the kills stop before the last few
const KILLS = 6
const STEPS_PER_EPOCH = 8    // 256 images, batches of 32
/** This process's backend for the children, wasm instead of cpu (read once the setup has chosen it). */
const childEnv = (): Record<string, string> => ({ TFPPL_BACKEND: backendInfo().name === 'cpu' ? 'wasm' : backendInfo().name })

let root = '', data = ''
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-kill-train-'))
  data = path.join(root, 'digits')
  await fs.mkdir(data)
  const { train, test } = mnistDigits()
  const write = async (ds: Dataset, n: number, images: string, labels: string) => {
    const pixels = Uint8Array.from(ds.images.dataSync().subarray(0, n * 784), (v) => Math.round(v * 255))
    await fs.writeFile(path.join(data, images), encodeIdx('images', [n, 28, 28], pixels))
    await fs.writeFile(path.join(data, labels), encodeIdx('labels', [n], Uint8Array.from(ds.labels.dataSync().subarray(0, n))))
  }
  await write(train, 256, FASHION_MNIST_FILES.trainImages, FASHION_MNIST_FILES.trainLabels)
  await write(test, 64, FASHION_MNIST_FILES.testImages, FASHION_MNIST_FILES.testLabels)
  train.dispose(); test.dispose()
})
afterAll(async () => {
  await killAll()
  await fs.rm(root, { recursive: true, force: true })
})

const train = (out: string, epochs: number, resume: boolean) => spawnTs('src/cli/main.ts', [
  'train', 'vae', '--data', data, '--hidden', '32', '--z-dim', '2', '--batch-size', '32', '--seed', '3',
  '--epochs', String(epochs), '--out', out, ...(resume ? ['--resume'] : []),
], childEnv())

/** What a kill may leave in a run directory besides its files: a swap's backup, temporary directories and files. */
const RUN_FILE = /^(config\.json|metrics\.json|checkpoint|checkpoint\.backup|checkpoint\.tmp-\d+-[0-9a-f]{12}|\.(config|metrics)\.json\.\d+-[0-9a-f]{12}\.tmp)$/

const manifestOf = async (dir: string): Promise<Manifest> => {
  const file = runPaths(dir).manifest
  return decodeCheckpoint(file, await fs.readFile(file, 'utf8'))
}

/**
 * Checks a run directory after a kill: whole config.json and metrics.json, a checkpoint that loads
 * (params and optimizer state) holding at least `reported` epochs, metrics at most one epoch behind
 * it. Returns the checkpoint's epoch and whether the kill left temporary files behind.
 */
const checkRun = async (dir: string, reported: number): Promise<{ epoch: number; leftovers: number }> => {
  const names = await fs.readdir(dir)
  names.forEach((n) => { expect(n).toMatch(RUN_FILE) })
  await readConfig(dir)
  const records = await checkpointEpochs(dir)
  const epoch = records?.at(-1)?.epoch ?? 0
  expect(records?.map((r) => r.epoch)).toEqual(Array.from({ length: epoch }, (_, i) => i + 1))
  expect(epoch, 'the checkpoint holds fewer epochs than the child had reported done').toBeGreaterThanOrEqual(reported)
  const metrics = (await readMetrics(dir, '')).epochs.map((e) => e.epoch)
  expect(metrics).toEqual(Array.from({ length: metrics.length }, (_, i) => i + 1))
  expect(metrics.length).toBeGreaterThanOrEqual(epoch - 1)
  expect(metrics.length).toBeLessThanOrEqual(epoch)
  const session = await openRun(dir)   // config decoded, model rebuilt, params loaded
  try {
    const { state, extra } = await loadCheckpoint(runPaths(dir).checkpoint, { store: session.svi.params, optimizer: session.svi.optimizer })
    expect({ step: state?.step, epoch: extra?.['epoch'] }).toEqual({ step: epoch * STEPS_PER_EPOCH, epoch })
  } finally {
    session.dispose()
  }
  return { epoch, leftovers: names.filter((n) => n.includes('.tmp') || n.endsWith('.backup')).length }
}

/** The epoch number of the last `epoch k/N …` line a child printed (0 if none). */
const lastEpochLine = (lines: readonly string[]): number =>
  lines.reduce((k, l) => { const m = /^epoch (\d+)\/\d+ {2}train ELBO/.exec(l); return m === null ? k : Number(m[1]) }, 0)

describe('SIGKILL during tfppl train, then --resume', () => {
  it(`${KILLS} kills at random moments: a loadable checkpoint after each, and the resumed run equals an uninterrupted one bit for bit`, async () => {
    const killed = path.join(root, 'killed'), straight = path.join(root, 'straight')
    const reference = train(straight, EPOCHS, false)   // meanwhile, the uninterrupted run
    const rand = seeded(20261121)
    let epoch = 0, leftovers = 0
    for (let k = 0; k < KILLS; k++) {
      const child = train(killed, EPOCHS, true)
      // Wait for 0–3 more epochs (at least one in the first run, so that there is a checkpoint), then 0–200 ms more.
      const more = Math.floor(rand() * 4) + (k === 0 ? 1 : 0)
      await (more === 0 ? child.waitFor(/^tfppl: resuming/, 'err') : child.waitFor(new RegExp(`^epoch ${epoch + more}/${EPOCHS} `), 'err'))
      await sleep(rand() * 200)
      const ending = await kill(child)
      expect(ending.signal, child.transcript()).toBe('SIGKILL')
      const after = await checkRun(killed, Math.max(epoch, lastEpochLine(child.lines('err'))))
      expect(after.epoch).toBeGreaterThanOrEqual(epoch)
      epoch = after.epoch
      leftovers += after.leftovers
    }
    expect(epoch).toBeLessThan(EPOCHS)
    // A kill inside metrics.json's write leaves its temporary file (rarely hit at random: plant one, of a dead process).
    await fs.writeFile(path.join(killed, `.metrics.json.${2 ** 22 + 1}-0123456789ab.tmp`), '{"backend": "wa')
    const last = train(killed, EPOCHS, true)
    expect((await last.closed).code, last.transcript()).toBe(0)
    expect(last.lines('err')[0]).toMatch(new RegExp(`^tfppl: resuming ${escape(killed)} after epoch ${epoch} of ${EPOCHS} on \\w+, native accelerator: `))
    expect((await reference.closed).code, reference.transcript()).toBe(0)

    // Bit for bit: every epoch's ELBOs, and the final params and optimizer state (the SHA-256 of weights.bin).
    const [a, b] = await Promise.all([readMetrics(killed, ''), readMetrics(straight, '')])
    expect(a.epochs.map((e) => [e.epoch, e.trainElbo, e.testElbo])).toEqual(b.epochs.map((e) => [e.epoch, e.trainElbo, e.testElbo]))
    const [ma, mb] = await Promise.all([manifestOf(killed), manifestOf(straight)])
    expect({ sha: ma.weightsSha256, state: ma.state, epoch: ma.extra?.['epoch'] }).toEqual({ sha: mb.weightsSha256, state: mb.state, epoch: EPOCHS })
    const names = (await fs.readdir(killed)).filter((n) => !n.endsWith('.png') && !n.endsWith('.svg') && !n.endsWith('.html'))
    expect(names.sort()).toEqual(['checkpoint', 'config.json', 'metrics.json'])   // resuming removed what the kills left
    console.info(`crash-safety: ${KILLS} SIGKILLs of tfppl train survived (checkpoint reached epoch ${epoch} of ${EPOCHS}; ${leftovers} temporary files or directories seen after kills); the resumed run equals the uninterrupted one bit for bit`)
  }, 180_000)
})

describe('Ctrl-C (SIGINT) during tfppl train', () => {
  it('saves and exits 130 with a checkpoint of the interrupted step; --resume then finishes the run', async () => {
    const dir = path.join(root, 'interrupted')
    const child = train(dir, 1000, false)
    await child.waitFor(/^epoch 2\/1000 /, 'err')
    await sleep(seeded(5)() * 100)
    child.proc.kill('SIGINT')
    const ending = await child.closed
    expect(ending.code, child.transcript()).toBe(130)
    const err = child.lines('err').join('\n')
    expect(err).toContain('tfppl: interrupted; stopping after this step with a checkpoint')
    const stopped = /tfppl: stopped after (?:(\d+) steps? of epoch (\d+) \(--resume repeats that epoch from its start, with the weights saved now\)|epoch (\d+)); checkpoint and metrics saved in (.*) \(continue with --resume\)$/m.exec(err)
    expect(stopped, err).not.toBeNull()
    expect(stopped![4]).toBe(dir)
    // Mid-epoch: the params of the last step, saved under the last complete epoch; at an epoch's end: that epoch.
    const [steps, complete] = stopped![1] === undefined ? [0, Number(stopped![3])] : [Number(stopped![1]), Number(stopped![2]) - 1]
    const m = await manifestOf(dir)
    expect({ step: m.state?.step, epoch: m.extra?.['epoch'] }).toEqual({ step: complete * STEPS_PER_EPOCH + steps, epoch: complete })
    expect((await readMetrics(dir, '')).epochs.map((e) => e.epoch)).toEqual(Array.from({ length: complete }, (_, i) => i + 1))
    expect((await fs.readdir(dir)).sort()).toEqual(['checkpoint', 'config.json', 'metrics.json'])

    const resumed = train(dir, complete + 1, true)
    expect((await resumed.closed).code, resumed.transcript()).toBe(0)
    expect(resumed.lines('err')[0]).toMatch(new RegExp(`^tfppl: resuming ${escape(dir)} after epoch ${complete} of ${complete + 1} on \\w+, native accelerator: `))
    expect((await readMetrics(dir, '')).epochs.map((e) => e.epoch)).toEqual(Array.from({ length: complete + 1 }, (_, i) => i + 1))
    expect((await manifestOf(dir)).state?.step).toBe((complete + 1) * STEPS_PER_EPOCH + steps)
  }, 120_000)
})
