/**
 * The Dirichlet distribution on the probability simplex (event dim 1).
 *
 * log p(x) = Σₖ (αₖ − 1) log xₖ + log Γ(α₀) − Σₖ log Γ(αₖ),  α₀ = Σₖ αₖ
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { scoped } from '../backend/scope.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'
import { FLOAT32_TINY, logGammaSample } from '../backend/gamma-sampler.js'
import { digamma, lgamma } from '../backend/special.js'

/** Dirichlet(concentration): reparameterised (through Gammas), values on the simplex, event shape [K]. */
export interface Dirichlet extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Dirichlet'
  /** α/α₀, shape `[...batchShape, K]`. */
  readonly mean: tf.Tensor
  /** αₖ(α₀ − αₖ)/(α₀²(α₀ + 1)), elementwise. */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** α, shape `[...batchShape, K]`. */
  readonly concentration: tf.Tensor
  readonly toEvent: (n: number) => Independent<Dirichlet>
  readonly expand: (batchShape: readonly number[]) => Dirichlet
}

/** log B(α) = Σₖ log Γ(αₖ) − log Γ(α₀) over the last dim. */
const logNormalizer = (alpha: tf.Tensor): tf.Tensor => tf.sub(tf.sum(lgamma(alpha), -1), lgamma(tf.sum(alpha, -1)))

/**
 * Dirichlet(concentration α) over the last dim of α (K = its size; the dims before it are the
 * batch), log p(x) = Σₖ (αₖ − 1) log xₖ − log B(α), log B(α) = Σₖ log Γ(αₖ) − log Γ(α₀).
 * Mean α/α₀, variance αₖ(α₀ − αₖ)/(α₀²(α₀ + 1)), entropy log B(α) + (α₀ − K)ψ(α₀) − Σₖ(αₖ − 1)ψ(αₖ).
 * `rsample` normalises independent Gammas, Gₖ/Σⱼ Gⱼ = softmax(log G), from log-Gamma draws so
 * that tiny concentrations keep every component positive (clamped below at 1.2e-38); gradients
 * reach α by implicit reparameterisation.
 *
 * @example
 * const d = dirichlet(tf.tensor2d([[1, 1, 1], [0.1, 2, 5]]))   // batch [2], event [3]
 * d.logProb(d.sample([10], 0))                                 // shape [10, 2]
 */
export const dirichlet = (concentration: TensorLike): Dirichlet => {
  const [{ concentration: $a }, shape] = convertParams('dirichlet', { concentration }, (p) => {
    const s = p.concentration.shape
    if (s.length === 0 || s[s.length - 1]! < 1) {
      throw new ShapeError(`dirichlet: argument 'concentration' must have a last dim of at least 1 (the event dim K); got shape ${showShape(s)}`)
    }
    checkParam('dirichlet', 'concentration', p.concentration, constraints.positive)
    return s
  })
  const batchShape = shape.slice(0, -1)
  const total = () => tf.sum($a, -1, true)
  return makeDistribution<Dirichlet>({
    tag: 'Dirichlet', name: 'dirichlet', fields: { concentration: $a },
    batchShape, eventShape: shape.slice(-1), reparameterized: true, support: constraints.simplex,
    draw: (s, seed) => tf.maximum(tf.softmax(logGammaSample($a, [...s, ...shape], seed)), FLOAT32_TINY),
    logProb: (x) => tf.sub(tf.sum(tf.mul(tf.sub($a, 1), tf.log(x)), -1), logNormalizer($a)),
    mean: () => tf.div($a, total()),
    variance: () => tf.div(tf.mul($a, tf.sub(total(), $a)), tf.mul(tf.square(total()), tf.add(total(), 1))),
    entropy: () => {
      const a0 = tf.sum($a, -1)
      const k = shape[shape.length - 1]!
      return tf.sub(tf.add(logNormalizer($a), tf.mul(tf.sub(a0, k), digamma(a0))), tf.sum(tf.mul(tf.sub($a, 1), digamma($a)), -1))
    },
    expand: (b) => dirichlet(tf.broadcastTo($a, [...b, ...shape.slice(-1)])),
  })
}

/**
 * KL(p ‖ q) for two Dirichlets over the same K: log Γ(α₀ᵖ) − Σₖ log Γ(αₖᵖ) − log Γ(α₀^q)
 * + Σₖ log Γ(αₖ^q) + Σₖ (αₖᵖ − αₖ^q)(ψ(αₖᵖ) − ψ(α₀ᵖ)). Exactly 0 for equal parameters.
 *
 * @example klDirichletDirichlet(dirichlet([1, 1, 1]), dirichlet([2, 3, 4]))
 */
export const klDirichletDirichlet = scoped('klDirichletDirichlet', (p: Dirichlet, q: Dirichlet): tf.Tensor => {
  const ap = p.concentration, aq = q.concentration
  const a0 = tf.sum(ap, -1, true)
  const cross = tf.sum(tf.mul(tf.sub(ap, aq), tf.sub(digamma(ap), digamma(a0))), -1)
  return tf.add(tf.sub(logNormalizer(aq), logNormalizer(ap)), cross)
})
