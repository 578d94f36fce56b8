import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { elbo } from '../../src/inference/elbo.js'
import { svi } from '../../src/inference/svi.js'
import { traceProgram } from '../../src/inference/trace.js'
import type { SampleSite } from '../../src/inference/trace.js'
import { vae } from '../../src/models/vae.js'
import { binaryImages, twoPrototypes } from './fixtures.js'

describe('vae', () => {
  it('an MLP VAE trains end to end: the loss falls and encode/decode have the right shapes', async () => {
    const { x, labels } = twoPrototypes(64, 16)
    const m = vae({ xDim: 16, zDim: 2, hidden: [32], seed: 1 })
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo(), seed: 1 })
    const h = await s.fit(m.model, m.guide, x, { epochs: 40, batchSize: 16, progress: false })
    const first = h.epochs[0]!.trainLoss, last = h.epochs.at(-1)!.trainLoss
    expect(Number.isFinite(last)).toBe(true)
    expect(last).toBeLessThan(first - 2)
    tf.tidy(() => {
      const { loc, scale } = m.encode(x)
      expect(loc.shape).toEqual([64, 2]); expect(scale.shape).toEqual([64, 2])
      const images = m.decode(loc)
      expect(images.shape).toEqual([64, 16])
      expect(tf.min(images).dataSync()[0]).toBeGreaterThanOrEqual(0)
      expect(tf.max(images).dataSync()[0]).toBeLessThanOrEqual(1)
    })
    s.params.dispose(); m.dispose(); tf.dispose([x, labels])
  })

  it.each(['continuousBernoulli', 'gaussian'] as const)('the %s likelihood trains to a finite, falling loss', async (likelihood) => {
    const { x, labels } = twoPrototypes(32, 16, 3)
    const m = vae({ xDim: 16, zDim: 2, hidden: [16], likelihood, seed: 2 })
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo(), seed: 2 })
    const h = await s.fit(m.model, m.guide, x, { epochs: 15, batchSize: 16, progress: false })
    expect(h.epochs.at(-1)!.trainLoss).toBeLessThan(h.epochs[0]!.trainLoss)
    s.params.dispose(); m.dispose(); tf.dispose([x, labels])
  })

  it('implements ImageModel: inputs, sample, reconstruct and traverse give images in [0, 1]', () => {
    const x = binaryImages(3)
    const m = vae({ imageShape: [28, 28, 1], zDim: 2, hidden: [16], seed: 5 })
    tf.tidy(() => {
      const labels = tf.tensor1d([0, 1, 2], 'int32')
      expect(m.inputs(x, labels).map((t) => t.shape)).toEqual([[3, 784]])
      for (const images of [m.sample(5, 1), m.reconstruct(x, labels), m.traverse(4, 6, 1)]) {
        expect(images.shape.slice(1)).toEqual([28, 28, 1])
        expect(tf.min(images).dataSync()[0]).toBeGreaterThanOrEqual(0)
        expect(tf.max(images).dataSync()[0]).toBeLessThanOrEqual(1)
      }
      expect(m.traverse(4, 6, 1).shape[0]).toBe(24)
      expect(m.sample(5, 1).dataSync()).toEqual(m.sample(5, 1).dataSync())
    })
    m.dispose(); x.dispose()
  })

  it('beta scales the latent site in model and guide (β-VAE)', () => tf.tidy(() => {
    const { x } = twoPrototypes(4, 16)
    const m = vae({ xDim: 16, zDim: 2, hidden: [8], beta: 4, seed: 3 })
    const q = traceProgram(m.guide(x)).trace
    const p = traceProgram(m.model(x)).trace
    expect((q.byName.get('z') as SampleSite).scale).toBe(4)
    expect((p.byName.get('z') as SampleSite).scale).toBe(4)
    expect((p.byName.get('x') as SampleSite).scale).toBe(1)
    m.dispose()
  }))

  it('a conv VAE takes three finite steps on 28×28 images (conv gradients on wasm)', () => {
    const x = binaryImages(8)
    const m = vae({ imageShape: [28, 28, 1], conv: true, zDim: 4, seed: 4 })
    const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 4 })
    const losses = [0, 1, 2].map(() => s.step(m.model, m.guide, x))
    losses.forEach((l) => expect(Number.isFinite(l)).toBe(true))
    tf.tidy(() => { expect(m.decode(tf.zeros([2, 4])).shape).toEqual([2, 28, 28, 1]) })
    s.params.dispose(); m.dispose(); x.dispose()
  })
})
