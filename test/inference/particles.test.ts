/**
 * Vectorised particles (Pyro's vectorize_particles): K particles in one run along a
 * particle dim left of every plate must give the loop's estimate — value and gradient —
 * when both see the same draws. Generated programs cover a global latent, a local latent
 * in a plate, a discrete (score-function) latent in another plate at its own dim, an
 * observation in both plates, subsampling, scale, and every ELBO option.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import type { Distribution } from '../../src/distributions/distribution.js'
import { normal } from '../../src/distributions/normal.js'
import { observe, plate, sample, scaled } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { Message } from '../../src/dsl/messages.js'
import type { Effect, Program } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import type { ElboOptions } from '../../src/inference/elbo.js'
import type { Handler } from '../../src/inference/interpreter.js'
import { SiteError } from '../../src/inference/interpreter.js'
import type { LossEstimate } from '../../src/inference/loss.js'
import { FC, expectClose, read } from '../helpers.js'

/** A generated program: which plates it has, their sizes, subsample, scale, the guide's reparameterisation. */
interface Case {
  readonly nA: number
  readonly nB: number
  readonly withA: boolean
  readonly withB: boolean
  readonly subsampleA: boolean
  readonly factor: number
  readonly reparamGlobal: boolean
  readonly opts: Pick<ElboOptions, 'kl' | 'downstream'>
}

type Params = readonly [mg: tf.Tensor, sg: tf.Tensor, ma: tf.Tensor, lb: tf.Tensor]

/** `d` with its draws cut from the gradient, also once expanded to the plates: the score function carries it. */
const nonReparameterized = (d: Distribution): Distribution => ({
  ...d, reparameterized: false, rsample: undefined,
  expand: (b) => nonReparameterized(d.expand(b)), toEvent: (n) => nonReparameterized(d.toEvent(n)),
})

/** A single effect as a program (a plate's body). */
const just = <M extends Message, A>(e: Effect<M, A>): Program<M, A> => gen(function* () { return yield* e })

/** Plate A holds dim −1, plate B dim −2, so a site in both has batch shape [nB, nA]. */
const programs = (c: Case) => {
  const idxA = c.subsampleA ? tf.tensor1d([c.nA - 1, 0], 'int32') : undefined
  const inA = <M extends Message, A>(body: (idx: tf.Tensor) => Program<M, A>) => plate('A', c.nA, { dim: -1, ...(idxA && { subsample: idxA }) }, body)
  const inB = <M extends Message, A>(body: () => Program<M, A>) => plate('B', c.nB, { dim: -2 }, body)
  const data = tf.linspace(-1, 2, c.nA * c.nB).reshape([c.nB, c.nA])
  const model = () => gen(function* () {
    yield* scaled(c.factor, () => gen(function* () {
      const g = yield* sample('g', normal(0, 1))
      const a: tf.Tensor = c.withA ? yield* inA(() => just(sample('a', normal(g, 1)))) : tf.scalar(0)
      const b: tf.Tensor = c.withB ? yield* inB(() => just(sample('b', bernoulli({ logits: tf.mul(g, 0.5) })))) : tf.scalar(0)
      const mean = tf.add(tf.add(g, a), b)
      if (c.withA && c.withB) yield* inB(() => inA((idx) => just(observe('x', normal(mean, 1), tf.gather(data, idx, 1)))))
      else if (c.withA) yield* inA((idx) => just(observe('x', normal(mean, 1), tf.gather(tf.gather(data, 0), idx))))
      else if (c.withB) yield* inB(() => just(observe('x', normal(mean, 1), tf.slice(data, [0, 0], [c.nB, 1]))))
      else yield* observe('x', normal(mean, 1), tf.scalar(0.7))
    }))
  })
  const guide = ([mg, sg, ma, lb]: Params) => () => gen(function* () {
    yield* scaled(c.factor, () => gen(function* () {
      const qg = normal(mg, tf.exp(sg))
      yield* sample('g', c.reparamGlobal ? qg : nonReparameterized(qg))
      if (c.withA) yield* inA((idx) => just(sample('a', normal(tf.gather(ma, idx), 0.8))))
      if (c.withB) yield* inB(() => just(sample('b', bernoulli({ logits: lb }))))
    }))
  })
  return { model, guide }
}

