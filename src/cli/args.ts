/**
 * The command line of `tfppl`, decoded into a typed {@link Command}: a small
 * tokenizer (flags known per command, `--flag value` or `--flag=value`), then
 * the io-ts codecs of `codecs.ts`. Failures come back as `Left(message)`, the
 * message naming the flag or argument and what was expected.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import type { ModelKind } from '../models/image-model.js'
import { EvalFlags, MODEL_KINDS, ModelKindCodec, ReportFlags, SampleFlags, TrainFlags } from './codecs.js'

/** The subcommands. */
export type CommandName = 'train' | 'sample' | 'eval' | 'report'

/** A decoded command line. */
export type Command =
  | { readonly _tag: 'help'; readonly command?: CommandName }
  | { readonly _tag: 'version' }
  | { readonly _tag: 'train'; readonly model: ModelKind; readonly flags: TrainFlags }
  | { readonly _tag: 'sample'; readonly dir: string; readonly flags: SampleFlags }
  | { readonly _tag: 'eval'; readonly dir: string; readonly flags: EvalFlags }
  | { readonly _tag: 'report'; readonly dir: string }

const COMMANDS: readonly CommandName[] = ['train', 'sample', 'eval', 'report']

/** Usage lines of each command (also the `--help` text). */
export const USAGE: Readonly<Record<CommandName, string>> = {
  train: 'tfppl train <vae|cvae|ladder|vqvae|ssvae> [--data mnist|fashion-mnist|PATH] [--epochs N] [--batch-size B] [--z-dim D] [--hidden H[,H…]] [--seed S] [--limit N] [--out DIR] [--resume] [--labels-per-class N]',
  sample: 'tfppl sample DIR [--n 64] [--class c] [--seed S]',
  eval: 'tfppl eval DIR [--iwae K] [--n N] [--seed S] [--json]',
  report: 'tfppl report DIR',
}

/** What each command does (the lines under its usage in the help). */
const DESCRIPTIONS: Readonly<Record<CommandName, readonly string[]>> = {
  train: [
    'train   fits a model (ELBO, Adam 1e-3) and writes DIR (default runs/<model>): config.json, checkpoint/,',
    '        metrics.json, samples.png, reconstructions.png, traversal.png, elbo.svg, report.html.',
    '        Ctrl-C stops after the current step with a checkpoint; --resume continues up to --epochs in total',
    '        (an interrupted epoch is repeated from its start, with the weights saved at Ctrl-C).',
    '        --limit N trains on the first N train and N test images (quick trials). Defaults: 10 epochs, batch 128',
    '        (fewer when the training set is smaller), --hidden 400 (cvae: 512,512), --z-dim 50 (vae, cvae),',
    '        64 (ladder: z₁; z₂ has half), 16 (vqvae: code size).',
    '        ssvae, the semi-supervised VAE (M2; grey pixels, Adam 4.2e-4; --data fashion-mnist when installed):',
    '        --labels-per-class N labelled images per class (default 100) from the first 50,000 training images,',
    '        the rest of them unlabelled; the report adds the test accuracy of q(y | x) and its confusion matrix.',
  ],
  sample: ['sample  draws --n images (default 64) from a trained run into DIR/samples.png (--class c: conditional models).'],
  eval: [
    'eval    test ELBO and the IWAE-K log-likelihood estimate (default K 100) on the first N test images',
    '        (default 1000), in nats per image; --json prints { "testElbo": …, "iwae": … }.',
  ],
  report: ['report  redraws the pictures and DIR/report.html from the checkpoint and metrics.json.'],
}

/** The full help text (`tfppl --help`). */
export const HELP = [
  'tfppl — train and inspect deep generative models written with tfppl.',
  '',
  'Usage:',
  ...COMMANDS.map((c) => `  ${USAGE[c]}`),
  '  tfppl --version',
  '',
  ...COMMANDS.flatMap((c) => DESCRIPTIONS[c]),
  '',
  'tfppl <command> --help shows one command.',
].join('\n')

/**
 * The help of one command (`tfppl train --help`): its usage line once, then what it does.
 *
 * @example commandHelp('eval')   // 'Usage: tfppl eval DIR [--iwae K] …\n\neval    test ELBO and …'
 */
export const commandHelp = (command: CommandName): string =>
  [`Usage: ${USAGE[command]}`, '', ...DESCRIPTIONS[command]].join('\n')

/** Flags without a value. */
const SWITCHES: ReadonlySet<string> = new Set(['resume', 'json', 'help'])

const CODECS = { train: TrainFlags, sample: SampleFlags, eval: EvalFlags, report: ReportFlags } as const

/** Positional arguments and raw flag values (`true` for a switch). */
interface Tokens {
  readonly positional: readonly string[]
  readonly flags: Readonly<Record<string, string | true>>
}

const quote = (s: string): string => `'${s}'`

const splitFlag = (arg: string): readonly [string, string | undefined] => {
  const eq = arg.indexOf('=')
  return eq < 0 ? [arg.slice(2), undefined] : [arg.slice(2, eq), arg.slice(eq + 1)]
}

