/**
 * The errors of the `tfppl` command and their exit codes: a {@link UsageError}
 * (bad arguments, a run directory that does not fit the command) exits 2 and is
 * printed without a stack trace, as is any other `TfpplError` (exit 1); any
 * other error is one line too (exit 1), see {@link describeFailure}.
 */
import { TfpplError } from '../errors.js'

/** Exit codes of the command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const

/**
 * A command line that cannot be run as given; the message names the flag or
 * argument and what was expected. Exit code 2.
 *
 * @example throw new UsageError("tfppl: unknown model 'foo'; expected one of vae, cvae, ladder, vqvae")
 */
export class UsageError extends TfpplError {}

/** What the command prints for an error that reached its top, and its exit code. */
export interface Failure {
  readonly code: number
  readonly text: string
}

const MAX_CAUSE = 300

/** The first line of a message, at most {@link MAX_CAUSE} characters (a message can hold a whole source file). */
const firstLine = (message: string): string => {
  const line = message.split('\n', 1)[0]!.trim()
  return line.length > MAX_CAUSE ? `${line.slice(0, MAX_CAUSE)}…` : line
}

/** Where an error was thrown (its first stack frame, as `file:line:col`), or '' when the stack does not say. */
const thrownAt = (e: Error): string => {
  const frame = /\n\s+at (?:.*? \()?(\S+?:\d+:\d+)\)?\s*(?:\n|$)/.exec(e.stack ?? '')?.[1]
  if (frame === undefined) return ''
  const file = frame.replace(/^file:\/\//, '')
  const cwd = `${process.cwd()}/`
  return ` at ${file.startsWith(cwd) ? file.slice(cwd.length) : file}`
}

/** A Node system error (`fs`, `net`…): it has an error code such as `EACCES` and the failed call. */
const isSystemError = (e: Error): e is Error & { readonly code: string; readonly syscall: string } =>
  typeof (e as { code?: unknown }).code === 'string' && typeof (e as { syscall?: unknown }).syscall === 'string'

/** `TFPPL_DEBUG=1` (any value but '' and '0') adds the stack trace under the one-line message. */
const debugging = (): boolean => {
  const v = process.env['TFPPL_DEBUG']
  return v !== undefined && v !== '' && v !== '0'
}

/**
 * The message and exit code for an error reaching the top of the command (from
 * `main`, or from the process-level handlers): one line with the cause and a
 * hint. Usage errors → 2, other library errors → 1 (their message), system
 * errors → 1 (the OS's message and what to check), anything else → 1 with the
 * error's first line and where it was thrown (a bug worth reporting). With
 * `debug` (default: `TFPPL_DEBUG` is set) the stack trace follows the line.
 *
 * @example const { code, text } = describeFailure(e)
 */
export const describeFailure = (e: unknown, debug: boolean = debugging()): Failure => {
  if (e instanceof UsageError) return { code: EXIT.usage, text: e.message }
  if (e instanceof TfpplError) return { code: EXIT.failure, text: `tfppl: ${e.message}` }
  const stack = debug && e instanceof Error && e.stack !== undefined ? `\n${e.stack}` : ''
  if (e instanceof Error && isSystemError(e)) {
    return { code: EXIT.failure, text: `tfppl: ${firstLine(e.message)} (${e.syscall} failed with ${e.code}; check the path, its permissions and the free space)${stack}` }
  }
  const cause = e instanceof Error ? `${e.name}: ${firstLine(e.message)}${thrownAt(e)}` : firstLine(String(e))
  const hint = debug ? '' : '; rerun with TFPPL_DEBUG=1 for the stack trace'
  return { code: EXIT.failure, text: `tfppl: unexpected error: ${cause} (probably a bug in tfppl: please report it with the command line${hint})${stack}` }
}
