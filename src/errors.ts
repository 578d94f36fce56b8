/**
 * The errors tfppl throws at its public boundary. Every message says what was
 * wrong, where (distribution, argument, site, file, field) and what was expected.
 *
 * @example
 * try { normal(0, -1) } catch (e) { if (e instanceof InvalidArgumentError) console.log(e.message) }
 */

/** Base class of every error tfppl throws on purpose. */
export class TfpplError extends Error {
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** A parameter value outside its allowed range (e.g. `normal: scale must be > 0`). */
export class InvalidArgumentError extends TfpplError {}

/**
 * A distribution argument that is NaN or ±∞ (e.g. a scale `exp(w)` that overflowed in training);
 * `svi` reports it as a `NonFiniteError` naming the step and the site.
 */
export class NonFiniteArgumentError extends InvalidArgumentError {}

/** Shapes that do not fit together (non-broadcastable parameters, `toEvent(n)` past the batch rank). */
export class ShapeError extends TfpplError {}

/** A value passed to `logProb` that lies outside the distribution's support. */
export class SupportError extends TfpplError {}

/** A requested backend that cannot be loaded, or a backend that failed to initialise. */
export class BackendError extends TfpplError {}

/** An operation the distribution has no closed form for (e.g. the mean of a relaxed family). */
export class NotImplementedError extends TfpplError {}

/** Formats a shape for messages: `[2, 3]`, or `[] (scalar)`. */
export const showShape = (shape: readonly number[]): string =>
  shape.length === 0 ? '[] (scalar)' : `[${shape.join(', ')}]`

/**
 * Whether two shapes are the same, dim for dim.
 *
 * @example sameShape([2, 3], [2, 3])   // true
 */
export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/**
 * The multi-index of row-major flat position `flat` in `shape`, for naming an element in messages.
 *
 * @example indexIn(5, [2, 3])   // [1, 2]
 */
export const indexIn = (flat: number, shape: readonly number[]): number[] => {
  const index: number[] = []
  for (let i = shape.length - 1, rest = flat; i >= 0; i--) {
    const d = shape[i] ?? 1
    index.unshift(rest % d)
    rest = Math.floor(rest / d)
  }
  return index
}
