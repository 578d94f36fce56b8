/**
 * The KL registry: `kl(p, q)` dispatches on the pair of families and returns
 * the closed-form KL(p ‖ q) = E_p[log p(X) − log q(X)], shape = the broadcast
 * batch shape, or `undefined` when no closed form is registered (callers then
 * fall back to a Monte Carlo estimate). Registration is open: `registerKl`.
 */
import type * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { scoped } from '../backend/scope.js'
import type { Distribution, Independent } from './distribution.js'
import { sumRightmost } from './shape.js'
import { klNormalNormal } from './normal.js'
import type { Normal } from './normal.js'
import { klBernoulliBernoulli } from './bernoulli.js'
import type { Bernoulli } from './bernoulli.js'
import { klCategoricalCategorical } from './categorical.js'
import type { Categorical } from './categorical.js'
import { klOneHotOneHot } from './one-hot-categorical.js'
import type { OneHotCategorical } from './one-hot-categorical.js'
import { klLaplaceLaplace } from './laplace.js'
import type { Laplace } from './laplace.js'
import { klUniformUniform } from './uniform.js'
import type { Uniform } from './uniform.js'
import { klMvnMvn, klNormalMvn } from './multivariate-normal.js'
import type { MultivariateNormal } from './multivariate-normal.js'
import type { LowRankMultivariateNormal } from './low-rank-multivariate-normal.js'
import { klGammaGamma } from './gamma.js'
import type { Gamma } from './gamma.js'
import { klBetaBeta } from './beta.js'
import type { Beta } from './beta.js'
import { klDirichletDirichlet } from './dirichlet.js'
import type { Dirichlet } from './dirichlet.js'
import { klExponentialExponential, klExponentialGamma } from './exponential.js'
import type { Exponential } from './exponential.js'
import { klPoissonPoisson } from './poisson.js'
import type { Poisson } from './poisson.js'
import { klBinomialBinomial } from './binomial.js'
import type { Binomial } from './binomial.js'
import { klGeometricGeometric } from './geometric.js'
import type { Geometric } from './geometric.js'
import { klCauchyCauchy } from './cauchy.js'
import type { Cauchy } from './cauchy.js'

/** A closed-form KL(p ‖ q) between two families. */
export type KlFn<P extends Distribution = Distribution, Q extends Distribution = Distribution> = (p: P, q: Q) => tf.Tensor

const registry = new Map<string, KlFn>()
const keyOf = (pTag: string, qTag: string): string => `${pTag}‖${qTag}`

/**
 * Registers the closed form of KL(p ‖ q) for a pair of families (by `_tag`);
 * a later registration for the same pair replaces the earlier one.
 *
 * @example
 * registerKl<Normal, Laplace>('Normal', 'Laplace', (p, q) => myClosedForm(p, q))
 */
export const registerKl = <P extends Distribution, Q extends Distribution>(pTag: P['_tag'], qTag: Q['_tag'], f: KlFn<P, Q>): void => {
  registry.set(keyOf(pTag, qTag), f as unknown as KlFn)
}

/** Whether a closed form is registered for the pair. @example hasKl(normal(0, 1), normal(1, 1)) // true */
export const hasKl = (p: Distribution, q: Distribution): boolean => lookup(p, q) !== undefined

/** The key of a pair whose p is an Independent of a given base and rank (e.g. Normal.toEvent(1) against an MVN). */
const independentKey = (baseTag: string, n: number, qTag: string): string => `Independent(${baseTag},${n})‖${qTag}`

/**
 * Registers KL(p ‖ q) for p an Independent of base family `baseTag` with `n` reinterpreted dims
 * (e.g. a diagonal Normal as a vector) and q of family `qTag`.
 *
 * @example registerKlIndependent<Normal, MultivariateNormal>('Normal', 1, 'MultivariateNormal', klNormalMvn)
 */
export const registerKlIndependent = <B extends Distribution, Q extends Distribution>(baseTag: B['_tag'], n: number, qTag: Q['_tag'], f: KlFn<Independent<B>, Q>): void => {
  registry.set(independentKey(baseTag, n, qTag), f as unknown as KlFn)
}

