/**
 * The process-level error handlers of the `tfppl` script. An error nobody
 * catches (thrown in a callback, a rejected promise nobody awaits, a write to
 * a closed pipe) would otherwise reach the handlers the wasm backend's
 * emscripten glue installs: they rethrow it, so Node prints the line of the
 * glue that rethrew (≈ 38 KB of minified source when the glue is
 * `wasm-out/tfjs-backend-wasm.js`, as under tsx or a bundler) and exits 7.
 * These handlers run first: one line on stderr (see `describeFailure`), exit 1.
 */
import { writeSync } from 'node:fs'
import { EXIT, describeFailure } from './errors.js'
import type { Failure } from './errors.js'

/** What the handler needs of the process (the real one, or a test's stand-in). */
export interface FatalProcess {
  readonly exit: (code: number) => never
  readonly exitCode?: number | string | null | undefined
}

/** A write to stdout or stderr after the reader closed the pipe (`tfppl eval --json | head -c 10`). */
const isClosedPipe = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === 'EPIPE'

/** Writes to fd 2 synchronously (the process exits right after); never throws. */
const writeStderr = (text: string): void => {
  try { writeSync(2, text) } catch { /* stderr is gone too: nothing left to tell */ }
}

/**
 * The handler for an error that reached the process: a closed output pipe ends the
 * command quietly (with the exit code set so far), anything else prints one line
 * and exits with its code (1, or 2 for a usage error).
 *
 * @example process.prependListener('uncaughtException', onFatal(process, (s) => process.stderr.write(s)))
 */
export const onFatal = (proc: FatalProcess, write: (text: string) => void = writeStderr) => (e: unknown): never => {
  if (isClosedPipe(e)) return proc.exit(typeof proc.exitCode === 'number' ? proc.exitCode : EXIT.ok)
  let failure: Failure = { code: EXIT.failure, text: 'tfppl: unexpected error (it could not be described)' }
  try { failure = describeFailure(e) } catch { /* keep the fallback line */ }
  write(`${failure.text}\n`)
  return proc.exit(failure.code)
}

/**
 * Installs {@link onFatal} for uncaught exceptions and unhandled rejections, ahead of any
 * listener already installed (and of the wasm glue's, which are added later, behind it).
 *
 * @example if (isEntryPoint()) installFatalHandlers()
 */
export const installFatalHandlers = (): void => {
  const handler = onFatal(process)
  process.prependListener('uncaughtException', handler)
  process.prependListener('unhandledRejection', handler)
}
