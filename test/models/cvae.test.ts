import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { elbo } from '../../src/inference/elbo.js'
import { svi } from '../../src/inference/svi.js'
import { cvae } from '../../src/models/cvae.js'
import { twoPrototypes } from './fixtures.js'

/** 16-pixel images as [n, 4, 4, 1]. */
const asImages = (x: tf.Tensor) => tf.reshape(x, [x.shape[0]!, 4, 4, 1]) as tf.Tensor4D

describe.each(['independent', 'conditional'] as const)('cvae, %s prior', (prior) => {
  it('trains, and class-conditional samples show the requested class', async () => {
    const { x, labels } = twoPrototypes(128, 16, 7)
    const images = asImages(x)
    const m = cvae({ imageShape: [4, 4, 1], numClasses: 2, zDim: 2, hidden: [32], prior, seed: 3 })
    const args = m.inputs(images, labels)
    expect(args.map((a) => a.shape)).toEqual([[128, 16], [128, 2]])
    const s = svi({ optimizer: tf.train.adam(0.02), loss: elbo(), seed: 3 })
    const h = await s.fit(m.model, m.guide, args as [tf.Tensor, tf.Tensor], { epochs: 40, batchSize: 32, progress: false })
    expect(h.epochs.at(-1)!.trainLoss).toBeLessThan(h.epochs[0]!.trainLoss - 3)
    tf.tidy(() => {
      // Prototype 0 lights the first 8 pixels, prototype 1 the last 8.
      for (const cls of [0, 1]) {
        const pix = m.sample(50, 11, cls).reshape([50, 16])
        const [first, second] = tf.split(tf.mean(pix, 0), 2).map((t) => tf.mean(t).dataSync()[0]!)
        expect(cls === 0 ? first! - second! : second! - first!).toBeGreaterThan(0.5)
      }
      expect(m.reconstruct(images, labels).shape).toEqual([128, 4, 4, 1])
      expect(m.traverse(2, 5, 1).shape).toEqual([10, 4, 4, 1])
    })
    s.params.dispose(); m.dispose(); tf.dispose([x, labels, images, ...args])
  })
})
