import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { factor, observe, param, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import { NonFiniteError, svi } from '../../src/inference/svi.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { read } from '../helpers.js'
import { LOG_EVIDENCE, POST_LOC, POST_SCALE, data, guide, model } from './conjugate.js'

describe('svi on the conjugate model', () => {
  it('fit from a bad start recovers the posterior mean and scale within 2%', async () => {
    const x = data()
    const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo({ kl: 'auto', numParticles: 2 }), seed: 1 })
    const history = await s.fit(model, guide({ loc: -3, scale: 3 }), x, { epochs: 300, batchSize: 4, progress: false })
    // Smaller steps on the same params (a step-size schedule), to settle within Adam's jitter.
    for (const [lr, seed] of [[0.01, 2], [0.002, 3]] as const) {
      const fine = svi({ optimizer: tf.train.adam(lr), loss: elbo({ kl: 'auto', numParticles: 8 }), seed, params: s.params })
      await fine.fit(model, guide({ loc: -3, scale: 3 }), x, { epochs: 250, batchSize: 4, progress: false })
    }
    const [loc, scale] = [read(s.params.value('loc')!)[0]!, read(s.params.value('scale')!)[0]!]
    expect(Math.abs(loc - POST_LOC) / Math.abs(POST_LOC)).toBeLessThan(0.02)
    expect(Math.abs(scale - POST_SCALE) / POST_SCALE).toBeLessThan(0.02)
    // The reported loss is −ELBO per data point, and at the optimum ELBO = log p(x).
    const evaluator = svi({ optimizer: tf.train.sgd(0), loss: elbo({ numParticles: 64 }), seed: 5, params: s.params })
    const final = await evaluator.evaluate(model, guide({ loc: 0, scale: 1 }), x)
    expect(final).toBeGreaterThanOrEqual(-LOG_EVIDENCE / 4 - 0.002)   // −ELBO ≥ −log p(x), up to Monte Carlo noise
    expect(final - -LOG_EVIDENCE / 4).toBeLessThan(0.01)
    expect(history.epochs.length).toBe(300)
    expect(history.epochs[0]!.trainLoss).toBeGreaterThan(history.epochs[299]!.trainLoss)
    s.params.dispose(); x.dispose()
  })

  it('memory is flat: 3 epochs of fit leave numTensors where they started (after disposing the store)', async () => {
    const x = data()
    const before = tf.memory().numTensors
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo(), seed: 2 })
    const counts: number[] = []
    await s.fit(model, guide({ loc: 0, scale: 1 }), x, { epochs: 3, batchSize: 2, progress: false, onEpochEnd: () => { counts.push(tf.memory().numTensors) } })
    expect(new Set(counts).size).toBe(1)
    s.params.dispose()
    s.optimizer.dispose()
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })

  it('the same seed gives bit-identical runs', async () => {
    const run = async () => {
      const x = data()
      const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 7 })
      const h = await s.fit(model, guide({ loc: 0, scale: 1 }), x, { epochs: 5, batchSize: 2, progress: false, seed: 3 })
      const out = [...h.epochs.map((e) => e.trainLoss), read(s.params.value('loc')!)[0]!]
      s.params.dispose(); x.dispose()
      return out
    }
    expect(await run()).toEqual(await run())
  })

  it('takes data as an async iterable of batches, and weights the epoch loss by batch size', async () => {
    const batches = async function* () { yield [tf.tensor1d([1.2, -0.3])] as const; yield [tf.tensor1d([2.0, 0.7])] as const }
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo(), seed: 4 })
    const steps: number[] = []
    const h = await s.fit(model, guide({ loc: 0, scale: 1 }), batches(), { epochs: 1, progress: false, onStep: (i) => { steps.push(i.loss) } })
    expect(h.steps).toBe(2)
    expect(h.epochs[0]!.trainLoss).toBeCloseTo((steps[0]! + steps[1]!) / 2, 5)
    s.params.dispose()
  })

  it('clipNorm bounds the global gradient norm of each update', () => {
    const x = data()
    const norms = [undefined, 0.1].map((clipNorm) => {
      const s = svi({ optimizer: tf.train.sgd(1), loss: elbo(), seed: 1, ...(clipNorm === undefined ? {} : { clipNorm }) })
      s.init(model, guide({ loc: -3, scale: 3 }), x)
      const before = s.params.variables().map((v) => read(v))
      s.step(model, guide({ loc: -3, scale: 3 }), x)
      const moved = s.params.variables().flatMap((v, i) => read(v).map((a, j) => a - before[i]![j]!))
      s.params.dispose()
      return Math.hypot(...moved)
    })
    expect(norms[0]!).toBeGreaterThan(0.1)          // unclipped, the step is large
    expect(norms[1]!).toBeCloseTo(0.1, 5)           // clipped to the norm
    x.dispose()
  })

  it('early stopping and onEpochEnd stop training', async () => {
    const x = data()
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo(), seed: 2 })
    const h = await s.fit(model, guide({ loc: 0, scale: 1 }), x, { epochs: 50, batchSize: 4, progress: false, onEpochEnd: (r) => r.epoch === 3 ? 'stop' : undefined })
    expect(h.epochs.length).toBe(3)
    expect(h.stoppedEarly).toBe(true)
    s.params.dispose(); x.dispose()
  })

  it('rejects bad data and batch sizes with named errors', async () => {
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo() })
    const x = data(), y = tf.zeros([3])
    await expect(s.fit(model, guide({ loc: 0, scale: 1 }), x, { batchSize: 0 })).rejects.toThrow(/batchSize must be an integer between 1 and the number of data points \(4\); got 0/)
    await expect(s.fit(model, guide({ loc: 0, scale: 1 }), x, { batchSize: 5 })).rejects.toThrow(InvalidArgumentError)
    const pairModel = (a: tf.Tensor, _b: tf.Tensor) => model(a)
    const pairGuide = (a: tf.Tensor, _b: tf.Tensor) => guide({ loc: 0, scale: 1 })(a)
    await expect(s.fit(pairModel, pairGuide, [x, y] as const, { batchSize: 2 })).rejects.toThrow(/argument 1 has 3 data points but argument 0 has 4/)
    tf.dispose([x, y])
    s.params.dispose()
  })

  it('a non-finite loss stops with a NonFiniteError and keeps the last good parameters', () => {
    // log(w − c) is finite for c = 0 and NaN for c = 10: the second step produces NaN.
    const bad = (c: tf.Tensor) => gen(function* () {
      const w = yield* param('w', () => tf.scalar(1))
      const z = yield* sample('z', normal(0, 1))
      yield* factor('f', tf.log(tf.sub(w, c)))
      yield* observe('x', normal(tf.mul(z, w), 1), tf.scalar(1))
    })
    const g = (_c: tf.Tensor) => gen(function* () { yield* sample('z', normal(0, 1)) })
    const s = svi({ optimizer: tf.train.sgd(0.1), loss: elbo(), seed: 1 })
    const [ok, nan] = [tf.scalar(0), tf.scalar(10)]
    s.step(bad, g, ok)
    const good = read(s.params.value('w')!)[0]!
    expect(() => s.step(bad, g, nan)).toThrow(NonFiniteError)
    expect(() => s.step(bad, g, nan)).toThrow(/svi step 1: the loss, a gradient or an updated parameter is NaN \(loss NaN\), from factor 'f' in the model/)
    expect(read(s.params.value('w')!)[0]).toBe(good)
    expect(s.state.step).toBe(1)
    s.params.dispose(); tf.dispose([ok, nan])
  })

  it('NaN in the data is a named error, not a NaN loss', () => {
    const s = svi({ optimizer: tf.train.sgd(0.1), loss: elbo() })
    const x = tf.tensor1d([1, NaN, 2, 3])
    expect(() => s.step(model, guide({ loc: 0, scale: 1 }), x)).toThrow(/site 'x' \(observed\): normal.logProb: value outside the support \(finite real\); got NaN at index \[1\]/)
    s.params.dispose(); x.dispose()
  })
})
