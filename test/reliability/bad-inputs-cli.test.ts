/**
 * Bad command lines (B70–B79), run in-process through `main`: unknown
 * commands, models and flags, malformed flag values, an output directory that
 * cannot be created (`--out <tmp>/afile/out`, whose parent is a regular file:
 * tests run as root, so chmod would block nothing), a data directory with a
 * truncated IDX file, and a run directory that is not a run. Each exits with
 * the usage (2) or failure (1) code and a message naming the flag, file or
 * path and what was expected — never "unexpected error" with a stack — and
 * creates no file and leaves no tensor. Commands that get past parsing are
 * also called directly, to see the named TfpplError subclass they throw.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/errors.js'
import { sampleCommand } from '../../src/cli/inspect.js'
import { main } from '../../src/cli/main.js'
import { RunFileError } from '../../src/cli/run-files.js'
import { train } from '../../src/cli/train.js'
import { DataError, encodeIdx } from '../../src/data/index.js'
import { capture } from '../cli/helpers.js'
import { expectNamed, snapshot } from './expect-named.js'

const root = mkdtempSync(join(tmpdir(), 'tfppl-bad-cli-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })

/** Runs `tfppl …argv`; asserts the exit code, that stderr names every part and is no crash, and that nothing changed. */
const expectRefused = async (argv: readonly string[], code: 1 | 2, parts: readonly string[]): Promise<void> => {
  const watched = { dirs: [root] }
  const before = snapshot(watched)
  const c = capture()
  expect(await main(argv, c.io)).toBe(code)
  for (const p of parts) expect(c.err()).toContain(p)
  expect(c.err()).not.toContain('unexpected error')
  expect(c.out()).toBe('')
  expect(snapshot(watched)).toEqual(before)
}

const QUICK = ['--limit', '16', '--batch-size', '8', '--epochs', '1', '--hidden', '8', '--z-dim', '2']

describe('bad command lines', () => {
  it("B70 an unknown model ('gan') names it and the models expected", async () => {
    await expectRefused(['train', 'gan'], 2, ["tfppl: unknown model 'gan'", 'expected one of vae, cvae, ladder, vqvae'])
  })

  it("B71 an unknown command ('fit') names it and the commands expected", async () => {
    await expectRefused(['fit', 'vae'], 2, ["tfppl: unknown command 'fit'", 'expected one of train, sample, eval, report'])
  })

  it('B72 --epochs abc names the flag, the value and the expected type', async () => {
    await expectRefused(['train', 'vae', '--epochs', 'abc'], 2, ["tfppl train: --epochs expects a positive integer; got 'abc'"])
  })

  it('B73 --batch-size -1 (both forms) names the flag and the expected type', async () => {
    await expectRefused(['train', 'vae', '--batch-size', '-1'], 2, ["tfppl train: --batch-size expects a positive integer; got '-1'"])
    await expectRefused(['train', 'vae', '--batch-size=-1'], 2, ["tfppl train: --batch-size expects a positive integer; got '-1'"])
  })

  it('B74 an unknown flag (--frobnicate) names it and the flags expected', async () => {
    await expectRefused(['train', 'vae', '--frobnicate'], 2, ["tfppl train: unknown flag '--frobnicate'", 'expected one of --data, --epochs'])
  })

  it('B75 a flag without its value (--epochs at the end) says it needs one', async () => {
    await expectRefused(['train', 'vae', '--epochs'], 2, ['tfppl train: --epochs needs a value'])
  })
})

describe('command lines that fail after parsing', () => {
  it('B76 --out <tmp>/afile/out (the parent is a regular file) is a UsageError naming --out and the path (was: "unexpected error" with a raw ENOTDIR stack, exit 1)', async () => {
    const afile = join(root, 'afile')
    writeFileSync(afile, 'a regular file')
    const out = join(afile, 'out')
    const parts = [`tfppl train: --out ${out}: cannot create ${out} (${afile} is a file, not a directory)`, 'expected a directory path that can be created and written']
    await expectRefused(['train', 'vae', ...QUICK, '--out', out], 2, parts)
    await expectNamed(() => train('vae', { limit: 16, 'batch-size': 8, epochs: 1, hidden: [8], 'z-dim': 2, out }, capture().io), UsageError, parts, { dirs: [root] })
  })

  it('B77 --batch-size larger than the training images (--limit 16) names both numbers', async () => {
    const out = join(root, 'big-batch')
    await expectRefused(['train', 'vae', '--limit', '16', '--batch-size', '32', '--out', out], 2, ['tfppl train: --batch-size 32 is larger than the 16 training images'])
  })

  it('B78 --data with a truncated IDX file names the file, the bytes expected and the bytes found', async () => {
    const data = join(root, 'idx')
    mkdirSync(data)
    const images = encodeIdx('images', [2, 2, 2], new Uint8Array(8)), labels = encodeIdx('labels', [2], Uint8Array.from([0, 1]))
    writeFileSync(join(data, 'train-images-idx3-ubyte'), images)
    writeFileSync(join(data, 't10k-images-idx3-ubyte'), images)
    writeFileSync(join(data, 'train-labels-idx1-ubyte'), labels.subarray(0, labels.length - 1))
    writeFileSync(join(data, 't10k-labels-idx1-ubyte'), labels)
    const bad = join(data, 'train-labels-idx1-ubyte')
    const out = join(root, 'idx-run')
    const parts = [`${bad}: truncated`, 'need 10 bytes', 'the file has 9']
    await expectRefused(['train', 'vae', '--data', data, '--out', out], 1, parts)
    await expectNamed(() => train('vae', { data, out }, capture().io), DataError, parts, { dirs: [root] })
  })

  it('B79 sample on a directory that is not a run names the missing config.json and how to make one', async () => {
    const dir = join(root, 'not-a-run')
    mkdirSync(dir)
    const parts = [`${dir} is not a tfppl run directory`, `${join(dir, 'config.json')} is missing`, 'create one with tfppl train']
    await expectRefused(['sample', dir], 1, parts)
    await expectNamed(() => sampleCommand(dir, {}, capture().io), RunFileError, parts, { dirs: [root] })
  })
})
