import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import type { LossEstimate } from '../../src/inference/loss.js'
import { dataPoints, lossPerPoint, reportedLoss } from '../../src/inference/svi-parts.js'
import { read } from '../helpers.js'

/** An estimate whose surrogate (3w) differs from its bound (w²), as with score-function sites. */
const estimateOf = (w: tf.Scalar, dataSize?: number): LossEstimate =>
  ({ surrogate: tf.mul(3, w) as tf.Scalar, bound: tf.square(w) as tf.Scalar, baselines: [], dataSize })

describe('svi-parts', () => {
  describe('dataPoints', () => {
    it("the plate's size when subsampled, else the first tensor argument's leading dim, else 1", () => tf.tidy(() => {
      const est = estimateOf(tf.scalar(1))
      expect(dataPoints([tf.zeros([5, 2])], { ...est, dataSize: 100 })).toBe(100)
      expect(dataPoints([3, tf.scalar(1), tf.zeros([4]), tf.zeros([7])], est)).toBe(4)
      expect(dataPoints([], est)).toBe(1)
    }))
  })

  describe('reportedLoss', () => {
    it('has the value −bound / data points and the gradient −∇surrogate / data points', () => tf.tidy(() => {
      const w = tf.scalar(2)
      const x = tf.zeros([4, 3])
      const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => reportedLoss(estimateOf(v as tf.Scalar), [x]))(w)
      expect(read(value)).toEqual([-1])        // −2² / 4
      expect(read(grad)).toEqual([-0.75])      // −3 / 4
      expect(read(lossPerPoint(estimateOf(w, 8), [x]))).toEqual([-0.5])   // −2² / 8: the plate's size wins
    }))
  })
})