const lookup = (p: Distribution, q: Distribution): KlFn | undefined => {
  if (p._tag === 'Independent' && q._tag === 'Independent') {
    const ip = p as Independent, iq = q as Independent
    if (ip.reinterpreted !== iq.reinterpreted || lookup(ip.base, iq.base) === undefined) return undefined
    return (a, b) => sumRightmost(klRaw((a as Independent).base, (b as Independent).base)!, ip.reinterpreted)
  }
  if (p._tag === 'Independent') {
    const ip = p as Independent
    return registry.get(independentKey(ip.base._tag, ip.reinterpreted, q._tag))
  }
  return registry.get(keyOf(p._tag, q._tag))
}

const klRaw = (p: Distribution, q: Distribution): tf.Tensor | undefined => lookup(p, q)?.(p, q)

/**
 * KL(p ‖ q) in closed form, or `undefined` when none is registered for the pair.
 * Independent/Independent pairs with the same reinterpreted rank sum the base KL
 * over the event dims.
 *
 * @example
 * const d = kl(normal(0, 1), normal(1, 2))   // log 2 + (1 + 1)/8 − ½
 * if (d === undefined) { … fall back to Monte Carlo … }
 */
export const kl = scoped('kl', (p: Distribution, q: Distribution): tf.Tensor | undefined => {
  if (p.eventShape.length !== q.eventShape.length || p.eventShape.some((d, i) => d !== q.eventShape[i])) {
    throw new ShapeError(`kl(${p.name}, ${q.name}): event shapes differ: ${showShape(p.eventShape)} vs ${showShape(q.eventShape)}`)
  }
  return klRaw(p, q)
})

registerKl<Normal, Normal>('Normal', 'Normal', klNormalNormal)
registerKl<Bernoulli, Bernoulli>('Bernoulli', 'Bernoulli', klBernoulliBernoulli)
registerKl<Categorical, Categorical>('Categorical', 'Categorical', klCategoricalCategorical)
registerKl<OneHotCategorical, OneHotCategorical>('OneHotCategorical', 'OneHotCategorical', klOneHotOneHot)
registerKl<Laplace, Laplace>('Laplace', 'Laplace', klLaplaceLaplace)
registerKl<Uniform, Uniform>('Uniform', 'Uniform', klUniformUniform)
registerKl<MultivariateNormal, MultivariateNormal>('MultivariateNormal', 'MultivariateNormal', klMvnMvn)
registerKl<LowRankMultivariateNormal, MultivariateNormal>('LowRankMultivariateNormal', 'MultivariateNormal', klMvnMvn)
registerKl<MultivariateNormal, LowRankMultivariateNormal>('MultivariateNormal', 'LowRankMultivariateNormal', klMvnMvn)
registerKl<LowRankMultivariateNormal, LowRankMultivariateNormal>('LowRankMultivariateNormal', 'LowRankMultivariateNormal', klMvnMvn)
registerKlIndependent<Normal, MultivariateNormal>('Normal', 1, 'MultivariateNormal', klNormalMvn)
registerKl<Gamma, Gamma>('Gamma', 'Gamma', klGammaGamma)
registerKl<Beta, Beta>('Beta', 'Beta', klBetaBeta)
registerKl<Dirichlet, Dirichlet>('Dirichlet', 'Dirichlet', klDirichletDirichlet)
registerKl<Exponential, Exponential>('Exponential', 'Exponential', klExponentialExponential)
registerKl<Exponential, Gamma>('Exponential', 'Gamma', klExponentialGamma)
registerKl<Poisson, Poisson>('Poisson', 'Poisson', klPoissonPoisson)
registerKl<Binomial, Binomial>('Binomial', 'Binomial', klBinomialBinomial)
registerKl<Geometric, Geometric>('Geometric', 'Geometric', klGeometricGeometric)
registerKl<Cauchy, Cauchy>('Cauchy', 'Cauchy', klCauchyCauchy)
