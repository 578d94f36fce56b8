/**
 * Shapes as a contract: branded batch and event shapes (so they cannot be
 * swapped), broadcasting with named errors, and parameter conversion.
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { scoped } from '../backend/scope.js'

declare const BatchBrand: unique symbol
declare const EventBrand: unique symbol

/** The shape of independent, non-identical draws: `logProb` keeps these dims. */
export type BatchShape = readonly number[] & { readonly [BatchBrand]: true }
/** The shape of one draw: `logProb` sums these dims away. */
export type EventShape = readonly number[] & { readonly [EventBrand]: true }

/** Brands a shape as a batch shape. @example batchShape([2, 3]) */
export const batchShape = (s: readonly number[]): BatchShape => [...s] as unknown as BatchShape
/** Brands a shape as an event shape. @example eventShape([10]) */
export const eventShape = (s: readonly number[]): EventShape => [...s] as unknown as EventShape

/** A number, nested array or tensor accepted as a distribution parameter. */
export type TensorLike = tf.Tensor | number | number[] | number[][] | number[][][] | Float32Array

/**
 * Broadcasts shapes NumPy-style; a {@link ShapeError} names the arguments that clash.
 *
 * @example
 * broadcastShapes('normal', [['loc', [3, 1]], ['scale', [4]]])   // [3, 4]
 */
export const broadcastShapes = (dist: string, shapes: ReadonlyArray<readonly [string, readonly number[]]>): number[] => {
  const rank = Math.max(0, ...shapes.map(([, s]) => s.length))
  const out: number[] = []
  for (let i = 0; i < rank; i++) {
    let dim = 1
    for (const [, s] of shapes) {
      const d = s[s.length - rank + i] ?? 1
      if (d !== 1 && dim !== 1 && d !== dim) {
        const list = shapes.map(([n, sh]) => `${n} ${showShape(sh)}`).join(', ')
        throw new ShapeError(`${dist}: parameter shapes do not broadcast: ${list} (dimension ${i - rank} is ${dim} vs ${d})`)
      }
      if (d !== 1) dim = d
    }
    out.push(dim)
  }
  return out
}

/** Whether `from` broadcasts to exactly `to`. @example broadcastsTo([3, 1], [2, 3, 4]) // true */
export const broadcastsTo = (from: readonly number[], to: readonly number[]): boolean =>
  from.length <= to.length && from.every((d, i) => d === 1 || d === to[to.length - from.length + i])

/**
 * Converts a parameter to a float32 tensor (tensors of another dtype are cast;
 * float32 tensors are used as they are, not copied).
 *
 * @example
 * asTensor(0.5, 'probs', 'bernoulli')
 */
export const asTensor = (x: TensorLike, arg: string, dist: string): tf.Tensor => {
  if (x instanceof tf.Tensor) return x.dtype === 'float32' ? x : tf.cast(x, 'float32')
  try {
    return tf.tensor(x as number[], undefined, 'float32')
  } catch (err) {
    throw new ShapeError(`${dist}: argument '${arg}' is not a number, rectangular array or tensor (${(err as Error).message})`)
  }
}

/**
 * Converts a family's parameters with {@link asTensor} and runs `check` on them in one memory
 * scope: when a check throws, the tensors converted from numbers or arrays are freed with it
 * (the caller's own tensors are never touched); otherwise they belong to the distribution.
 * Returns the parameters and what `check` returned (e.g. the broadcast batch shape).
 *
 * @example
 * const [{ loc, scale }, batchShape] = convertParams('normal', { loc: 0, scale: 1 }, (p) => broadcastShapes('normal', [['loc', p.loc.shape], ['scale', p.scale.shape]]))
 */
export const convertParams = <K extends string, R extends tf.TensorContainer = void>(
  dist: string, given: Readonly<Record<K, TensorLike>>, check: (p: Readonly<Record<K, tf.Tensor>>) => R,
): readonly [Record<K, tf.Tensor>, R] =>
  scoped(`${dist}.params`, (): [tf.NamedTensorMap, R] => {
    const p = Object.fromEntries(Object.entries<TensorLike>(given).map(([k, v]) => [k, asTensor(v, k, dist)])) as Record<K, tf.Tensor>
    return [p, check(p)]
  })() as unknown as readonly [Record<K, tf.Tensor>, R]

/** Checks a sample shape: non-negative integers. */
export const checkSampleShape = (dist: string, s: readonly number[]): void => {
  if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${dist}.sample: sampleShape must be an array of non-negative integers; got ${JSON.stringify(s)}`)
  }
}

/** Sums the rightmost `n` dims of `x` (identity for n = 0): {@link sumRightmost} of the backend. */
export { sumRightmost } from '../backend/rightmost.js'