/** Each latent's shape in one (loop) particle. */
const loopShapes = (c: Case): Record<string, number[]> => ({
  g: [], ...(c.withA && { a: [c.subsampleA ? 2 : c.nA] }), ...(c.withB && { b: [c.nB, 1] }),
})

/** Draws for k particles: site → k loop-shaped values. */
const drawsFor = (c: Case, k: number, seed: number): Record<string, tf.Tensor[]> =>
  Object.fromEntries(Object.entries(loopShapes(c)).map(([name, shape], s) => [name, Array.from({ length: k }, (_, j) =>
    name === 'b' ? tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', seed + 97 * s + j), 0.5), 'float32') : tf.randomNormal(shape, 0, 1, 'float32', seed + 97 * s + j))]))

/** Sets the guide's latent values (the model then replays them). */
const fixed = (values: Record<string, tf.Tensor>): Handler => (msg, next) =>
  msg._tag === 'Sample' && msg.kind === 'latent' && msg.value === undefined && msg.name in values ? next({ ...msg, value: values[msg.name]! }) : next(msg)

/** A loop draw set as one vectorised value: stacked on a particle axis left of the (padded) plate dims. */
const stacked = (xs: readonly tf.Tensor[], depth: number): tf.Tensor => {
  const shape = xs[0]!.shape
  return tf.reshape(tf.stack([...xs]), [xs.length, ...Array<number>(Math.max(0, depth - shape.length)).fill(1), ...shape])
}

const ctx = (handlers: Handler[]) => ({ seed: 3, handlers, baselines: new Map<string, number>() })

/** [surrogate, bound, ...d surrogate / d params] of an estimate under `handlers`. */
const valueAndGrads = (estimate: (ps: Params, hs: Handler[]) => LossEstimate, hs: Handler[], ps: Params): number[] => {
  let bound = 0
  const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
    const e = estimate(xs as unknown as Params, hs)
    bound = e.bound.dataSync()[0]!
    return tf.add(e.surrogate, tf.mul(0, tf.addN(xs.map((x) => tf.sum(x))))) as tf.Scalar   // params a case leaves out get gradient 0
  })([...ps])
  return [value.dataSync()[0]!, bound, ...grads.flatMap(read)]
}

const cases: fc.Arbitrary<Case> = fc.record({
  nA: fc.integer({ min: 2, max: 4 }), nB: fc.integer({ min: 1, max: 3 }), withA: fc.boolean(), withB: fc.boolean(), subsampleA: fc.boolean(),
  factor: fc.constantFrom(1, 2), reparamGlobal: fc.boolean(),
  opts: fc.record({ kl: fc.constantFrom<'auto' | 'mc'>('auto', 'mc'), downstream: fc.boolean() }),
})

describe('vectorised particles', () => {
  it('equal the loop in value and gradient (same draws) on generated programs with plates', () => {
    fc.assert(fc.property(cases, fc.integer({ min: 2, max: 4 }), fc.nat(1000), (c, k, seed) => tf.tidy(() => {
      const { model, guide } = programs(c)
      const ps: Params = [tf.scalar(0.3), tf.scalar(-0.2), tf.linspace(-0.5, 0.5, c.nA), tf.fill([c.nB, 1], 0.4)]
      const draws = drawsFor(c, k, seed)
      const depth = c.withB ? 2 : c.withA ? 1 : 0
      const one = elbo({ ...c.opts, numParticles: 1 })
      const loop = Array.from({ length: k }, (_, j) => valueAndGrads((p, hs) => one.estimate(model, guide(p), [] as const, ctx(hs)),
        [fixed(Object.fromEntries(Object.entries(draws).map(([n, xs]) => [n, xs[j]!])))], ps))
      const expected = loop[0]!.map((_, i) => loop.reduce((s, r) => s + r[i]!, 0) / k)
      const vectorised = elbo({ ...c.opts, numParticles: k, maxPlateNesting: depth })   // the guess would run the loop-shaped draws
      const actual = valueAndGrads((p, hs) => vectorised.estimate(model, guide(p), [] as const, ctx(hs)),
        [fixed(Object.fromEntries(Object.entries(draws).map(([n, xs]) => [n, stacked(xs, depth)])))], ps)
      expectClose(actual, expected, 1e-4, 1e-4)
    })), { ...FC, numRuns: 40 })
  })

  it('draw independent particles: the K values of a latent differ, with the guide\'s moments', () => {
    const { model, guide } = programs({ nA: 3, nB: 1, withA: true, withB: false, subsampleA: false, factor: 1, reparamGlobal: true, opts: {} })
    const k = 4000
    const ps: Params = [tf.scalar(1.5), tf.scalar(Math.log(0.5)), tf.zeros([3]), tf.zeros([1, 1])]
    const seen: tf.Tensor[] = []
    const spy: Handler = (msg, next) => { const r = next(msg); if (msg._tag === 'Sample' && msg.name === 'g') seen.push(r.value as tf.Tensor); return r }
    tf.tidy(() => {
      elbo({ numParticles: k }).estimate(model, guide(ps), [] as const, ctx([spy]))
      const g = seen[seen.length - 1]!
      expect(g.shape).toEqual([k, 1])
      const m = tf.moments(g)
      expectClose([m.mean.dataSync()[0]!, Math.sqrt(m.variance.dataSync()[0]!)], [1.5, 0.5], 0.05, 0.05)
    })
  })

  it('a program that cannot broadcast over the particle dim names its site and the loop option; the loop runs it', () => {
    const w = tf.tensor2d([[1], [2]])
    // The model's own shape logic: z is used as a [1, 2] matrix, which the particle dim breaks.
    const model = () => gen(function* () {
      const z = yield* sample('z', normal(tf.zeros([2]), 1).toEvent(1))
      yield* observe('x', normal(tf.matMul(tf.reshape(z, [1, 2]), w), 1), tf.tensor2d([[0.5]]))
    })
    const guide = () => gen(function* () { yield* sample('z', normal(tf.zeros([2]), 1).toEvent(1)) })
    tf.tidy(() => {
      expect(() => elbo({ numParticles: 3 }).estimate(model, guide, [] as const, ctx([]))).toThrow(SiteError)
      expect(() => elbo({ numParticles: 3 }).estimate(model, guide, [] as const, ctx([]))).toThrow(/site 'z'.*vectorizeParticles: false/s)
      const bound = elbo({ numParticles: 3, vectorizeParticles: false }).estimate(model, guide, [] as const, ctx([])).bound
      expect(Number.isFinite(bound.dataSync()[0]!)).toBe(true)
    })
  })

  it('take the plate nesting as given, and reject a bad one', () => {
    expect(() => elbo({ numParticles: 2, maxPlateNesting: -1 })).toThrow(/maxPlateNesting must be a non-negative integer/)
    expect(() => elbo({ numParticles: 0 })).toThrow(/numParticles must be a positive integer/)
    const { model, guide } = programs({ nA: 3, nB: 1, withA: true, withB: false, subsampleA: false, factor: 1, reparamGlobal: true, opts: {} })
    const ps: Params = [tf.scalar(0), tf.scalar(0), tf.zeros([3]), tf.zeros([1, 1])]
    const seen: number[][] = []
    const spy: Handler = (msg, next) => { const r = next(msg); if (msg._tag === 'Sample' && msg.name === 'a') seen.push((r.value as tf.Tensor).shape); return r }
    tf.tidy(() => { elbo({ numParticles: 2, maxPlateNesting: 3 }).estimate(model, guide(ps), [] as const, ctx([spy])) })
    expect(seen[0]).toEqual([2, 1, 1, 3])   // the particle dim at −4, left of three plate dims
  })
})
