import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { elbo } from '../../src/inference/elbo.js'
import { svi } from '../../src/inference/svi.js'
import { traceProgram } from '../../src/inference/trace.js'
import type { SampleSite } from '../../src/inference/trace.js'
import { ladderVae, precisionMerge } from '../../src/models/ladder-vae.js'
import { expectClose, read } from '../helpers.js'
import { twoPrototypes } from './fixtures.js'

describe('ladderVae', () => {
  it('precision-weighted merging matches the float64 formula', () => tf.tidy(() => {
    const [m1, s1, m2, s2] = [[0.5, -1], [0.3, 2], [1.5, 0], [0.6, 0.5]]
    const { loc, scale } = precisionMerge(tf.tensor1d(m1), tf.tensor1d(s1), tf.tensor1d(m2), tf.tensor1d(s2))
    const v = m1.map((_, i) => 1 / (1 / s1[i]! ** 2 + 1 / s2[i]! ** 2))
    expectClose(read(scale), v.map(Math.sqrt), 1e-5)
    expectClose(read(loc), v.map((vi, i) => vi * (m1[i]! / s1[i]! ** 2 + m2[i]! / s2[i]! ** 2)), 1e-5)
  }))

  it('has a chain of latent sites z_L … z_1, all scaled by the warm-up β in model and guide', () => tf.tidy(() => {
    const { x } = twoPrototypes(4, 16)
    const m = ladderVae({ imageShape: [16, 1, 1], latentDims: [4, 3, 2], hidden: 8, warmup: 4, seed: 1 })
    expect(m.beta()).toBe(1)   // outside training (eval, sampling) the bound is the true ELBO
    m.beforeEpoch!(1)
    expect(m.beta()).toBe(0)
    m.beforeEpoch!(2)
    expect(m.beta()).toBeCloseTo(0.25, 10)
    const p = traceProgram(m.model(x)).trace, q = traceProgram(m.guide(x)).trace
    expect(p.sites.map((s) => s.name)).toEqual(['z3', 'z2', 'z1', 'x'])
    expect(q.sites.map((s) => s.name)).toEqual(['z3', 'z2', 'z1'])
    for (const t of [p, q]) for (const n of ['z1', 'z2', 'z3']) expect((t.byName.get(n) as SampleSite).scale).toBeCloseTo(0.25, 10)
    expect((p.byName.get('x') as SampleSite).scale).toBe(1)
    m.beforeEpoch!(9)
    expect(m.beta()).toBe(1)
    m.dispose()
  }))

  it('with stepsPerEpoch, β rises after every step (continuing across epochs) and restarts correctly on resume', () => {
    const m = ladderVae({ imageShape: [16, 1, 1], latentDims: [4, 2], hidden: 8, warmup: 2, stepsPerEpoch: 4, seed: 1 })
    m.beforeEpoch!(1)
    const seen = [m.beta()]
    for (let i = 0; i < 4; i++) { m.afterStep!([]); seen.push(m.beta()) }
    m.beforeEpoch!(2)
    seen.push(m.beta())
    m.afterStep!([]); seen.push(m.beta())
    expectClose(seen, [0, 0.125, 0.25, 0.375, 0.5, 0.5, 0.625], 1e-12, 1e-12)
    const resumed = ladderVae({ imageShape: [16, 1, 1], latentDims: [4, 2], hidden: 8, warmup: 2, stepsPerEpoch: 4, seed: 1 })
    resumed.beforeEpoch!(2)
    expect(resumed.beta()).toBeCloseTo(0.5, 12)
    expect(() => ladderVae({ imageShape: [16, 1, 1], latentDims: [4], stepsPerEpoch: 0 })).toThrow(/stepsPerEpoch must be a positive integer/)
    expect(() => ladderVae({ imageShape: [16, 1, 1], latentDims: [4], minScale: 0 })).toThrow(/minScale must be > 0/)
    m.dispose(); resumed.dispose()
  })

  it('minScale floors every scale of the ladder', () => tf.tidy(() => {
    const { x } = twoPrototypes(4, 16)
    const m = ladderVae({ imageShape: [16, 1, 1], latentDims: [4, 2], hidden: 8, minScale: 5, seed: 3 })
    // The top prior p(z_2) is N(0, I); every other scale comes from a head.
    for (const [t, names] of [[traceProgram(m.model(x)).trace, ['z1']], [traceProgram(m.guide(x)).trace, ['z1', 'z2']]] as const) {
      for (const n of names) {
        const d = (t.byName.get(n) as SampleSite).dist as unknown as { base: { scale: tf.Tensor } }
        expect(tf.min(d.base.scale).dataSync()[0]).toBeGreaterThanOrEqual(5 * Math.SQRT1_2 - 1e-5)
      }
    }
    m.dispose()
  }))

  it('trains end to end with warm-up; the guide shares the top-down networks with the model', async () => {
    const { x, labels } = twoPrototypes(64, 16, 4)
    const m = ladderVae({ imageShape: [16, 1, 1], latentDims: [4, 2], hidden: 32, warmup: 3, seed: 2 })
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo(), seed: 2 })
    const h = await s.fit(m.model, m.guide, [x], { epochs: 30, batchSize: 16, progress: false, onEpochStart: m.beforeEpoch })
    expect(h.epochs.at(-1)!.trainLoss).toBeLessThan(h.epochs[3]!.trainLoss)
    const names = s.params.entries().map((e) => e.name).sort()
    expect(names).toEqual(['decoder', 'head1', 'head2', 'topdown1', 'up1', 'up2'])
    tf.tidy(() => {
      const images = tf.reshape(x, [64, 16, 1, 1]) as tf.Tensor4D
      for (const out of [m.sample(6, 1), m.reconstruct(images, labels), m.traverse(2, 3, 1)]) {
        expect(out.shape.slice(1)).toEqual([16, 1, 1])
        expect(tf.min(out).dataSync()[0]).toBeGreaterThanOrEqual(0)
      }
    })
    s.params.dispose(); m.dispose(); tf.dispose([x, labels])
  })
})
