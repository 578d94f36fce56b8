/**
 * Errors nobody catches, in a real process with the wasm backend loaded: its emscripten glue installs
 * handlers that rethrow them, so Node printed the glue's source line (≈ 38 KB under tsx or a bundler)
 * and exited 7. With the command's handlers the process prints one line and exits 1; a write to a
 * closed pipe ends the command quietly.
 */
import { spawn, spawnSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { onFatal } from '../../src/cli/fatal.js'
import { main } from '../../src/cli/main.js'
import { capture } from './helpers.js'

const src = (file: string): string => path.resolve('src', file)

/** Runs an ES module (TypeScript imports through tsx) in a new node process; TFPPL_BACKEND=wasm so the glue's handlers are there. */
const runScript = (code: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, TFPPL_BACKEND: 'wasm', TFPPL_DEBUG: '' },
  })

const withHandlers = (fail: string): string => `
  const { installFatalHandlers } = await import(${JSON.stringify(src('cli/fatal.ts'))})
  const { initBackend } = await import(${JSON.stringify(src('backend/init.ts'))})
  installFatalHandlers()
  await initBackend()
  ${fail}`

describe('installFatalHandlers (a process with the wasm backend loaded)', () => {
  it('an exception thrown in a callback prints one line with its cause and exits 1', () => {
    const r = runScript(withHandlers("setTimeout(() => { throw new TypeError('boom in a timer') }, 0)"))
    expect(r.status).toBe(1)
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^tfppl: unexpected error: TypeError: boom in a timer at .*TFPPL_DEBUG=1/)
  })

  it('an unhandled rejection prints one line and exits 1', () => {
    const r = runScript(withHandlers("Promise.reject(new RangeError('nobody awaited me'))"))
    expect(r.status).toBe(1)
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^tfppl: unexpected error: RangeError: nobody awaited me/)
  })
})

describe('onFatal', () => {
  const stub = (exitCode?: number) => {
    const calls: { code?: number; text: string } = { text: '' }
    const proc = { exitCode, exit: (code: number): never => { calls.code = code; return undefined as never } }
    return { calls, handler: onFatal(proc, (t) => { calls.text += t }) }
  }

  it('a closed output pipe (EPIPE) ends quietly with the exit code set so far', () => {
    const a = stub(), b = stub(2)
    a.handler(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }))
    b.handler(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }))
    expect(a.calls).toEqual({ code: 0, text: '' })
    expect(b.calls).toEqual({ code: 2, text: '' })
  })
})

describe('the tfppl script, its output closed early', () => {
  let root = '', dir = ''
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-fatal-'))
    dir = path.join(root, 'run')
    const c = capture()
    expect(await main(['train', 'vae', '--limit', '64', '--batch-size', '64', '--hidden', '8', '--z-dim', '2', '--epochs', '1', '--out', dir], c.io)).toBe(0)
  })
  afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

  it('tfppl eval … | (a reader that has gone) exits 0 without a word (it exited 7 with the wasm glue\'s source)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', src('cli/main.ts'), 'eval', dir, '--n', '8', '--iwae', '1', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TFPPL_BACKEND: 'wasm' } })
    child.stdout.destroy()   // the reader closes the pipe before anything is written: the write fails with EPIPE
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(stderr).toBe('')
    expect(code).toBe(0)
  })
})
