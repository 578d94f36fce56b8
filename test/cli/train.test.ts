/**
 * `tfppl train`, what a newcomer tripped over (issue 20, point 8): an --out that cannot be created
 * fails at once, a --limit below the default batch shrinks the batch, the start line, metrics.json and
 * the report say whether the native accelerator is on, and the ladder VAE's test ELBO during training
 * is the ELBO itself (β = 1), as `tfppl eval` computes it, not the β-weighted warm-up objective.
 */
import { existsSync, promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backendInfo } from '../../src/backend/init.js'
import { main } from '../../src/cli/main.js'
import { capture } from './helpers.js'

const SMALL = ['--hidden', '8', '--z-dim', '2', '--epochs', '1', '--seed', '1']

let root = ''
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-train-')) })
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

const readJson = async (file: string): Promise<Record<string, unknown>> => JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>

/** The command's exit code, or 'hung' when it has not finished after `ms`. */
const within = <A>(p: Promise<A>, ms: number): Promise<A | 'hung'> =>
  Promise.race([p, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref())])

describe('tfppl train --out', () => {
  it.skipIf(!existsSync('/proc/self'))('an --out under /proc fails at once naming the path (Node\'s recursive mkdir never returns there)', async () => {
    const c = capture()
    expect(await within(main(['train', 'vae', '--limit', '64', ...SMALL, '--out', '/proc/x/run'], c.io), 10_000)).toBe(2)
    expect(c.err()).toBe('tfppl train: --out /proc/x/run: cannot create /proc/x (ENOENT: /proc exists but refuses new folders); expected a directory path that can be created and written\n')
  })

  it('an --out below a regular file says which part is a file', async () => {
    const file = path.join(root, 'a-file')
    await fs.writeFile(file, 'x')
    const c = capture()
    expect(await main(['train', 'vae', '--limit', '64', ...SMALL, '--out', path.join(file, 'run')], c.io)).toBe(2)
    expect(c.err()).toContain(`cannot create ${path.join(file, 'run')} (${file} is a file, not a directory)`)
  })
})

describe('tfppl train --limit below the default batch size', () => {
  it('--limit 100 trains with batch 100 and says so in one line', async () => {
    const out = path.join(root, 'limit100')
    const c = capture()
    expect(await main(['train', 'vae', '--limit', '100', ...SMALL, '--out', out], c.io)).toBe(0)
    expect(c.err().split('\n').filter((l) => l.includes('batch size'))).toEqual(['tfppl train: batch size 100, the whole training set (the default 128 is more than its 100 images)'])
    expect((await readJson(path.join(out, 'config.json')))['batchSize']).toBe(100)
  })

  it('a --batch-size given by hand that is too large stays an error saying what is expected', async () => {
    const c = capture()
    expect(await main(['train', 'vae', '--limit', '100', '--batch-size', '128', ...SMALL, '--out', path.join(root, 'b128')], c.io)).toBe(2)
    expect(c.err()).toBe('tfppl train: --batch-size 128 is larger than the 100 training images; expected at most 100 (or leave --batch-size out to use 100)\n')
  })
})

describe('the native accelerator in the start line, metrics.json and the report', () => {
  it('says the backend and the accelerator\'s state', async () => {
    const out = path.join(root, 'accel')
    const c = capture()
    expect(await main(['train', 'vae', '--limit', '64', ...SMALL, '--out', out], c.io)).toBe(0)
    const { name, nativeStatus } = backendInfo()
    expect(c.err()).toMatch(new RegExp(`^tfppl: training vae on .* on ${name}, native accelerator: ${nativeStatus.replace(/[()[\].*+?^$|\\]/g, '\\$&')}$`, 'm'))
    expect((await readJson(path.join(out, 'metrics.json')))['nativeAccelerator']).toBe(nativeStatus)
    expect(await fs.readFile(path.join(out, 'report.html'), 'utf8')).toContain(`Backend: ${name}; native accelerator: ${nativeStatus.replace(/&/g, '&amp;')}`)
  })
})

describe('the ladder VAE\'s test ELBO during training', () => {
  it('is the ELBO (β = 1) that tfppl eval reports, not the β-weighted warm-up objective; the train figure is labelled', async () => {
    // Epoch 1 ends at β = 0.2: the β-weighted figure lies ≈ 15 nats above the ELBO here; eval's draws differ by < 1 nat.
    const out = path.join(root, 'ladder')
    const c = capture()
    expect(await main(['train', 'ladder', '--limit', '256', '--hidden', '32', '--z-dim', '32', '--epochs', '1', '--batch-size', '64', '--out', out], c.io)).toBe(0)
    expect(c.err()).toMatch(/^epoch 1\/1 {2}train ELBO -\d+\.\d\d \(β-weighted, KL warm-up\) {2}test ELBO/m)
    const epochs = (await readJson(path.join(out, 'metrics.json')))['epochs'] as Array<{ testElbo: number }>
    const e = capture()
    expect(await main(['eval', out, '--n', '256', '--iwae', '1', '--json'], e.io)).toBe(0)
    const evaluated = (JSON.parse(e.out()) as { testElbo: number }).testElbo
    expect(Math.abs(epochs[0]!.testElbo - evaluated)).toBeLessThan(5)
  })
})
