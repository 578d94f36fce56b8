/**
 * From unconstrained space onto a support, as Pyro separates them: `bijectTo(c)` (Pyro's
 * `biject_to`) is a true bijection ℝⁿ → c with its log-Jacobian — what an autoguide needs to turn
 * a density over ℝⁿ into one over the support; `transformTo(c)` (Pyro's `transform_to`) may be any
 * map onto c — the softmax for the simplex, as constrained params use. Each constraint has a small
 * table of named transforms; a param picks one by name (`param(name, init, { constraint, transform })`)
 * and checkpoints record that name.
 *
 * | constraint | transformTo (default first) | bijectTo |
 * | --- | --- | --- |
 * | real | identity | identity |
 * | positive | exp, softplus | exp (or softplus) |
 * | unitInterval | sigmoid | sigmoid |
 * | interval(low, high) | sigmoid then affine(low, high − low) | the same |
 * | simplex | softmax, stickBreaking | stickBreaking |
 * | lowerCholesky | lowerCholesky | lowerCholesky |
 * | positiveDefinite | positiveDefinite = chain(lowerCholesky, choleskyOuter) | the same |
 * | independent(c, n) | c's, as independentTransform(…, n) | c's, as independentTransform(…, n) |
 *
 * Discrete supports (boolean, integers, one-hot) have none: a {@link NoTransformError}.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { affine, chain, choleskyOuter, exp, identity, independentTransform, lowerCholesky, sigmoid, softmax, softplus, stickBreaking } from './bijectors.js'
import { isBijector } from './bijector-core.js'
import type { Bijector, Transform } from './bijector-core.js'
import type { Constraint } from './constraints.js'

/** The name of a map from unconstrained space onto a constraint (what a param's `transform` option takes and a checkpoint records). */
export type TransformName = 'identity' | 'exp' | 'softplus' | 'sigmoid' | 'softmax' | 'stickBreaking' | 'lowerCholesky' | 'positiveDefinite'

/**
 * A support with no map from unconstrained space (a discrete one, or an unknown constraint), or a
 * transform name that does not map onto it.
 *
 * @example try { bijectTo(constraints.boolean) } catch (e) { if (e instanceof NoTransformError) … }
 */
export class NoTransformError extends InvalidArgumentError {}

/** The transforms onto each constraint by tag: the first is `transformTo`'s default, `biject` is `bijectTo`'s. */
const TABLE: Partial<Record<Constraint['_tag'], { readonly names: readonly TransformName[]; readonly biject: TransformName }>> = {
  real: { names: ['identity'], biject: 'identity' },
  positive: { names: ['exp', 'softplus'], biject: 'exp' },
  nonNegative: { names: ['exp', 'softplus'], biject: 'exp' },
  unitInterval: { names: ['sigmoid'], biject: 'sigmoid' },
  interval: { names: ['sigmoid'], biject: 'sigmoid' },
  simplex: { names: ['softmax', 'stickBreaking'], biject: 'stickBreaking' },
  lowerCholesky: { names: ['lowerCholesky'], biject: 'lowerCholesky' },
  positiveDefinite: { names: ['positiveDefinite'], biject: 'positiveDefinite' },
}

/** `independent(base, n)` → [base, n]; any other constraint → [it, 0]. */
const unwrap = (c: Constraint): readonly [Constraint, number] => {
  if (c._tag !== 'independent') return [c, 0]
  if (c.base === undefined) throw new NoTransformError(`no transform onto the support '${c.describe}': an 'independent' constraint without its base constraint`)
  const [inner, m] = unwrap(c.base)
  return [inner, m + c.eventDims - c.base.eventDims]
}

const entryOf = (who: string, c: Constraint): NonNullable<(typeof TABLE)[keyof typeof TABLE]> => {
  const e = TABLE[c._tag]
  if (e === undefined) {
    throw new NoTransformError(`${who}: no map from unconstrained space onto the support '${c._tag}' (${c.describe})${c._tag === 'nonZero' ? '' : ': discrete supports have none'}; supported: ${Object.keys(TABLE).join(', ')} and their independent forms`)
  }
  return e
}

/**
 * The transform names that map onto `c` (first: `transformTo`'s default), or [] if none does.
 *
 * @example transformNames(constraints.positive)   // ['exp', 'softplus']
 */
