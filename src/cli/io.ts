/**
 * Where the command writes: stdout for results (the report path, eval
 * numbers), stderr for progress and errors. Injected, so tests can run the
 * command in-process and read what it printed.
 */

/** The command's outputs and its stop signal. */
export interface CliIO {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Draw the progress bar in place (stderr is a terminal). */
  readonly stderrIsTTY: boolean
  /** Besides SIGINT, aborting this stops training after the current step. */
  readonly signal?: AbortSignal
}

/**
 * The process's own streams.
 *
 * @example await main(process.argv.slice(2), processIO())
 */
export const processIO = (): CliIO => ({
  stdout: (text) => { process.stdout.write(text) },
  stderr: (text) => { process.stderr.write(text) },
  stderrIsTTY: process.stderr.isTTY === true,
})
