/**
 * Transformed distributions: Y = f(X) for X ~ base and an elementwise bijector f.
 *
 * log p(y) = log p_base(f⁻¹(y)) − Σ_event log |df/dx|(f⁻¹(y))
 */
import * as tf from '@tensorflow/tfjs-core'
import * as constraints from './constraints.js'
import type { Bijector } from './bijectors.js'
import type { Distribution, Independent, RepOf, SampleFn } from './distribution.js'
import { makeDistribution } from './make.js'
import { sumRightmost } from './shape.js'
import { ShapeError, showShape } from '../errors.js'

/** f(X) for X ~ `base`; reparameterised exactly when `base` is. */
export interface Transformed<D extends Distribution<tf.Tensor> = Distribution<tf.Tensor>> extends Distribution<tf.Tensor, RepOf<D>> {
  readonly _tag: 'Transformed'
  readonly base: D
  readonly bijector: Bijector
  readonly toEvent: (n: number) => Independent<Transformed<D>>
  readonly expand: (batchShape: readonly number[]) => Transformed<D>
}

/**
 * A draw of f(X): `rsample` of the base when it is reparameterised (so gradients
 * flow through f), its `sample` otherwise. Unscoped: call it inside a scope.
 *
 * @example draw: (s, seed) => transformedDraw(base, exp(), s, seed)
 */
export const transformedDraw = (base: Distribution<tf.Tensor>, bijector: Bijector, s: readonly number[], seed: number | undefined): tf.Tensor =>
  bijector.forward(((base.rsample ?? base.sample) as SampleFn<tf.Tensor>)(s, seed))

/**
 * log p(y) = log p_base(x) − Σ_event log |df/dx|(x) with x = f⁻¹(y), summed
 * over the base's event dims. Unscoped: call it inside a scope.
 *
 * @example logProb: (y) => transformedLogProb(base, exp(), y)
 */
export const transformedLogProb = (base: Distribution<tf.Tensor>, bijector: Bijector, y: tf.Tensor): tf.Tensor => {
  const x = bijector.inverse(y)
  // forwardLogDetJacobian already sums over the bijector's own event dims (a simplex's last dim…).
  return tf.sub(base.logProb(x), sumRightmost(bijector.forwardLogDetJacobian(x), base.eventShape.length - bijector.domain.eventDims))
}

/**
 * The event shape of f(X): the base's, its rightmost dims mapped by the bijector (a stick-breaking
 * map turns K − 1 into K). The base must have at least the bijector's event dims.
 */
const eventShapeOf = (base: Distribution<tf.Tensor>, bijector: Bijector): number[] => {
  const d = bijector.domain.eventDims
  if (base.eventShape.length < d) {
    throw new ShapeError(`transformed(${base.name}, ${bijector.name}): the bijector maps ${d} event dim(s) but the base has eventShape ${showShape(base.eventShape)}; make them events first (base.toEvent(${d - base.eventShape.length}))`)
  }
  return [...base.eventShape.slice(0, base.eventShape.length - d), ...bijector.forwardShape(base.eventShape.slice(base.eventShape.length - d))]
}

/**
 * The distribution of f(X) for X ~ `base`, with density
 * log p(y) = log p_base(f⁻¹(y)) − Σ_event log |df/dx|(f⁻¹(y)).
 * Support: the bijector's codomain (over the base's event dims). There is no
 * closed-form mean, variance or entropy in general. The bijector's parameters
 * must broadcast to `batchShape ++ eventShape` of the base.
 *
 * @example
 * const d = transformed(normal(0, 1), sigmoid())   // a logit-normal on (0, 1)
 * d.logProb(d.sample([10], 0))                      // shape [10]
 */
export const transformed = <D extends Distribution<tf.Tensor>>(base: D, bijector: Bijector): Transformed<D> =>
  makeDistribution<Transformed<D>>({
    tag: 'Transformed', name: `transformed(${base.name}, ${bijector.name})`,
    fields: { base, bijector } as Omit<Transformed<D>, keyof Distribution>,
    batchShape: base.batchShape, eventShape: eventShapeOf(base, bijector),
    reparameterized: base.reparameterized as RepOf<Transformed<D>>,
    support: constraints.independent(bijector.codomain, base.eventShape.length - bijector.domain.eventDims),
    draw: (s, seed) => transformedDraw(base, bijector, s, seed),
    logProb: (y) => transformedLogProb(base, bijector, y),
    expand: (b) => transformed(base.expand(b) as D, bijector),
  })