export const transformNames = (c: Constraint): readonly TransformName[] => {
  try { return entryOf('transformNames', unwrap(c)[0]).names } catch (e) { if (e instanceof NoTransformError) return []; throw e }
}

/** An interval constraint's bounds, when it carries them as `low` and `high`. */
const boundsOf = (who: string, c: Constraint): { low: tf.Tensor | number; high: tf.Tensor | number } => {
  const { low, high } = c as Constraint & { readonly low?: tf.Tensor | number; readonly high?: tf.Tensor | number }
  if (low === undefined || high === undefined) {
    throw new NoTransformError(`${who}: no map onto the interval '${c.describe}': the constraint does not carry its bounds (as fields 'low' and 'high')`)
  }
  return { low, high }
}

/** The bijection or transform `name` onto the (non-independent) constraint `c`. */
const build = (who: string, name: TransformName, c: Constraint): Transform => {
  switch (name) {
    case 'identity': return identity()
    case 'exp': return exp()
    case 'softplus': return softplus()
    case 'softmax': return softmax()
    case 'stickBreaking': return stickBreaking()
    case 'lowerCholesky': return lowerCholesky()
    case 'positiveDefinite': return chain(lowerCholesky(), choleskyOuter())
    case 'sigmoid': {
      if (c._tag !== 'interval') return sigmoid()
      const { low, high } = boundsOf(who, c)
      return chain(sigmoid(), affine(low, typeof low === 'number' && typeof high === 'number' ? high - low : tf.sub(high, low)))
    }
  }
}

/** Looks `name` (default: the table's) up for `c`, builds it, and wraps it for independent dims. */
const resolve = (who: string, c: Constraint, name: TransformName | undefined, pick: (e: NonNullable<(typeof TABLE)[keyof typeof TABLE]>) => TransformName): Transform => {
  const [inner, n] = unwrap(c)
  const e = entryOf(who, inner)
  const chosen = name ?? pick(e)
  if (!e.names.includes(chosen)) {
    throw new NoTransformError(`${who}: the transform '${chosen}' does not map onto the support '${inner._tag}' (${inner.describe}); choose ${e.names.map((k) => `'${k}'`).join(' or ')}`)
  }
  const t = build(who, chosen, inner)
  return n === 0 ? t : independentTransform(t, n)
}

/**
 * A map from unconstrained space onto `c` (Pyro's `transform_to`): `forward` constrains, `inverse`
 * is a right inverse. Not necessarily one-to-one (the simplex's default is softmax). `name` picks
 * another of the constraint's maps (positive: 'exp' (default, as Pyro) or 'softplus'; simplex:
 * 'softmax' (default) or 'stickBreaking').
 *
 * @example
 * transformTo(constraints.positive).forward(tf.scalar(0))               // e⁰ = 1
 * transformTo(constraints.positive, 'softplus').forward(tf.scalar(0))   // log 2
 */
export const transformTo = (c: Constraint, name?: TransformName): Transform =>
  resolve('transformTo', c, name, (e) => e.names[0]!)

/**
 * The bijection from unconstrained space onto `c` (Pyro's `biject_to`), with its log-Jacobian:
 * if u has density q(u), then y = f(u) has log q(f⁻¹(y)) − log |det ∂f/∂u|(f⁻¹(y)). Dimensions
 * follow the support: the simplex of K is reached from ℝ^{K−1} (stick-breaking), the n×n
 * lower-Cholesky and positive-definite matrices from ℝ^{n(n+1)/2}; `inverseShape` gives the
 * unconstrained shape. `name` picks another bijective map (positive: 'softplus').
 *
 * @example
 * const f = bijectTo(constraints.simplex)
 * f.forward(tf.zeros([2]))                  // [1/3, 1/3, 1/3]
 * f.inverseShape([3])                       // [2]
 * bijectTo(constraints.boolean)             // throws NoTransformError
 */
export const bijectTo = (c: Constraint, name?: TransformName): Bijector => {
  if (name === 'softmax') throw new NoTransformError(`bijectTo: softmax is not a bijection onto the simplex (K inputs, K − 1 degrees of freedom); use 'stickBreaking'`)
  const t = resolve('bijectTo', c, name, (e) => e.biject)
  if (!isBijector(t)) throw new NoTransformError(`bijectTo: '${t.name}' is not a bijection onto '${c.describe}'`)
  return t
}
