import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { parseArgs } from '../../src/cli/args.js'
import type { Command } from '../../src/cli/args.js'
import { main } from '../../src/cli/main.js'
import { capture } from './helpers.js'

const ok = (argv: string[]): Command => {
  const r = parseArgs(argv)
  if (E.isLeft(r)) throw new Error(`expected Right, got Left(${r.left})`)
  return r.right
}
const bad = (argv: string[]): string => {
  const r = parseArgs(argv)
  if (E.isRight(r)) throw new Error(`expected Left, got ${JSON.stringify(r.right)}`)
  return r.left
}

describe('parseArgs', () => {
  it('decodes train with every flag, in both --flag value and --flag=value forms', () => {
    expect(ok(['train', 'vae', '--data', 'fashion-mnist', '--epochs', '3', '--batch-size=64', '--z-dim', '2', '--hidden', '512,256',
      '--seed', '0', '--limit', '256', '--out', 'runs/x', '--resume'])).toEqual({
      _tag: 'train', model: 'vae',
      flags: { data: 'fashion-mnist', epochs: 3, 'batch-size': 64, 'z-dim': 2, hidden: [512, 256], seed: 0, limit: 256, out: 'runs/x', resume: true },
    })
    expect(ok(['train', 'ladder'])).toEqual({ _tag: 'train', model: 'ladder', flags: {} })
  })

  it('decodes sample, eval and report', () => {
    expect(ok(['sample', 'runs/a', '--n', '16', '--class', '3'])).toEqual({ _tag: 'sample', dir: 'runs/a', flags: { n: 16, class: 3 } })
    expect(ok(['eval', 'runs/a', '--iwae', '5000', '--n', '100', '--json'])).toEqual({ _tag: 'eval', dir: 'runs/a', flags: { iwae: 5000, n: 100, json: true } })
    expect(ok(['report', 'runs/a'])).toEqual({ _tag: 'report', dir: 'runs/a' })
  })

  it('gives help for --help, -h and help, also after a command', () => {
    expect(ok(['--help'])).toEqual({ _tag: 'help' })
    expect(ok(['help'])).toEqual({ _tag: 'help' })
    expect(ok(['eval', '-h'])).toEqual({ _tag: 'help', command: 'eval' })
    expect(ok(['train', 'foo', '--help'])).toEqual({ _tag: 'help', command: 'train' })
  })

  it('names unknown commands, models and flags', () => {
    expect(bad(['train', 'foo'])).toBe("tfppl: unknown model 'foo'; expected one of vae, cvae, ladder, vqvae, ssvae")
    expect(bad(['fit', 'vae'])).toBe("tfppl: unknown command 'fit'; expected one of train, sample, eval, report")
    expect(bad(['train', 'vae', '--epoch', '3'])).toBe(
      "tfppl train: unknown flag '--epoch'; expected one of --data, --epochs, --batch-size, --z-dim, --hidden, --seed, --limit, --out, --resume, --labels-per-class")
    expect(bad(['eval', 'runs/a', '--class', '1'])).toBe("tfppl eval: unknown flag '--class'; expected one of --iwae, --n, --seed, --json")
    expect(bad(['report', 'runs/a', '--n', '1'])).toBe("tfppl report: unknown flag '--n'; expected no flags")
  })

  it('says which flag has a bad value and what it expects', () => {
    expect(bad(['train', 'vae', '--epochs', 'ten'])).toBe("tfppl train: --epochs expects a positive integer; got 'ten'")
    expect(bad(['train', 'vae', '--epochs', '0'])).toBe("tfppl train: --epochs expects a positive integer; got '0'")
    expect(bad(['train', 'vae', '--batch-size', '1.5'])).toBe("tfppl train: --batch-size expects a positive integer; got '1.5'")
    expect(bad(['train', 'vae', '--seed', '-1'])).toBe("tfppl train: --seed expects a non-negative integer; got '-1'")
    expect(bad(['train', 'vae', '--hidden', '400,x'])).toBe("tfppl train: --hidden expects positive integers separated by commas (e.g. 512,256); got '400,x'")
    expect(bad(['sample', 'd', '--n', '1e3'])).toBe("tfppl sample: --n expects a positive integer; got '1e3'")
    expect(bad(['eval', 'd', '--json=yes'])).toBe("tfppl eval: --json expects no value; got 'yes'")
    expect(bad(['train', 'vae', '--epochs'])).toBe('tfppl train: --epochs needs a value')
    expect(bad(['train', 'vae', '--out', '--resume'])).toBe('tfppl train: --out needs a value')
  })

  it('checks the positional arguments', () => {
    expect(bad([])).toBe('tfppl: missing command; expected one of train, sample, eval, report (tfppl --help for usage)')
    expect(bad(['train'])).toMatch(/^tfppl train: missing the model \(one of vae, cvae, ladder, vqvae, ssvae\); usage: tfppl train </)
    expect(bad(['sample'])).toMatch(/^tfppl sample: missing the run directory DIR; usage: tfppl sample DIR/)
    expect(bad(['report', 'a', 'b'])).toBe("tfppl report: unexpected argument 'b'; usage: tfppl report DIR")
  })
})

describe('main: argument errors', () => {
  it('prints the message without a stack trace and exits 2', async () => {
    const c = capture()
    expect(await main(['train', 'foo'], c.io)).toBe(2)
    expect(c.err()).toBe("tfppl: unknown model 'foo'; expected one of vae, cvae, ladder, vqvae, ssvae\n")
    expect(c.out()).toBe('')
  })

  it('prints help on stdout and exits 0', async () => {
    const c = capture()
    expect(await main(['--help'], c.io)).toBe(0)
    expect(c.out()).toContain('tfppl train <vae|cvae|ladder|vqvae|ssvae>')
    expect(c.out()).toContain('tfppl eval DIR [--iwae K] [--n N]')
  })

  it('a directory that is not a run is an error naming the missing config.json (exit 1)', async () => {
    const c = capture()
    expect(await main(['sample', '/nonexistent/run'], c.io)).toBe(1)
    expect(c.err()).toBe('tfppl: /nonexistent/run is not a tfppl run directory: /nonexistent/run/config.json is missing (create one with tfppl train)\n')
  })
})
