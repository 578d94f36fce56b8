/**
 * The warnings channel: what tfppl runs (as Pyro does) but suspects is not what
 * the user meant — data naming no site, a plate only the guide has, a guide
 * whose sites come in another order than the model's under analytic KL, fresh
 * parameters read by evaluate or predictive. `svi` and `predictive` take
 * `onWarning` (default: one `console.warn` per cause) and `strict` (every
 * warning is an error).
 */
import { TfpplError } from '../errors.js'

/** What a warning is about: one tag per cause. */
export type WarningCause = 'unknown-names' | 'guide-only-plate' | 'kl-site-order' | 'fresh-params' | 'no-enumerated-site' | 'outside-plate'

/** One warning: its cause and a message that says what, where, and what to do. */
export interface TfpplWarning {
  readonly cause: WarningCause
  readonly message: string
}

/** A warning raised as an error, under `strict: true`. */
export class StrictWarningError extends TfpplError {}

/** Where warnings go: a function of one warning. */
export type Warn = (w: TfpplWarning) => void

/** Options that choose where warnings go. */
export interface WarningOptions {
  /** Called with every warning (default: `console.warn`, once per cause and message). */
  readonly onWarning?: (w: TfpplWarning) => void
  /** Every warning becomes a {@link StrictWarningError} (default false). */
  readonly strict?: boolean
}

/**
 * The sink of `opts`: throws under `strict`, calls `onWarning` when given, else prints each
 * distinct message once (a warning met every step is printed the first time only).
 *
 * @example const warn = warningSink({ strict: true }); warn({ cause: 'unknown-names', message: '…' })   // throws
 */
export const warningSink = (opts: WarningOptions = {}): Warn => {
  const printed = new Set<string>()
  return (w) => {
    if (opts.strict === true) throw new StrictWarningError(`${w.message} (a warning, an error under strict: true)`)
    if (opts.onWarning !== undefined) return opts.onWarning(w)
    const key = `${w.cause}\u0000${w.message}`
    if (printed.has(key)) return
    printed.add(key)
    console.warn(`tfppl warning (${w.cause}): ${w.message}`)
  }
}

/** Names listed for a message: 'a', 'b' (or 'none'). */
export const listNames = (names: Iterable<string>): string => [...names].map((n) => `'${n}'`).join(', ') || 'none'
