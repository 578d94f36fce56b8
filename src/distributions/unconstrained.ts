/**
 * Unconstrained parameterisations, as a pair of functions: the older face of {@link transformTo}
 * (`biject.ts`), which owns the maps. real: identity · positive: exp (default) or softplus ·
 * unitInterval: sigmoid · interval: sigmoid then affine · simplex: softmax (default) or stick-breaking ·
 * lowerCholesky, positiveDefinite: from ℝ^{n(n+1)/2}.
 */
import type * as tf from '@tensorflow/tfjs-core'
import { transformTo } from './biject.js'
import type { TransformName } from './biject.js'
import type { Constraint } from './constraints.js'

/** A map from unconstrained space onto a constraint's set, with its (right) inverse. */
export interface Unconstrained {
  /** Unconstrained → constrained. */
  readonly toConstrained: (u: tf.Tensor) => tf.Tensor
  /** Constrained → unconstrained. */
  readonly toUnconstrained: (x: tf.Tensor) => tf.Tensor
}

/**
 * The unconstrained parameterisation of a constraint: `transformTo(c, transform)` as a pair
 * of functions. A constraint with none (a discrete one) is a `NoTransformError`.
 *
 * @example
 * const t = unconstrainedFor(constraints.positive)
 * t.toConstrained(tf.scalar(-3))                                        // exp(−3) > 0
 * unconstrainedFor(constraints.positive, 'softplus').toConstrained(u)   // softplus(u), the default before exp
 */
export const unconstrainedFor = (c: Constraint, transform?: TransformName): Unconstrained => {
  const t = transformTo(c, transform)
  return { toConstrained: t.forward, toUnconstrained: t.inverse }
}
