/**
 * Init strategies of the autoguides (Pyro's `init_to_*`): where each latent
 * site's parameters start, as a constrained value drawn from the model's
 * prototype trace.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError, showShape } from '../../errors.js'
import type { SampleSite } from '../trace.js'

/** A site's initial constrained value, from its prototype site (shape: the site's value shape). */
export type InitStrategy = (site: SampleSite) => tf.Tensor

/** Draws of a site's prior, seeded: `n` of them stacked on a new leading axis. */
const priorDraws = (site: SampleSite, n: number): tf.Tensor => site.dist.sample([n], 1)

/**
 * The elementwise median of 15 prior draws (Pyro's `init_to_median`): robust, inside the support.
 *
 * @example autoNormal(model, { init: initToMedian() })
 */
export const initToMedian = (numSamples = 15): InitStrategy => (site) => tf.tidy(() => {
  const draws = priorDraws(site, numSamples)
  const k = Math.floor(numSamples / 2)
  const sorted = tf.topk(tf.transpose(draws, [...Array.from({ length: draws.rank - 1 }, (_, i) => i + 1), 0]), numSamples).values
  return tf.squeeze(tf.slice(sorted, [...Array(sorted.rank - 1).fill(0), k], [...sorted.shape.slice(0, -1), 1]), [-1])
})

/**
 * One prior draw (Pyro's `init_to_sample`).
 *
 * @example autoNormal(model, { init: initToSample() })
 */
export const initToSample = (): InitStrategy => (site) => site.dist.sample([], 2)

/**
 * The prior mean where the family has one, else the median (Pyro's `init_to_mean`).
 *
 * @example autoNormal(model, { init: initToMean() })
 */
export const initToMean = (): InitStrategy => (site) => site.dist.mean !== undefined ? tf.clone(site.dist.mean) : initToMedian()(site)

/**
 * The given constrained values by site name (Pyro's `init_to_value`), `fallback` for the others.
 * A value must have the site's shape.
 *
 * @example autoNormal(model, { init: initToValue({ mu: tf.scalar(3) }) })
 */
export const initToValue = (values: Readonly<Record<string, tf.Tensor>>, fallback: InitStrategy = initToMedian()): InitStrategy => (site) => {
  const v = values[site.name]
  if (v === undefined) return fallback(site)
  const shape = site.value.shape
  if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
    throw new InvalidArgumentError(`initToValue: the value for site '${site.name}' has shape ${showShape(v.shape)}; the site's value has shape ${showShape(shape)}`)
  }
  return tf.clone(v)
}
