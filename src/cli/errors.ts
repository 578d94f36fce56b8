/**
 * The errors of the `tfppl` command and their exit codes: a {@link UsageError}
 * (bad arguments, a run directory that does not fit the command) exits 2 and is
 * printed without a stack trace, as is any other `TfpplError` (exit 1).
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

/**
 * The message and exit code for an error reaching the top of the command:
 * usage errors → 2, other library errors → 1 (message only), anything else → 1
 * with the stack (a bug worth reporting).
 *
 * @example const { code, text } = describeFailure(e)
 */
export const describeFailure = (e: unknown): { readonly code: number; readonly text: string } => {
  if (e instanceof UsageError) return { code: EXIT.usage, text: e.message }
  if (e instanceof TfpplError) return { code: EXIT.failure, text: `tfppl: ${e.message}` }
  if (e instanceof Error) return { code: EXIT.failure, text: `tfppl: unexpected error: ${e.stack ?? e.message}` }
  return { code: EXIT.failure, text: `tfppl: unexpected error: ${String(e)}` }
}
