/**
 * Log-factors with named axes, for exact enumeration: each axis of a factor is
 * either a plate ('plate:<name>') or an enumerated variable ('enum:<site>'),
 * size-1 axes are dropped, and factors combine by name, not by position. Names
 * matter because `markov` recycles enumeration dims: two variables may sit on one
 * physical dim in different sites, but they are never confused by name.
 */
import * as tf from '@tensorflow/tfjs-core'
import { logSumExp } from '../backend/numerics.js'

/** A tensor whose axes carry names (one per axis, in order); a scalar has none. */
export interface Named {
  readonly value: tf.Tensor
  readonly dims: readonly string[]
}

/** The axis name of a plate. @example plateAxis('data') // 'plate:data' */
export const plateAxis = (plate: string): string => `plate:${plate}`

/** The axis name of an enumerated variable. @example enumAxis('y') // 'enum:y' */
export const enumAxis = (site: string): string => `enum:${site}`

/** Whether an axis name is an enumerated variable's. @example isEnumAxis('enum:y')   // true */
export const isEnumAxis = (dim: string): boolean => dim.startsWith('enum:')

/** The size of each named axis of `t`. */
const sizes = (t: Named): Map<string, number> => new Map(t.dims.map((d, i) => [d, t.value.shape[i]!]))

/**
 * `t` laid out along `dims` (a superset of its own): transposed into that order, with size-1 axes
 * where `t` lacks a name. @example alignTo({ value: [3, 4], dims: ['enum:y', 'plate:data'] }, ['plate:data', 'enum:y', 'enum:z'])   // shape [4, 3, 1]
 */
export const alignTo = (t: Named, dims: readonly string[]): tf.Tensor => {
  const own = t.dims.filter((d) => dims.includes(d))
  if (own.length !== t.dims.length) throw new Error(`alignTo: ${t.dims.join(', ')} is not within ${dims.join(', ')}`)
  const perm = own.slice().sort((a, b) => dims.indexOf(a) - dims.indexOf(b)).map((d) => t.dims.indexOf(d))
  const moved = perm.every((p, i) => p === i) ? t.value : tf.transpose(t.value, perm)
  const size = sizes(t)
  const shape = dims.map((d) => size.get(d) ?? 1)
  return shape.length === moved.rank && shape.every((s, i) => s === moved.shape[i]) ? moved : tf.reshape(moved, shape)
}

/** The union of the factors' axis names, in order of first appearance. @example unionDims([a, b])   // ['enum:z', 'plate:data'] */
export const unionDims = (ts: readonly Named[]): string[] => [...new Set(ts.flatMap((t) => t.dims))]

/**
 * Σ of log-factors (a product of factors), broadcast over the union of their axes.
 *
 * @example addNamed([logPrior, logLik])   // dims: the union of both
 */
export const addNamed = (ts: readonly Named[]): Named => {
  if (ts.length === 1) return ts[0]!
  const dims = unionDims(ts)
  if (ts.length === 0) return { value: tf.scalar(0), dims }
  const value = ts.map((t) => alignTo(t, dims)).reduce((a, b) => tf.add(a, b))
  return { value, dims }
}

/**
 * log Σ exp over the named axes (a sum over variables' values); names `t` lacks are ignored.
 *
 * @example logSumExpOver(joint, ['enum:z'])
 */
export const logSumExpOver = (t: Named, names: readonly string[]): Named => {
  const axes = names.map((n) => t.dims.indexOf(n)).filter((a) => a >= 0)
  if (axes.length === 0) return t
  return { value: logSumExp(t.value, axes), dims: t.dims.filter((_, i) => !axes.includes(i)) }
}

/**
 * Σ over the named axes (a product over plate elements of log-factors, or an expectation's sum).
 *
 * @example sumOver(term, ['plate:data'])
 */
export const sumOver = (t: Named, names: readonly string[]): Named => {
  const axes = names.map((n) => t.dims.indexOf(n)).filter((a) => a >= 0)
  if (axes.length === 0) return t
  return { value: tf.sum(t.value, axes), dims: t.dims.filter((_, i) => !axes.includes(i)) }
}

/**
 * How variable elimination reduces a variable: log Σ exp (the default; the marginal) or max (the
 * MAP, for `inferDiscrete`), and an optional record of each variable's combined factor before the
 * reduction (what a backward pass reads to pick the variable's value).
 */
export interface Elimination {
  readonly reduce: (t: Named, names: readonly string[]) => Named
  readonly record?: (variable: string, combined: Named) => void
}

/** The marginal: log Σ exp, nothing recorded. @example sumProduct(terms, vars, MARGINAL) */
export const MARGINAL: Elimination = { reduce: (t, names) => logSumExpOver(t, names) }

/**
 * Σ over variables of log-factors by variable elimination (sum-product in log space): each
 * variable in turn, the one whose factors span the fewest elements first, combining only the
 * factors that hold it — a chain of T variables of K values costs O(T·K²), not K^T.
 *
 * @example sumProduct([p1, p12, p23], ['enum:x1', 'enum:x2'])   // a factor of x3
 */
export const sumProduct = (terms: readonly Named[], vars: readonly string[], how: Elimination = MARGINAL): Named => {
  const pool = new Map(terms.map((t, i) => [i, t]))
  const holders = new Map(vars.map((v) => [v, new Set([...pool].filter(([, t]) => t.dims.includes(v)).map(([i]) => i))]))
  const left = new Set(vars.filter((v) => holders.get(v)!.size > 0))
  const span = (v: string): number => {
    const size = new Map([...holders.get(v)!].flatMap((i) => [...sizes(pool.get(i)!)]))
    return [...size.values()].reduce((a, b) => a * b, 1)
  }
  const spans = new Map([...left].map((v) => [v, span(v)]))
  let next = terms.length
  while (left.size > 0) {
    const v = [...left].reduce((best, u) => spans.get(u)! < spans.get(best)! ? u : best)
    const held = [...holders.get(v)!]
    const joint = addNamed(held.map((i) => pool.get(i)!))
    how.record?.(v, joint)
    const combined = how.reduce(joint, [v])
    for (const i of held) { for (const d of pool.get(i)!.dims) holders.get(d)?.delete(i); pool.delete(i) }
    pool.set(next, combined)
    for (const d of combined.dims) holders.get(d)?.add(next)
    next += 1
    left.delete(v)
    for (const d of joint.dims) if (left.has(d)) spans.set(d, span(d))   // only the eliminated variable's neighbours change
  }
  return addNamed([...pool.values()])
}
