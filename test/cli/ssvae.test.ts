/**
 * `tfppl train ssvae` in-process on 600 bundled digits with a tiny network: the labelled and
 * unlabelled streams, config.json's labelsPerClass, and the report's test accuracy, confusion
 * matrix and per-class samples.
 */
import { existsSync, promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { RunConfigCodec } from '../../src/cli/run-files.js'
import { confusionSvg } from '../../src/cli/render/index.js'
import { capture } from './helpers.js'

describe('tfppl train ssvae', () => {
  let root = ''
  beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-ssvae-')) })
  afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

  it('trains on labelled and unlabelled streams and reports the accuracy of q(y | x) with a confusion matrix', async () => {
    const dir = path.join(root, 'run'), c = capture()
    const args = ['train', 'ssvae', '--data', 'mnist', '--limit', '600', '--labels-per-class', '5', '--epochs', '1', '--batch-size', '64', '--hidden', '16', '--z-dim', '4', '--out', dir]
    expect(await main(args, c.io)).toBe(0)
    expect(c.err()).toContain('5 labels per class (50 labelled images) drawn with seed 0 from the first 600 of 600 training images; the other 550 unlabelled')
    const config = RunConfigCodec.decode(JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')))
    expect(E.isRight(config) && config.right.labelsPerClass).toBe(5)
    const html = await fs.readFile(path.join(dir, 'report.html'), 'utf8')
    expect(html).toMatch(/test accuracy of q\(y \| x\) \(600 images\)<\/td><td>\d+\.\d\d%/)
    expect(html).toContain('confusion.svg')
    expect(existsSync(path.join(dir, 'confusion.svg')) && existsSync(path.join(dir, 'classes.png'))).toBe(true)
    // --resume rebuilds the same split (same seed) and continues; a different --labels-per-class is refused.
    const r = capture()
    expect(await main(['train', 'ssvae', '--epochs', '2', '--out', dir, '--resume'], r.io)).toBe(0)
    expect(r.err()).toContain('resuming')
    expect(JSON.parse(await fs.readFile(path.join(dir, 'metrics.json'), 'utf8')).epochs).toHaveLength(2)
    const bad = capture()
    expect(await main(['train', 'ssvae', '--labels-per-class', '6', '--out', dir, '--resume'], bad.io)).toBe(2)
    expect(bad.err()).toContain('--labels-per-class 6 does not match the run being resumed')
  })

  it('--labels-per-class is refused for other models, and when the pool has too few images of a class', async () => {
    const c = capture()
    expect(await main(['train', 'vae', '--labels-per-class', '10', '--out', path.join(root, 'vae')], c.io)).toBe(2)
    expect(c.err()).toContain('--labels-per-class applies to the semi-supervised models (ssvae), not to vae')
    const d = capture()
    expect(await main(['train', 'ssvae', '--data', 'mnist', '--limit', '100', '--labels-per-class', '30', '--epochs', '1', '--out', path.join(root, 'few')], d.io)).toBe(2)
    expect(d.err()).toMatch(/--labels-per-class 30: labelledSplit: .*expected fewer than 10 per class/)
  })
})

describe('confusionSvg', () => {
  it('draws K × K cells with counts, recall per row and the accuracy; refuses a non-square matrix', () => {
    const svg = confusionSvg([[8, 2], [1, 9]], { title: 'Test <set>', classNames: ['cat', 'dog'] })
    expect(svg).toContain('accuracy 85.00% (17 of 20)')
    expect(svg).toContain('Test &lt;set&gt;')
    expect(svg.match(/<rect x=/g)).toHaveLength(4)
    expect(svg).toContain('>80.0%<')
    expect(() => confusionSvg([[1, 2]], { title: 't' })).toThrow(/must be square K × K/)
  })
})
