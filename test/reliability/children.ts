/**
 * Helpers for the crash-safety tests: TypeScript child processes run with `node --import tsx`
 * (no build needed), whose output is read line by line, and a seeded random source for the
 * moments they are killed.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** How a child ended. */
export interface Ending {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A running child process and what it printed. */
export interface Child {
  readonly proc: ChildProcess
  /** Every complete line printed so far on stdout (`out`) or stderr (`err`). */
  readonly lines: (stream: 'out' | 'err') => readonly string[]
  /** The first line of `stream` matching `re` (already printed or to come); rejects if the child ends first. */
  readonly waitFor: (re: RegExp, stream: 'out' | 'err') => Promise<string>
  /** Resolves once the child has exited and both its streams are drained. */
  readonly closed: Promise<Ending>
  /** Both streams, for failure messages. */
  readonly transcript: () => string
}

/** Children still running (a failed test must not leave them behind). */
const running = new Set<ChildProcess>()

/** Kills (SIGKILL) every child still running; for `afterAll`. @example afterAll(killAll) */
export const killAll = async (): Promise<void> => {
  await Promise.all([...running].map((p) => new Promise<void>((resolve) => { p.once('close', () => { resolve() }); p.kill('SIGKILL') })))
}

/** The repository root (the tests run from it; the children too). */
export const REPO = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Runs `node --import tsx <script> ...args` from the repository root, with `env` added to this
 * process's environment.
 *
 * @example const c = spawnTs('src/cli/main.ts', ['--help']); expect((await c.closed).code).toBe(0)
 */
export const spawnTs = (script: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Child => {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(proc)
  const done: Record<'out' | 'err', string[]> = { out: [], err: [] }
  const partial = { out: '', err: '' }
  const waiters: Array<() => void> = []
  let ended = false
  const feed = (stream: 'out' | 'err') => (chunk: Buffer) => {
    const parts = (partial[stream] + chunk.toString('utf8')).split('\n')
    partial[stream] = parts.pop() ?? ''
    done[stream].push(...parts.map((l) => l.replace(/\r$/, '')))
    waiters.splice(0).forEach((w) => { w() })
  }
  proc.stdout!.on('data', feed('out'))
  proc.stderr!.on('data', feed('err'))
  const closed = new Promise<Ending>((resolve) => {
    proc.on('close', (code, signal) => { running.delete(proc); ended = true; waiters.splice(0).forEach((w) => { w() }); resolve({ code, signal }) })
  })
  const transcript = () => `--- stdout\n${done.out.join('\n')}${partial.out}\n--- stderr\n${done.err.join('\n')}${partial.err}`
  const waitFor = (re: RegExp, stream: 'out' | 'err'): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      const hit = done[stream].find((l) => re.test(l))
      if (hit !== undefined) resolve(hit)
      else if (ended) reject(new Error(`the child ended before printing a line matching ${re} on std${stream}\n${transcript()}`))
      else waiters.push(check)
    }
    check()
  })
  return { proc, lines: (s) => done[s], waitFor, closed, transcript }
}

/** Kills `c` with SIGKILL (if it still runs) and waits until it is gone. */
export const kill = async (c: Child): Promise<Ending> => {
  c.proc.kill('SIGKILL')
  return c.closed
}

/**
 * A seeded uniform random source on [0, 1) (mulberry32), so the kill moments are reproducible in
 * intent (the moment a kill lands still depends on the machine's speed).
 *
 * @example const rand = seeded(7); const delayMs = rand() * 200
 */
export const seeded = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Resolves after `ms` milliseconds. @example await sleep(50) */
export const sleep = (ms: number): Promise<void> => new Promise((r) => { setTimeout(r, ms) })
