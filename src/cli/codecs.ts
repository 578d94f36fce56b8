/**
 * io-ts codecs from command-line strings to typed values. Each codec's name
 * is the expectation shown when a flag's value does not decode
 * (`--epochs expects a positive integer; got 'abc'`).
 */
import * as t from 'io-ts'
import type { ModelKind } from '../models/image-model.js'

/** The model kinds, in the order messages list them. */
export const MODEL_KINDS: readonly ModelKind[] = ['vae', 'cvae', 'ladder', 'vqvae', 'ssvae']

/** A model kind (`vae`, `cvae`, `ladder`, `vqvae`, `ssvae`). @example ModelKindCodec.is('vae') // true */
export const ModelKindCodec: t.Type<ModelKind> = t.keyof({ vae: null, cvae: null, ladder: null, vqvae: null, ssvae: null }, `one of ${MODEL_KINDS.join(', ')}`)

const isDecimal = (u: unknown): u is string => typeof u === 'string' && /^[+-]?\d+$/.test(u) && Number.isSafeInteger(Number(u))

/** An integer written in decimal that satisfies `ok`; `expected` names it in messages. */
const intFromString = (expected: string, ok: (n: number) => boolean): t.Type<number, string, unknown> =>
  new t.Type<number, string, unknown>(
    expected,
    (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && ok(u),
    (u, c) => (isDecimal(u) && ok(Number(u)) ? t.success(Number(u)) : t.failure(u, c)),
    String,
  )

/** `'12'` → 12; rejects 0, negatives, fractions and words. @example PositiveIntFromString.decode('64') */
export const PositiveIntFromString = intFromString('a positive integer', (n) => n >= 1)

/** `'0'` → 0, `'7'` → 7; rejects negatives, fractions and words. @example NonNegativeIntFromString.decode('0') */
export const NonNegativeIntFromString = intFromString('a non-negative integer', (n) => n >= 0)

/** `'512,256'` → [512, 256]: hidden layer sizes. @example IntListFromString.decode('400') */
export const IntListFromString = new t.Type<readonly number[], string, unknown>(
  'positive integers separated by commas (e.g. 512,256)',
  (u): u is readonly number[] => Array.isArray(u) && u.every((n) => Number.isSafeInteger(n) && n >= 1),
  (u, c) => {
    if (typeof u !== 'string' || u === '') return t.failure(u, c)
    const parts = u.split(',')
    return parts.every((p) => isDecimal(p) && Number(p) >= 1) ? t.success(parts.map(Number)) : t.failure(u, c)
  },
  (xs) => xs.join(','),
)

/** A non-empty string (a path or a data set name). @example NonEmptyString.decode('runs/vae') */
export const NonEmptyString = new t.Type<string, string, unknown>(
  'a non-empty value',
  (u): u is string => typeof u === 'string' && u !== '',
  (u, c) => (typeof u === 'string' && u !== '' ? t.success(u) : t.failure(u, c)),
  String,
)

/** `--data`: `mnist`, `fashion-mnist`, or a directory holding the four IDX files. */
export const DataArgCodec = new t.Type<string, string, unknown>(
  'mnist, fashion-mnist or a directory with the four IDX files',
  (u): u is string => typeof u === 'string' && u !== '',
  (u, c) => (typeof u === 'string' && u !== '' ? t.success(u) : t.failure(u, c)),
  String,
)

/** A flag without a value (`--json`); the tokenizer passes `true`, so `--json=1` is refused. */
export const SwitchCodec = new t.Type<boolean, string, unknown>(
  'no value',
  (u): u is boolean => u === true,
  (u, c) => (u === true ? t.success(true) : t.failure(u, c)),
  String,
)

/** The flags of `tfppl train` (all optional: defaults are applied later, so `--resume` can tell given from default). */
export const TrainFlags = t.partial({
  data: DataArgCodec,
  epochs: PositiveIntFromString,
  'batch-size': PositiveIntFromString,
  'z-dim': PositiveIntFromString,
  hidden: IntListFromString,
  seed: NonNegativeIntFromString,
  limit: PositiveIntFromString,
  out: NonEmptyString,
  resume: SwitchCodec,
  'labels-per-class': PositiveIntFromString,
})

/** The flags of `tfppl sample`. */
export const SampleFlags = t.partial({ n: PositiveIntFromString, class: NonNegativeIntFromString, seed: NonNegativeIntFromString })

/** The flags of `tfppl eval`. */
export const EvalFlags = t.partial({ iwae: PositiveIntFromString, n: PositiveIntFromString, seed: NonNegativeIntFromString, json: SwitchCodec })

/** The flags of `tfppl report` (none). */
export const ReportFlags = t.partial({})

/** The decoded flags of `tfppl train`. */
export type TrainFlags = t.TypeOf<typeof TrainFlags>
/** The decoded flags of `tfppl sample`. */
export type SampleFlags = t.TypeOf<typeof SampleFlags>
/** The decoded flags of `tfppl eval`. */
export type EvalFlags = t.TypeOf<typeof EvalFlags>
