/**
 * The argument checks `fit` runs before it trains anything: the ranges of its
 * options, finite values in the data, and validation data shaped like the
 * training data. Each failure is an {@link InvalidArgumentError} naming the
 * option or argument, what it was, and what was expected.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, indexIn, showShape } from '../errors.js'
import type { FitOptions } from './fit-types.js'

const isInt = (x: unknown, min: number): boolean => typeof x === 'number' && Number.isInteger(x) && x >= min

const fail = (option: string, expected: string, got: unknown): never => {
  throw new InvalidArgumentError(`fit: ${option} must be ${expected}; got ${typeof got === 'number' ? got : JSON.stringify(got)}`)
}

/**
 * Checks the numeric options of `fit`: `epochs` (default 1) and `checkpoint.every` positive integers,
 * `initialEpoch` a non-negative integer, `earlyStopping.patience` a positive integer and its
 * `minDelta` a finite number ≥ 0.
 *
 * @example checkFitOptions({ epochs: 0 })   // throws: fit: epochs must be a positive integer (the number of epochs to run); got 0
 */
export const checkFitOptions = (opts: FitOptions): void => {
  if (!isInt(opts.epochs ?? 1, 1)) fail('epochs', 'a positive integer (the number of epochs to run)', opts.epochs)
  if (opts.initialEpoch !== undefined && !isInt(opts.initialEpoch, 0)) fail('initialEpoch', 'a non-negative integer (epochs already done)', opts.initialEpoch)
  if (opts.checkpoint?.every !== undefined && !isInt(opts.checkpoint.every, 1)) fail('checkpoint.every', 'a positive integer (epochs between saves)', opts.checkpoint.every)
  const es = opts.earlyStopping
  if (es !== undefined && !isInt(es.patience, 1)) fail('earlyStopping.patience', 'a positive integer (epochs without improvement)', es.patience)
  if (es?.minDelta !== undefined && !(Number.isFinite(es.minDelta) && es.minDelta >= 0)) fail('earlyStopping.minDelta', 'a finite number ≥ 0', es.minDelta)
}

/**
 * Checks that every float tensor of `xs` holds only finite values (one reduction each; the
 * element is located only on failure), so NaN or ±∞ data is refused before training starts.
 *
 * @example await checkFinite('fit: data', [x])   // throws: fit: data: argument 0 (shape [4]) holds NaN at index [1]; expected finite values
 */
export const checkFinite = async (where: string, xs: readonly tf.Tensor[]): Promise<void> => {
  for (const [i, x] of xs.entries()) {
    if (x.dtype !== 'float32') continue
    const flag = tf.tidy(() => tf.all(tf.isFinite(x)))
    const ok = (await flag.data())[0] === 1   // asynchronous: the GPU backends cannot read synchronously
    flag.dispose()
    if (ok) continue
    const data = await x.data()
    const flat = data.findIndex((v) => !Number.isFinite(v))
    throw new InvalidArgumentError(`${where}: argument ${i} (shape ${showShape(x.shape)}) holds ${data[flat]} at index [${indexIn(flat, x.shape).join(', ')}]; expected finite values (NaN and ±Infinity are not data)`)
  }
}

/**
 * Checks that validation data has one tensor per training argument, each with the training
 * tensor's shape after the leading dim and its dtype (so validation cannot fail after an epoch).
 *
 * @example checkValidationFits([x, c], [xv, cv])
 */
export const checkValidationFits = (data: readonly tf.Tensor[], validation: readonly tf.Tensor[]): void => {
  if (validation.length !== data.length) {
    throw new InvalidArgumentError(`fit: validation has ${validation.length} tensor(s) but the data has ${data.length}; expected one validation tensor per data argument`)
  }
  validation.forEach((v, i) => {
    const d = data[i]!
    const same = v.rank === d.rank && v.shape.every((s, j) => j === 0 || s === d.shape[j]) && v.dtype === d.dtype
    if (!same) {
      throw new InvalidArgumentError(`fit: validation argument ${i} is ${v.dtype} ${showShape(v.shape)} but data argument ${i} is ${d.dtype} ${showShape(d.shape)}; expected the same dtype and the same shape after the leading (data) dim`)
    }
  })
}

/**
 * The data checks of `fit` after the shapes: validation shaped like tensor training data, and
 * finite values in both (`xs` is empty for an iterable dataset, whose batches are not checked).
 *
 * @example await checkFitData([x], [xVal], true)
 */
export const checkFitData = async (xs: readonly tf.Tensor[], validation: readonly tf.Tensor[] | undefined, tensorData: boolean): Promise<void> => {
  if (validation !== undefined && tensorData) checkValidationFits(xs, validation)
  await checkFinite('fit: data', xs)
  if (validation !== undefined) await checkFinite('fit: validation', validation)
}
