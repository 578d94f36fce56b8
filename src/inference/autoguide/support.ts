/**
 * The map from an autoguide's unconstrained parameters onto a latent site's
 * support: Pyro's biject_to (`bijectTo`), with a discrete support named
 * together with the way out (guide that site by hand, in a guideList).
 */
import { NoTransformError, bijectTo } from '../../distributions/biject.js'
import type { Bijector } from '../../distributions/bijectors.js'
import type { Constraint } from '../../distributions/constraints.js'
import { InvalidArgumentError } from '../../errors.js'

/**
 * The bijection from unconstrained space onto a site's support (identity on ℝ, exp onto x > 0,
 * sigmoid onto (0, 1), stick-breaking onto the simplex, …); a support with none (a discrete site)
 * is an error naming the autoguide, the site and the fix.
 *
 * @example supportBijector('autoNormal', { name: 'sigma', support: constraints.positive })   // exp
 */
export const supportBijector = (who: string, site: { readonly name: string; readonly support: Constraint }): Bijector => {
  try {
    return bijectTo(site.support)
  } catch (err) {
    if (!(err instanceof NoTransformError)) throw err
    throw new InvalidArgumentError(`${who}: site '${site.name}': ${err.message}. The autoguides take continuous latents only: leave it out (sites: { hide: ['${site.name}'] }) and guide it by hand, with guideList`)
  }
}
