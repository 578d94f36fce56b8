#!/usr/bin/env node
/**
 * The `tfppl` command: `train`, `sample`, `eval`, `report` (see `tfppl --help`).
 * {@link main} runs one command line in-process and resolves to its exit code;
 * run as a script (`node dist/cli/main.js …`, or the `tfppl` bin), it sets the
 * process's exit code, and errors nobody catches print one line (`fatal.ts`).
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { HELP, commandHelp, parseArgs } from './args.js'
import type { Command } from './args.js'
import { EXIT, describeFailure } from './errors.js'
import { installFatalHandlers, onFatal } from './fatal.js'
import { processIO } from './io.js'
import type { CliIO } from './io.js'
import { packageVersion } from './version.js'

/** Where the command writes (see {@link main}). */
export type { CliIO } from './io.js'

/**
 * Initialises the backend and runs a decoded command. The command modules (and
 * TensorFlow.js) are loaded only here, so `--help` and usage errors answer at once.
 */
const run = async (cmd: Exclude<Command, { _tag: 'help' | 'version' }>, io: CliIO): Promise<number> => {
  const [{ initBackend }, { installNodePlatform }] = await Promise.all([import('../backend/init.js'), import('../platform-node.js')])
  installNodePlatform()   // TFPPL_* variables, the native accelerator, progress on stderr, checkpoint files
  await initBackend()
  switch (cmd._tag) {
    case 'train': return (await import('./train.js')).train(cmd.model, cmd.flags, io)
    case 'sample': return (await import('./inspect.js')).sampleCommand(cmd.dir, cmd.flags, io)
    case 'eval': return (await import('./evaluate.js')).evaluateCommand(cmd.dir, cmd.flags, io)
    case 'report': return (await import('./inspect.js')).reportCommand(cmd.dir, io)
  }
}

/**
 * Runs one `tfppl` command line (without `node` and the script name) and
 * resolves to the exit code: 0 done, 1 failed (one line on stderr), 2 bad
 * arguments (one line on stderr), 130 interrupted by Ctrl-C. `--version`
 * prints `tfppl <version>`.
 *
 * @example
 * const code = await main(['train', 'vae', '--epochs', '1', '--limit', '256', '--out', '/tmp/run'])
 */
export const main = async (argv: readonly string[], io: CliIO = processIO()): Promise<number> => {
  const parsed = parseArgs(argv)
  if (E.isLeft(parsed)) {
    io.stderr(`${parsed.left}\n`)
    return EXIT.usage
  }
  const cmd = parsed.right
  if (cmd._tag === 'help') {
    io.stdout(`${cmd.command === undefined ? HELP : commandHelp(cmd.command)}\n`)
    return EXIT.ok
  }
  try {
    if (cmd._tag === 'version') {
      io.stdout(`tfppl ${packageVersion()}\n`)
      return EXIT.ok
    }
    return await run(cmd, io)
  } catch (e) {
    const failure = describeFailure(e)
    io.stderr(`${failure.text}\n`)
    return failure.code
  }
}

/** True when this file is the script node was started with (not when imported, e.g. by tests). */
const isEntryPoint = (): boolean => {
  const script = process.argv[1]
  if (script === undefined) return false
  try { return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url)) } catch { return false }
}

if (isEntryPoint()) {
  installFatalHandlers()   // before the wasm backend's own handlers, which would print their source and exit 7
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, onFatal(process))
}
