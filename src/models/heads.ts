/**
 * The pieces every image model shares: splitting an encoder's output into a
 * Gaussian's (loc, scale), and the pixel likelihoods p(x | decoder output).
 */
import * as tf from '@tensorflow/tfjs-core'
import { softplus } from '../backend/numerics.js'
import { bernoulli } from '../distributions/bernoulli.js'
import { continuousBernoulli } from '../distributions/continuous-bernoulli.js'
import type { Distribution } from '../distributions/distribution.js'
import { normal } from '../distributions/normal.js'

/** The pixel likelihoods the image models support. */
export type Likelihood = 'bernoulli' | 'continuousBernoulli' | 'gaussian'

/** Smallest scale a Gaussian head produces, so log-densities stay finite. */
const MIN_SCALE = 1e-4

/** How a Gaussian head maps raw outputs to a scale: softplus(r), or exp(r) (Pyro's VAE example). */
export type ScaleLink = 'softplus' | 'exp'

/**
 * Splits `h` [B, 2d] into loc = h[:, :d] and scale = link(h[:, d:]) + minScale (default 1e-4),
 * link softplus (default) or exp.
 *
 * @example const { loc, scale } = gaussianHead(encode(x), 50)
 */
export const gaussianHead = (h: tf.Tensor, d: number, minScale = MIN_SCALE, link: ScaleLink = 'softplus'): { loc: tf.Tensor; scale: tf.Tensor } => {
  const [loc, raw] = tf.split(h, [d, d], -1) as [tf.Tensor, tf.Tensor]
  return { loc, scale: tf.add(link === 'exp' ? tf.exp(raw) : softplus(raw), minScale) }
}

/**
 * p(x | out) with the `pixelDims` rightmost dims (1 for flat images, 3 for [h, w, c]) as one
 * event, the dims left of them (particles, plates, batch) as its batch: Bernoulli or continuous
 * Bernoulli on logits `out`, or N(out, obsScale).
 *
 * @example yield* observe('x', pixelLikelihood('bernoulli', decode(z), 1), x)
 */
export const pixelLikelihood = (kind: Likelihood, out: tf.Tensor, pixelDims: number, obsScale?: tf.Tensor): Distribution => {
  const d = kind === 'bernoulli' ? bernoulli({ logits: out })
    : kind === 'continuousBernoulli' ? continuousBernoulli({ logits: out })
    : normal(out, obsScale ?? 1)
  return d.toEvent(pixelDims)
}

/**
 * The mean image of the likelihood: σ(out) for Bernoulli, the continuous Bernoulli mean, or out.
 *
 * @example const images = pixelMean('bernoulli', decode(z))
 */
export const pixelMean = (kind: Likelihood, out: tf.Tensor): tf.Tensor =>
  kind === 'bernoulli' ? tf.sigmoid(out) : kind === 'continuousBernoulli' ? continuousBernoulli({ logits: out }).mean : out
