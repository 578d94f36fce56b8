/**
 * The compile-time check that a guide fits a model: every latent site of the
 * model is sampled by the guide with an assignable value type. A failing check
 * turns the guide parameter's type into one no function satisfies, and the
 * error message names the offending sites.
 */
import type { Message } from '../dsl/messages.js'
import type { Program } from '../dsl/program.js'
import type { MismatchedSites, MissingSites } from '../dsl/sites.js'

/** `unknown` when the guide fits; otherwise an object type naming the problem. */
export type GuideCheck<MM extends Message, MG extends Message> =
  [MissingSites<Program<MM, unknown>, Program<MG, unknown>>] extends [never]
    ? [MismatchedSites<Program<MM, unknown>, Program<MG, unknown>>] extends [never]
      ? unknown
      : { readonly 'guide samples these latent sites with another value type': MismatchedSites<Program<MM, unknown>, Program<MG, unknown>> }
    : { readonly 'guide does not sample these latent sites of the model': MissingSites<Program<MM, unknown>, Program<MG, unknown>> }
