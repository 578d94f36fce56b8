/**
 * The map from an autoguide's unconstrained parameters onto a latent site's
 * support: none on ℝ, exp onto x > 0, sigmoid onto (0, 1) — the elementwise
 * bijections (Pyro's biject_to), independent forms included.
 */
import type * as tf from '@tensorflow/tfjs-core'
import { exp, sigmoid } from '../../distributions/bijectors.js'
import type { Bijector } from '../../distributions/bijectors.js'
import type { Constraint } from '../../distributions/constraints.js'
import { InvalidArgumentError } from '../../errors.js'

/** A support's constraint with its independent wrappers removed. */
const elementwise = (c: Constraint): Constraint => c._tag === 'independent' && c.base !== undefined ? elementwise(c.base) : c

/** The identity map (ℝ onto ℝ). */
const identity = { forward: (x: tf.Tensor) => x, inverse: (y: tf.Tensor) => y }

/**
 * The bijection onto a site's support, `undefined` for ℝ (no map); a support the autoguides
 * cannot parameterise is an error naming the site and the support.
 *
 * @example supportBijector({ name: 'sigma', support: constraints.positive })   // exp
 */
export const supportMap = (site: { readonly name: string; readonly support: Constraint }): Bijector | undefined => {
  const c = elementwise(site.support)
  switch (c._tag) {
    case 'real': return undefined
    case 'positive': return exp()
    case 'unitInterval': return sigmoid()
    default: throw new InvalidArgumentError(`autoguide: site '${site.name}' has support ${c.describe} (${c._tag}); the autoguides map onto real, positive and unit-interval supports today`)
  }
}

/**
 * `forward`/`inverse` onto a site's support (the identity on ℝ).
 *
 * @example supportBijector(site).forward(loc)
 */
export const supportBijector = (site: { readonly name: string; readonly support: Constraint }): { readonly forward: (x: tf.Tensor) => tf.Tensor; readonly inverse: (y: tf.Tensor) => tf.Tensor } =>
  supportMap(site) ?? identity
