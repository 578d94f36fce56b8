/** `main`: the version command and the help of one command (issue 20, point 8). */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { USAGE } from '../../src/cli/args.js'
import { main } from '../../src/cli/main.js'
import { capture } from './helpers.js'

const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

const count = (text: string, part: string): number => text.split(part).length - 1

describe('main --version', () => {
  it.each([['--version'], ['-v'], ['version']])('%s prints the version of package.json and exits 0', async (flag) => {
    const c = capture()
    expect(await main([flag], c.io)).toBe(0)
    expect(c.out()).toBe(`tfppl ${packageVersion}\n`)
    expect(c.err()).toBe('')
  })

  it('is listed in the help', async () => {
    const c = capture()
    await main(['--help'], c.io)
    expect(c.out()).toContain('tfppl --version')
  })
})

describe('main: the help of one command', () => {
  it.each([['train'], ['sample'], ['eval'], ['report']] as const)('%s --help prints its usage once, and not the other commands', async (command) => {
    const c = capture()
    expect(await main([command, '--help'], c.io)).toBe(0)
    expect(count(c.out(), USAGE[command])).toBe(1)
    expect(c.out().startsWith(`Usage: ${USAGE[command]}\n`)).toBe(true)
    for (const other of Object.keys(USAGE).filter((k) => k !== command)) expect(c.out()).not.toContain(USAGE[other as keyof typeof USAGE])
  })

  it('train --help still says what train does and its defaults', async () => {
    const c = capture()
    await main(['train', 'vae', '--help'], c.io)
    expect(c.out()).toContain('Defaults: 10 epochs, batch 128')
    expect(count(c.out(), 'tfppl — train and inspect')).toBe(0)
  })
})
