/** Helpers for the CLI tests: an in-memory CliIO that records what the command printed. */
import type { CliIO } from '../../src/cli/io.js'

/** A CliIO writing into strings (stderr is not a terminal: plain progress lines). */
export const capture = (signal?: AbortSignal): { io: CliIO; out: () => string; err: () => string } => {
  const out: string[] = [], err: string[] = []
  const io: CliIO = { stdout: (s) => { out.push(s) }, stderr: (s) => { err.push(s) }, stderrIsTTY: false, ...(signal === undefined ? {} : { signal }) }
  return { io, out: () => out.join(''), err: () => err.join('') }
}
