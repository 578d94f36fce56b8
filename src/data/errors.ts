/**
 * The error of the data layer: a dataset file or tensor that cannot be used.
 */
import { TfpplError } from '../errors.js'

/**
 * A dataset that cannot be read or used: a missing or malformed file, counts
 * that disagree, or pixel and label values out of range. The message names the
 * file (or dataset), what was wrong and what was expected; `path` is the file
 * or directory concerned, when there is one.
 *
 * @example
 * try { idx('train-images-idx3-ubyte.gz') } catch (e) { if (e instanceof DataError) console.error(e.message, e.path) }
 */
export class DataError extends TfpplError {
  constructor(message: string, readonly path?: string) {
    super(message)
  }
}
