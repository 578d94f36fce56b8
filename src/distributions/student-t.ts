/**
 * Student's t distribution with location and scale.
 *
 * log p(x) = −log B(ν/2, ½) − ½ log ν − log σ − (ν + 1)/2 · log(1 + ((x − μ)/σ)²/ν)
 */
import * as tf from '@tensorflow/tfjs-core'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'
import { logGammaSample } from '../backend/gamma-sampler.js'
import { log1p } from '../backend/numerics.js'
import { standardNormal } from '../backend/random.js'
import { subSeed } from '../backend/seed.js'
import { digamma, lbeta } from '../backend/special.js'

/** StudentT(df, loc, scale): reparameterised (through Gamma and Normal), support ℝ. */
export interface StudentT extends Distribution<tf.Tensor, true> {
  readonly _tag: 'StudentT'
  /** μ where ν > 1, NaN where ν ≤ 1 (undefined mean). */
  readonly mean: tf.Tensor
  /** σ²ν/(ν − 2) where ν > 2, +∞ where 1 < ν ≤ 2, NaN where ν ≤ 1. */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** ν, the degrees of freedom. */
  readonly df: tf.Tensor
  readonly loc: tf.Tensor
  readonly scale: tf.Tensor
  readonly toEvent: (n: number) => Independent<StudentT>
  readonly expand: (batchShape: readonly number[]) => StudentT
}

/**
 * StudentT(df ν, loc μ, scale σ), log p(x) = −log B(ν/2, ½) − ½ log ν − log σ − (ν + 1)/2 · log(1 + w²/ν)
 * with w = (x − μ)/σ (log B rather than a difference of log Γ, so that large ν keeps its digits).
 * Mean μ (ν > 1), variance σ²ν/(ν − 2) (ν > 2; +∞ for 1 < ν ≤ 2; NaN below, as Pyro), entropy
 * (ν + 1)/2 · (ψ((ν + 1)/2) − ψ(ν/2)) + ½ log ν + log B(ν/2, ½) + log σ (for ν ≫ 100 the ψ
 * difference loses float32 digits). `rsample` is μ + σ ε / √(V/ν), ε ~ N(0, 1), V = 2G,
 * G ~ Gamma(ν/2, 1) drawn in log space; gradients reach ν by implicit reparameterisation.
 *
 * @example
 * const d = studentT(3, tf.zeros([2]), 1)
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const studentT = (df: TensorLike, loc: TensorLike, scale: TensorLike): StudentT => {
  const [{ df: $df, loc: $loc, scale: $scale }, batchShape] = convertParams('studentT', { df, loc, scale }, (p) => {
    const shape = broadcastShapes('studentT', [['df', p.df.shape], ['loc', p.loc.shape], ['scale', p.scale.shape]])
    checkParam('studentT', 'df', p.df, constraints.positive)
    checkParam('studentT', 'loc', p.loc, constraints.real)
    checkParam('studentT', 'scale', p.scale, constraints.positive)
    return shape
  })
  const full = (x: tf.Tensor) => tf.broadcastTo(x, batchShape)
  const halfDf = () => tf.mul(0.5, $df)
  return makeDistribution<StudentT>({
    tag: 'StudentT', name: 'studentT', fields: { df: $df, loc: $loc, scale: $scale },
    batchShape, eventShape: [], reparameterized: true, support: constraints.real,
    draw: (s, seed) => {
      const shape = [...s, ...batchShape]
      // 1/√(V/ν) = exp(−½ (log G + log 2 − log ν)), V = 2G
      const logG = logGammaSample(halfDf(), shape, subSeed(seed, 0))
      const inverseRoot = tf.exp(tf.mul(-0.5, tf.sub(tf.add(logG, Math.LN2), tf.log($df))))
      return tf.add($loc, tf.mul($scale, tf.mul(standardNormal(shape, subSeed(seed, 1)), inverseRoot)))
    },
    logProb: (x) => {
      const w2 = tf.square(tf.div(tf.sub(x, $loc), $scale))
      const norm = tf.add(lbeta(halfDf(), tf.scalar(0.5)), tf.add(tf.mul(0.5, tf.log($df)), tf.log($scale)))
      return tf.neg(tf.add(norm, tf.mul(tf.mul(0.5, tf.add($df, 1)), log1p(tf.div(w2, $df)))))
    },
    mean: () => full(tf.where(tf.greater($df, 1), tf.broadcastTo($loc, batchShape), tf.fill(batchShape, NaN))),
    variance: () => {
      const v = tf.div(tf.mul(tf.square($scale), $df), tf.sub($df, 2))
      const df = full($df)
      return tf.where(tf.greater(df, 2), full(v), tf.where(tf.greater(df, 1), tf.fill(batchShape, Infinity), tf.fill(batchShape, NaN)))
    },
    entropy: () => {
      const h = tf.mul(tf.mul(0.5, tf.add($df, 1)), tf.sub(digamma(tf.mul(0.5, tf.add($df, 1))), digamma(halfDf())))
      return full(tf.add(tf.add(h, tf.mul(0.5, tf.log($df))), tf.add(lbeta(halfDf(), tf.scalar(0.5)), tf.log($scale))))
    },
    expand: (b) => studentT(tf.broadcastTo($df, [...b]), tf.broadcastTo($loc, [...b]), tf.broadcastTo($scale, [...b])),
  })
}
