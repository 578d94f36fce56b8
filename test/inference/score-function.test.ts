/**
 * Score-function gradients against closed forms, after Pyro's
 * tests/infer/test_gradient.py (test_subsample_gradient): a Normal guide whose
 * draws carry no gradient, under plates, subsampling and scale, for Trace_ELBO
 * (elbo()) and TraceGraph_ELBO (elbo({ downstream: true })). Expectations are
 * taken over many particles at once by an outer plate of particles scaled by
 * 1/K — exactly what vectorised particles are — with Pyro's tolerance.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import type { Distribution } from '../../src/distributions/distribution.js'
import { normal } from '../../src/distributions/normal.js'
import { observe, plate, sample, scaled, sequentialPlate } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { Message } from '../../src/dsl/messages.js'
import type { Program } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import type { Loss } from '../../src/inference/loss.js'
import { read, sampleMoments } from '../helpers.js'

/** `d` with its draws cut from the gradient (Pyro's fakes.NonreparameterizedNormal): the score function must carry it. */
const nonReparameterized = (d: Distribution): Distribution => ({
  ...d, reparameterized: false, rsample: undefined,
  expand: (b) => nonReparameterized(d.expand(b)), toEvent: (n) => nonReparameterized(d.toEvent(n)),
  logProb: (x) => d.logProb(x),
})

const ctx = (seed: number) => ({ seed, handlers: [], baselines: new Map<string, number>() })

/** K particles as an outer plate at dim −2 whose sites are scaled by 1/K: one run averages K independent estimates. */
const particles = <M extends Message, A>(k: number, body: () => Program<M, A>) =>
  scaled(1 / k, () => plate('particles', k, { dim: -2 }, () => body()))

const DATA = [-0.5, 2.0]

/** Pyro's test_subsample_gradient: z_i ~ N(0, 1), x_i ~ N(z_i, 1); guide z_i ~ N(loc_i, scale), not reparameterised. */
const subsampleCase = (k: number, subsample: number[], factor: number) => {
  const x = tf.tensor1d(DATA)
  const model = () => gen(function* () {
    yield* scaled(factor, () => particles(k, () => plate('data', 2, { subsample: tf.tensor1d(subsample, 'int32'), dim: -1 }, (idx) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 1), tf.broadcastTo(tf.gather(x, idx), z.shape))
    }))))
  })
  const guide = (loc: tf.Tensor, s: tf.Tensor) => () => gen(function* () {
    yield* scaled(factor, () => particles(k, () => plate('data', 2, { subsample: tf.tensor1d(subsample, 'int32'), dim: -1 }, (idx) => gen(function* () {
      yield* sample('z', nonReparameterized(normal(tf.gather(loc, idx), s)))
    }))))
  })
  return { model, guide }
}

/** d ELBO / d(loc, scale) of one estimate at loc = 0, scale = 1. */
const gradAt = (loss: Loss, model: () => Program<Message, unknown>, guide: (loc: tf.Tensor, s: tf.Tensor) => () => Program<Message, unknown>, seed: number): number[] => tf.tidy(() => {
  const g = tf.grads((loc: tf.Tensor, s: tf.Tensor) => loss.estimate(model, guide(loc, s), [] as const, ctx(seed)).surrogate)([tf.zeros([2]), tf.ones([1])])
  return [...read(g[0]!), ...read(g[1]!)]
})

describe('score function: Pyro test_subsample_gradient', () => {
  const K = 20000
  describe.each([['Trace_ELBO', elbo()], ['TraceGraph_ELBO', elbo({ downstream: true })]] as const)('%s', (_, loss) => {
    it.each([[1, 'full'], [2, 'full'], [1, 'subsample'], [2, 'subsample']] as const)('scale %d, %s: the gradient is the exact one within Pyro\'s tolerance 0.06·scale', (factor, mode) => {
      // Exact d ELBO: loc_i → factor · x_i (at loc 0), scale → −2 · factor. A subsample of one is scaled by 2, and the two calls averaged (Pyro's normaliser).
      const calls = mode === 'full' ? [[0, 1]] : [[0], [1]]
      const sums = calls.map((idx, c) => { const { model, guide } = subsampleCase(K, idx, factor); return gradAt(loss, model, guide, 11 + c) })
      const got = sums[0]!.map((_, j) => sums.reduce((a, g) => a + g[j]!, 0) / calls.length)
      const expected = [factor * DATA[0]!, factor * DATA[1]!, -2 * factor]
      got.forEach((g, j) => expect(Math.abs(g - expected[j]!)).toBeLessThan(0.06 * factor))
    })
  })

  it('the value of the bound is the ELBO estimate, not the surrogate', () => tf.tidy(() => {
    const { model, guide } = subsampleCase(4000, [0, 1], 1)
    const est = elbo().estimate(model, guide(tf.zeros([2]), tf.ones([1])), [] as const, ctx(3))
    // E[ELBO] at loc 0, scale 1: Σ_i (−½(0 + 1) − ½((x_i − 0)² + 1) − log 2π/2·2 + ½ log 2πe)
    const exact = DATA.reduce((a, xi) => a - 0.5 - 0.5 * (xi * xi + 1) - Math.log(2 * Math.PI) + 0.5 * Math.log(2 * Math.PI * Math.E), 0)
    expect(Math.abs(read(est.bound)[0]! - exact)).toBeLessThan(0.05)
  }))
})

