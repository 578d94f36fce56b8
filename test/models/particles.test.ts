/**
 * The five-minute check that our own models are written for plates and particles: each declares
 * its data plate, so a latent site has one entry per data point, and runs with vectorised
 * particles (the particle dim left of the data plate), steps with flat memory.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { elbo } from '../../src/inference/elbo.js'
import type { Handler } from '../../src/inference/interpreter.js'
import { svi } from '../../src/inference/svi.js'
import { cvae } from '../../src/models/cvae.js'
import { ladderVae } from '../../src/models/ladder-vae.js'
import { vae } from '../../src/models/vae.js'
import { vqVae } from '../../src/models/vq-vae.js'
import { binaryImages } from './fixtures.js'

const K = 3
const B = 2

/** name, a model with its inputs from B images, and one of its latent sites with its shape per particle. */
const cases = () => {
  const x = binaryImages(B)
  const labels = tf.tensor1d([0, 1], 'int32')
  const v = vae({ xDim: 784, zDim: 4, hidden: [8], seed: 1 })
  const c = cvae({ imageShape: [28, 28, 1], numClasses: 2, zDim: 4, hidden: [8], prior: 'conditional', seed: 1 })
  const l = ladderVae({ imageShape: [28, 28, 1], latentDims: [4, 2], hidden: 8, seed: 1 })
  const q = vqVae({ imageShape: [28, 28, 1], numCodes: 4, codeDim: 2, seed: 1 })
  return {
    x, labels,
    models: [
      { name: 'vae', m: v, args: v.inputs(x, labels), site: 'z', shape: [B, 4] },
      { name: 'cvae', m: c, args: c.inputs(x, labels), site: 'z', shape: [B, 4] },
      { name: 'ladder', m: l, args: l.inputs(x, labels), site: 'z2', shape: [B, 2] },
      { name: 'vq-vae', m: q, args: q.inputs(x, labels), site: 'codes', shape: [B, 7, 7, 2] },
    ],
  }
}

describe('our models under vectorised particles', () => {
  it('each model has a data plate, takes K particles in one run and steps with flat memory', () => {
    const { x, labels, models } = cases()
    for (const { name, m, args, site, shape } of models) {
      const seen: Array<{ shape: number[]; plates: string[] }> = []
      const spy: Handler = (msg, next) => {
        const r = next(msg)
        if (msg._tag === 'Sample' && msg.name === site) seen.push({ shape: (r.value as tf.Tensor).shape, plates: msg.plates.map((p) => p.name) })
        return r
      }
      const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo({ numParticles: K }), seed: 1 })
      const step = () => (s.step as (...a: unknown[]) => number)(m.model, m.guide, ...args)
      const losses = [step(), step()]
      const before = tf.memory().numTensors
      losses.push(step(), step())
      expect(tf.memory().numTensors, name).toBe(before)
      expect(losses.every(Number.isFinite), name).toBe(true)
      const one = tf.tidy(() => elbo({ numParticles: K }).estimate(m.model as never, m.guide as never, args as never, { seed: 2, handlers: [s.params.handler, spy], baselines: new Map() }).bound.dataSync()[0]!)
      expect(Number.isFinite(one), name).toBe(true)
      const last = seen.at(-1)!
      expect(last.shape, `${name}: '${site}' has a particle dim left of the data plate`).toEqual([K, ...shape])
      expect(last.plates, name).toEqual(['_particles', 'data'])
      s.params.dispose()
    }
    for (const { m, args } of models) { m.dispose(); tf.dispose(args) }
    tf.dispose([x, labels])
  })
})
