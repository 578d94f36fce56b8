import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { oneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import { normal } from '../../src/distributions/normal.js'
import { plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { MismatchedSites, MissingSites } from '../../src/dsl/sites.js'
import { elbo } from '../../src/inference/elbo.js'
import { substitute } from '../../src/inference/handlers.js'
import { svi } from '../../src/inference/svi.js'
import { traceProgram } from '../../src/inference/trace.js'
import type { FactorSite, SampleSite } from '../../src/inference/trace.js'
import { ssvae } from '../../src/models/ssvae.js'
import type { Ssvae } from '../../src/models/ssvae.js'
import { twoPrototypes } from './fixtures.js'

/** A small SSVAE over 16-pixel images in 2 classes. */
const small = (seed = 1, alpha = 46) => ssvae({ imageShape: [4, 4, 1], numClasses: 2, zDim: 3, hidden: [16], alpha, seed })

/** Labelled [x, one-hot y] and unlabelled [x] batches of the two-prototype images (grey: values in {0, 1}). */
const data = (n: number) => {
  const { x, labels } = twoPrototypes(n, 16, 5)
  const y = tf.tidy(() => tf.cast(tf.oneHot(labels, 2), 'float32'))
  labels.dispose()
  return { x, y }
}

const site = (t: { byName: ReadonlyMap<string, unknown> }, name: string) => t.byName.get(name) as SampleSite | FactorSite | undefined

describe('ssvae', () => {
  it('passes the compile-time model/guide check: the guide samples every latent site of the model', () => {
    type M = ReturnType<Ssvae['model']>
    type G = ReturnType<Ssvae['guide']>
    expectTypeOf<MissingSites<M, G>>().toEqualTypeOf<never>()
    expectTypeOf<MismatchedSites<M, G>>().toEqualTypeOf<never>()
    const m = small(), s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo() })
    const zOnly = (x: tf.Tensor, _y?: tf.Tensor) => gen(function* () {
      yield* plate('data', x.shape[0]!, {}, () => gen(function* () { yield* sample('z', normal(tf.zeros([x.shape[0]!, 3]), 1).toEvent(1)) }))
    })
    const fit = () => {
      void s.fit(m.model, m.guide, { streams: [{ data: [tf.zeros([2, 16]), tf.zeros([2, 2])] }, { data: [tf.zeros([2, 16])] }] })
      // @ts-expect-error: this guide does not sample 'y'
      void s.fit(m.model, zOnly, tf.zeros([2, 16]))
    }
    expect(typeof fit).toBe('function')   // type-checked, not run
    m.dispose()
  })

  it('under a sampled y [B, K] the sites have the plate shapes; under an enumerated y [K, 1, K] they broadcast to [K, B, …]', () => tf.tidy(() => {
    const m = small(), { x } = data(5)
    const q = traceProgram(m.guide(x)).trace
    expect([site(q, 'y')?._tag, (site(q, 'y') as SampleSite).value.shape, (site(q, 'z') as SampleSite).value.shape]).toEqual(['Sample', [5, 2], [5, 3]])
    expect((site(q, 'y') as SampleSite).options.enumerate).toBe('parallel')
    const p = traceProgram(m.model(x), [substitute({ y: (site(q, 'y') as SampleSite).value, z: (site(q, 'z') as SampleSite).value })]).trace
    expect((site(p, 'x') as FactorSite).logWeight.shape).toEqual([5])
    // The enumerated support: K values along a dim left of the plate dim.
    const support = tf.reshape(oneHotCategorical({ logits: tf.zeros([2]) }).enumerateSupport!(), [2, 1, 2])
    const qe = traceProgram(m.guide(x), [substitute({ y: support })]).trace
    const ze = (site(qe, 'z') as SampleSite).value
    expect(ze.shape).toEqual([2, 5, 3])
    const pe = traceProgram(m.model(x), [substitute({ y: support, z: ze })]).trace
    expect((site(pe, 'x') as FactorSite).logWeight.shape).toEqual([2, 5])
    expect((site(pe, 'y') as SampleSite).dist.logProb(support).shape).toEqual([2, 5])
    m.dispose()
  }))

  it("a labelled batch observes y, the guide does not sample it, and the model's factor is α·log q(y | x) per point", () => tf.tidy(() => {
    const m = small(1, 46), { x, y } = data(6)
    const q = traceProgram(m.guide(x, y)).trace
    expect(site(q, 'y')).toBeUndefined()
    const p = traceProgram(m.model(x, y), [substitute({ z: (site(q, 'z') as SampleSite).value })]).trace
    expect((site(p, 'y') as SampleSite).kind).toBe('observed')
    const aux = site(p, 'y_aux') as FactorSite
    expect(aux.plates.map((f) => f.name)).toEqual(['data'])
    const expected = tf.mul(46, tf.sum(tf.mul(y, tf.logSoftmax(m.networks.classifier.apply(x))), -1))
    expect(aux.logWeight.shape).toEqual([6])
    expect(tf.max(tf.abs(tf.sub(aux.logWeight, expected))).dataSync()[0]).toBeLessThan(1e-4)
    expect(tf.max(aux.logWeight).dataSync()[0]).toBeLessThan(0)   // a log-probability times α > 0: a reward for the right class
    expect(site(traceProgram(m.model(x)).trace, 'y_aux')).toBeUndefined()
    m.dispose()
  }))

  it('a few elbo() steps on a labelled and an unlabelled stream reduce the loss, keep the tensor count flat and train the shared classifier', async () => {
    const m = small(2), { x, y } = data(64)
    const [xl, yl] = [tf.slice(x, 0, 8), tf.slice(y, 0, 8)]
    const s = svi({ optimizer: tf.train.adam(3e-3), loss: elbo(), seed: 2 })
    const w0 = tf.clone(m.networks.classifier.variables[0]!)
    const counts: number[] = []
    const h = await s.fit(m.model, m.guide, { streams: [{ data: [xl, yl], batchSize: 8 }, { data: [x], batchSize: 16 }] },
      { epochs: 12, progress: false, onEpochStart: () => { counts.push(tf.memory().numTensors) } })
    expect(h.steps).toBe(12 * 5)
    expect(h.epochs.at(-1)!.trainLoss).toBeLessThan(h.epochs[0]!.trainLoss - 1)
    expect(new Set(counts.slice(1)).size).toBe(1)
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(m.networks.classifier.variables[0]!, w0))).dataSync()[0])).toBeGreaterThan(0)
    expect(s.params.entries().map((e) => e.name).sort()).toEqual(['classifier', 'decoder', 'encoder'])
    s.params.dispose(); m.dispose(); tf.dispose([x, y, xl, yl, w0])
  })

  it('implements ImageModel: unlabelled inputs, labelled inputs, class probabilities and per-class samples', () => {
    const m = ssvae({ zDim: 4, hidden: [8], seed: 3 })
    tf.tidy(() => {
      const images = tf.zeros([3, 28, 28, 1]) as tf.Tensor4D, labels = tf.tensor1d([0, 4, 9], 'int32')
      expect(m.inputs(images, labels).map((t) => t.shape)).toEqual([[3, 784]])
      expect(m.labelledInputs(images, labels).map((t) => t.shape)).toEqual([[3, 784], [3, 10]])
      const probs = m.classify(tf.zeros([3, 784]))
      expect(probs.shape).toEqual([3, 10])
      expect(tf.sum(probs, -1).dataSync().every((v) => Math.abs(v - 1) < 1e-5)).toBe(true)
      for (const out of [m.sample(5, 1, 7), m.reconstruct(images, labels), m.traverse(2, 3, 1)]) {
        expect(out.shape.slice(1)).toEqual([28, 28, 1])
        expect(tf.min(out).dataSync()[0]).toBeGreaterThanOrEqual(0)
      }
    })
    expect(() => ssvae({ alpha: -1 })).toThrow(/alpha must be a finite number ≥ 0/)
    m.dispose()
  })
})

describe('ssvae under enumElbo', () => {
  it('an unlabelled batch sums y over its K values: finite loss, falling over steps, flat memory; a labelled batch runs beside it', async () => {
    const { enumElbo } = await import('../../src/inference/enum-elbo.js')
    const m = small(3), { x, y } = data(8)
    const s = svi({ optimizer: tf.train.adam(3e-3), loss: enumElbo({ maxPlateNesting: 1 }), seed: 0, onWarning: () => {} })
    const losses: number[] = []
    const counts: number[] = []
    for (let i = 0; i < 60; i++) {
      losses.push(s.step(m.model, m.guide, x))
      s.step(m.model, m.guide, x, y)
      if (i >= 50) counts.push(tf.memory().numTensors)
    }
    expect(losses.every(Number.isFinite)).toBe(true)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)))
    expect(new Set(counts).size).toBe(1)
    s.params.dispose(); s.optimizer.dispose(); m.dispose(); x.dispose(); y.dispose()
  })
})