describe('score function: the cost is summed to the site\'s plates', () => {
  /** N points, one non-reparameterised local z_i each; returns the variance of d/d loc_0 over seeds. */
  const loc0Variance = (n: number, loss: Loss, seeds: number) => {
    const x = tf.linspace(-1, 1, n)
    const model = () => gen(function* () {
      yield* plate('data', n, {}, () => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), x) }))
    })
    const guide = (loc: tf.Tensor) => () => gen(function* () {
      yield* plate('data', n, {}, () => gen(function* () { yield* sample('z', nonReparameterized(normal(loc, 1))) }))
    })
    const gs = Array.from({ length: seeds }, (_, i) => tf.tidy(() => read(tf.grad((loc: tf.Tensor) => loss.estimate(model, guide(loc), [] as const, ctx(i)).surrogate)(tf.zeros([n])))[0]!))
    x.dispose()
    return sampleMoments(tf.tensor2d(gs, [seeds, 1])).variance[0]!
  }

  it('a data point\'s guide gradient does not carry the noise of the other points: its variance does not grow with the batch (measured, N = 1 vs 40)', () => {
    const one = loc0Variance(1, elbo(), 300), many = loc0Variance(40, elbo(), 300)
    // With the whole-batch cost, the variance grows about linearly in N (≈ 40×); per-element costs keep it flat.
    expect(many).toBeLessThan(2 * one)
  })
})

describe('score function: downstream costs (TraceGraph_ELBO)', () => {
  // a ~ N(0, 0.3²), b ~ N(0, 1), x ~ N(b, 1), x = 1; guide a ~ N(ma, 1), b ~ N(mb, 1), both score-function, a first.
  // a's term log p(a) − log q(a) is noisy (a narrow prior under a wide guide): Trace_ELBO puts that noise into b's gradient.
  const model = () => gen(function* () {
    yield* sample('a', normal(0, 0.3)); const b = yield* sample('b', normal(0, 1)); yield* observe('x', normal(b, 1), tf.scalar(1))
  })
  const guide = (m: tf.Tensor) => () => gen(function* () {
    yield* sample('a', nonReparameterized(normal(tf.slice(m, [0], [1]).reshape([]), 1)))
    yield* sample('b', nonReparameterized(normal(tf.slice(m, [1], [1]).reshape([]), 1)))
  })
  const grads = (loss: Loss, n: number) => sampleMoments(tf.tensor2d(Array.from({ length: n }, (_, i) => tf.tidy(() =>
    read(tf.grad((m: tf.Tensor) => loss.estimate(model, guide(m), [] as const, ctx(i)).surrogate)(tf.tensor1d([0.5, 0.5]))))), [n, 2]))

  it('both estimators are unbiased, and b\'s gradient, which no longer sees a\'s upstream term, has lower variance (measured)', () => {
    const n = 600
    const trace = grads(elbo(), n), graph = grads(elbo({ downstream: true }), n)
    // Exact: d/d ma = −ma / 0.3² = −5.5556; d/d mb = (x − mb) − mb = 0.
    for (const g of [trace, graph]) {
      expect(Math.abs(g.mean[0]! + 0.5 / 0.09)).toBeLessThan(5 * Math.sqrt(g.variance[0]! / n))
      expect(Math.abs(g.mean[1]!)).toBeLessThan(5 * Math.sqrt(g.variance[1]! / n))
    }
    expect(graph.variance[1]!).toBeLessThan(0.5 * trace.variance[1]!)
  })

  it('iterations of a sequential plate are independent: z_0\'s cost leaves out iteration 1 (variance measured)', () => {
    const xs = [0.5, -1.5]
    const seqModel = () => gen(function* () {
      yield* sequentialPlate('groups', 2, {}, (i) => gen(function* () { const z = yield* sample(`z_${i}`, normal(0, 1)); yield* observe(`x_${i}`, normal(z, 1), tf.scalar(xs[i]!)) }))
    })
    const seqGuide = (m: tf.Tensor) => () => gen(function* () {
      yield* sequentialPlate('groups', 2, {}, (i) => gen(function* () { yield* sample(`z_${i}`, nonReparameterized(normal(tf.slice(m, [i], [1]).reshape([]), 1))) }))
    })
    const run = (loss: Loss, n: number) => sampleMoments(tf.tensor2d(Array.from({ length: n }, (_, i) => tf.tidy(() =>
      read(tf.grad((m: tf.Tensor) => loss.estimate(seqModel, seqGuide(m), [] as const, ctx(i)).surrogate)(tf.zeros([2]))))), [n, 2]))
    const n = 600
    const trace = run(elbo(), n), graph = run(elbo({ downstream: true }), n)
    // Exact at m = 0: d/d m_i = x_i.
    xs.forEach((x, i) => expect(Math.abs(graph.mean[i]! - x)).toBeLessThan(5 * Math.sqrt(graph.variance[i]! / n)))
    expect(graph.variance[0]!).toBeLessThan(0.8 * trace.variance[0]!)
  })
})