/** Splits argv (after the command) into positionals and flags, refusing flags the command does not know. */
const tokenize = (command: CommandName, args: readonly string[]): E.Either<string, Tokens> => {
  const known = [...Object.keys(CODECS[command].props), 'help']
  const positional: string[] = []
  const flags: Record<string, string | true> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '-h') { flags['help'] = true; continue }
    if (!arg.startsWith('--') || arg === '--') { positional.push(arg); continue }
    const [name, inline] = splitFlag(arg)
    if (!known.includes(name)) {
      const list = known.filter((k) => k !== 'help').map((k) => `--${k}`).join(', ')
      return E.left(`tfppl ${command}: unknown flag ${quote(`--${name}`)}; expected ${list === '' ? 'no flags' : `one of ${list}`}`)
    }
    if (SWITCHES.has(name)) { flags[name] = inline ?? true; continue }
    const value = inline ?? args[i + 1]
    if (value === undefined || (inline === undefined && value.startsWith('--'))) return E.left(`tfppl ${command}: --${name} needs a value`)
    if (inline === undefined) i++
    flags[name] = value
  }
  return E.right({ positional, flags })
}

/** The first decoding failure as `tfppl <command>: --flag expects <what>; got '<value>'`. */
const describeErrors = (command: CommandName, errors: t.Errors): string => {
  const first = errors[0]
  const leaf = first?.context[first.context.length - 1]
  if (first === undefined || leaf === undefined) return `tfppl ${command}: invalid flags`
  const got = first.value === true ? 'no value' : quote(String(first.value))
  return `tfppl ${command}: --${leaf.key} expects ${leaf.type.name}; got ${got}`
}

const decodeFlags = <A>(command: CommandName, codec: t.Decoder<unknown, A>, flags: Tokens['flags']): E.Either<string, A> =>
  pipe(codec.decode(flags), E.mapLeft((errs) => describeErrors(command, errs)))

/** Exactly one positional argument (`what`), or a message with the usage line. */
const single = (command: CommandName, what: string, positional: readonly string[]): E.Either<string, string> => {
  const [first, extra] = positional
  if (first === undefined) return E.left(`tfppl ${command}: missing ${what}; usage: ${USAGE[command]}`)
  if (extra !== undefined) return E.left(`tfppl ${command}: unexpected argument ${quote(extra)}; usage: ${USAGE[command]}`)
  return E.right(first)
}

const decodeModel = (name: string): E.Either<string, ModelKind> =>
  ModelKindCodec.is(name) ? E.right(name) : E.left(`tfppl: unknown model ${quote(name)}; expected one of ${MODEL_KINDS.join(', ')}`)

/** Decodes the tokens of one command. */
const decodeCommand = (command: CommandName, tk: Tokens): E.Either<string, Command> => {
  if (command === 'train') {
    return pipe(single('train', `the model (one of ${MODEL_KINDS.join(', ')})`, tk.positional), E.chain(decodeModel),
      E.chain((model) => pipe(decodeFlags('train', TrainFlags, tk.flags), E.map((flags): Command => ({ _tag: 'train', model, flags })))))
  }
  const dir = single(command, 'the run directory DIR', tk.positional)
  if (command === 'sample') return pipe(E.Do, E.apS('dir', dir), E.apS('flags', decodeFlags('sample', SampleFlags, tk.flags)), E.map((c): Command => ({ _tag: 'sample', ...c })))
  if (command === 'eval') return pipe(E.Do, E.apS('dir', dir), E.apS('flags', decodeFlags('eval', EvalFlags, tk.flags)), E.map((c): Command => ({ _tag: 'eval', ...c })))
  return pipe(dir, E.map((d): Command => ({ _tag: 'report', dir: d })))
}

const isCommand = (s: string): s is CommandName => (COMMANDS as readonly string[]).includes(s)

/**
 * Decodes `argv` (without `node` and the script): the subcommand, its
 * positional argument and its flags. `--help` anywhere gives the help command;
 * `--version` (or `-v`) as the first argument gives the version command.
 *
 * @example
 * parseArgs(['train', 'vae', '--epochs', '3'])   // Right({ _tag: 'train', model: 'vae', flags: { epochs: 3 } })
 * parseArgs(['train', 'foo'])                    // Left("tfppl: unknown model 'foo'; expected one of vae, cvae, ladder, vqvae, ssvae")
 */
export const parseArgs = (argv: readonly string[]): E.Either<string, Command> => {
  const [head, ...rest] = argv
  if (head === undefined) return E.left(`tfppl: missing command; expected one of ${COMMANDS.join(', ')} (tfppl --help for usage)`)
  if (head === '--help' || head === '-h' || head === 'help') return E.right({ _tag: 'help' })
  if (head === '--version' || head === '-v' || head === 'version') return E.right({ _tag: 'version' })
  if (!isCommand(head)) return E.left(`tfppl: unknown command ${quote(head)}; expected one of ${COMMANDS.join(', ')}`)
  return pipe(
    tokenize(head, rest),
    E.chain((tk) => (tk.flags['help'] !== undefined ? E.right<string, Command>({ _tag: 'help', command: head }) : decodeCommand(head, tk))),
  )
}
