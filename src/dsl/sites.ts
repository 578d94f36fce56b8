/**
 * Type-level site maps: the record of a program's latent and observed sites,
 * derived from what it yields. Names built at run time are `string` and fall
 * back to run-time checks.
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { SampleMsg, SiteKind } from './messages.js'
import type { MessagesOf } from './program.js'

/** One sample site at the type level. */
export interface Site<N extends string = string, T extends tf.Tensor = tf.Tensor, K extends SiteKind = SiteKind> {
  readonly name: N
  readonly value: T
  readonly kind: K
}

type SitesOfKind<P, K extends SiteKind> = {
  [M in Extract<MessagesOf<P>, SampleMsg<string, tf.Tensor, K>> as M['name']]: M extends SampleMsg<string, infer T, K> ? T : never
}

/**
 * `{ name: value type }` for every latent site of program type `P`.
 *
 * @example type L = LatentSites<ReturnType<typeof model>>   // { z: tf.Tensor }
 */
export type LatentSites<P> = SitesOfKind<P, 'latent'>

/**
 * `{ name: value type }` for every observed site of program type `P`.
 *
 * @example type O = ObservedSites<ReturnType<typeof model>>   // { x: tf.Tensor }
 */
export type ObservedSites<P> = SitesOfKind<P, 'observed'>

/**
 * The model's latent sites the guide does not sample (`never` when it covers
 * them all, or when either side's names are only known at run time).
 *
 * @example type Missing = MissingSites<ModelProgram, GuideProgram>   // 'z2'
 */
export type MissingSites<Model, Guide> =
  string extends keyof LatentSites<Model> ? never : Exclude<keyof LatentSites<Model>, keyof LatentSites<Guide> | EnumeratedSites<Model>>

/**
 * The names of a program's sites marked `{ enumerate: … }`: a model's enumerated site is summed out
 * by `enumElbo`, so the guide need not sample it.
 *
 * @example type E = EnumeratedSites<ReturnType<typeof mixture>>   // 'z'
 */
export type EnumeratedSites<P> = Extract<MessagesOf<P>, SampleMsg<string, tf.Tensor, 'latent', { readonly enumerate: 'parallel' | 'sequential' }>>['name']

/**
 * Shared latent sites whose guide value type is not assignable to the model's.
 *
 * @example type Bad = MismatchedSites<ModelProgram, GuideProgram>   // 'z'
 */
export type MismatchedSites<Model, Guide> = {
  [K in keyof LatentSites<Model> & keyof LatentSites<Guide>]: LatentSites<Guide>[K] extends LatentSites<Model>[K] ? never : K
}[keyof LatentSites<Model> & keyof LatentSites<Guide>]
