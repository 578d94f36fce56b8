import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { normal } from '../../src/distributions/normal.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { deterministic, factor, observe, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { seed } from '../../src/inference/handlers.js'
import { SiteError } from '../../src/inference/interpreter.js'
import { predictive, uncondition } from '../../src/inference/predictive.js'
import { traceProgram } from '../../src/inference/trace.js'
import type { SampleSite } from '../../src/inference/trace.js'
import { expectMomentsMatch, expectNoLeak, read } from '../helpers.js'
import { POST_LOC, POST_SCALE, XS, data, fixedGuide, model } from './conjugate.js'

// z ~ N(2, 0.5), x ~ N(z, 1): prior predictive x ~ N(2, √1.25).
const simple = (x: tf.Tensor) => gen(function* () {
  const z = yield* sample('z', normal(2, 0.5))
  yield* deterministic('twice', tf.mul(z, 2))
  yield* observe('x', normal(z, 1), x)
  yield* factor('penalty', tf.scalar(-1))
})

describe('predictive', () => {
  it('prior predictive: x has mean 2 and variance 1.25, z mean 2 and variance 0.25 (CLT bounds)', () => tf.tidy(() => {
    const draws = predictive(simple, { numSamples: 1500, seed: 0 })(tf.scalar(-7))
    expect(Object.keys(draws).sort()).toEqual(['twice', 'x', 'z'])
    expect(draws.x!.shape).toEqual([1500])
    expectMomentsMatch(draws.x!, [2], [1.25])
    expectMomentsMatch(draws.z!, [2], [0.25])
    expect(read(tf.sub(draws.twice!, tf.mul(draws.z!, 2))).every((d) => d === 0)).toBe(true)
  }))

  it('posterior predictive with the exact posterior guide: x̃ ~ N(POST_LOC, POST_SCALE² + 1) per component, not the data', () => tf.tidy(() => {
    const guide = fixedGuide(tf.scalar(POST_LOC), tf.scalar(POST_SCALE))
    const draws = predictive(model, { guide, numSamples: 1500, seed: 1 })(data())
    expect(draws.x!.shape).toEqual([1500, XS.length])
    expect(draws.z!.shape).toEqual([1500])
    expectMomentsMatch(draws.x!, XS.map(() => POST_LOC), XS.map(() => POST_SCALE ** 2 + 1))
    expectMomentsMatch(draws.z!, [POST_LOC], [POST_SCALE ** 2])
  }))

  it('the same seed gives the same draws, another seed other draws', () => tf.tidy(() => {
    const f = (s: number) => read(predictive(simple, { numSamples: 5, seed: s })(tf.scalar(0)).x!)
    expect(f(3)).toEqual(f(3))
    expect(f(3)).not.toEqual(f(4))
  }))

  it('stacks non-scalar sites along a new leading dim, and a guide-less latent comes from the prior', () => tf.tidy(() => {
    const m = (x: tf.Tensor) => gen(function* () {
      const a = yield* sample('a', normal(tf.zeros([2, 3]), 1))
      const b = yield* sample('b', normal(100, 1))
      yield* observe('x', normal(tf.add(a, b), 1).toEvent(2), x)
    })
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('a', normal(tf.fill([2, 3], 5), 0.01)) })
    const draws = predictive(m, { guide: g, numSamples: 4, seed: 2 })(tf.zeros([2, 3]))
    expect(draws.a!.shape).toEqual([4, 2, 3])
    expect(draws.x!.shape).toEqual([4, 2, 3])
    read(draws.a!).forEach((v) => expect(Math.abs(v - 5)).toBeLessThan(0.1))
    read(draws.b!).forEach((v) => expect(Math.abs(v - 100)).toBeLessThan(6))
  }))

  it('leaks nothing and does not dispose the caller\'s tensors (a deterministic site passing an argument through)', () => {
    const x = tf.scalar(0.5)
    const echo = (obs: tf.Tensor) => gen(function* () {
      yield* deterministic('input', obs)
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 1), obs)
    })
    const loc = tf.scalar(0), scale = tf.scalar(1), xs = data()
    expectNoLeak(() => predictive(echo, { numSamples: 10, seed: 0 })(x))
    expectNoLeak(() => predictive(model, { guide: fixedGuide(loc, scale), numSamples: 10 })(xs))
    const failing = (obs: tf.Tensor) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 1).toEvent(1), obs)   // a scalar distribution has no dim to make an event of
    })
    expectNoLeak(() => { expect(() => predictive(failing, { numSamples: 3 })(x)).toThrow(/toEvent/); return [] }) // a failing run frees its draws
    expect(read(x)).toEqual([0.5])
    tf.dispose([x, loc, scale, xs])
  })

  it('a site that runs in some runs only is a SiteError naming it; numSamples must be a positive integer', () => tf.tidy(() => {
    const branchy = (_x: tf.Tensor) => gen(function* () {
      const c = yield* sample('c', bernoulli({ probs: 0.5 }))
      if (read(c)[0] === 1) yield* sample('sometimes', normal(0, 1))
    })
    expect(() => predictive(branchy, { numSamples: 40, seed: 0 })(tf.scalar(0))).toThrow(/site 'sometimes' ran in some runs but not in run \d+/)
    expect(() => predictive(branchy, { numSamples: 40, seed: 0 })(tf.scalar(0))).toThrow(SiteError)
    for (const n of [0, 2.5, -1]) expect(() => predictive(simple, { numSamples: n })).toThrow(InvalidArgumentError)
  }))
})

describe('uncondition', () => {
  const two = gen(function* () {
    yield* observe('a', normal(10, 1), tf.scalar(0))
    yield* observe('b', normal(10, 1), tf.scalar(0))
  })
  const site = (t: ReturnType<typeof traceProgram>['trace'], name: string) => t.byName.get(name) as SampleSite

  it('turns observations into draws from their distributions; with names, only those', () => tf.tidy(() => {
    const all = traceProgram(two, [uncondition(), seed(0)]).trace
    expect(site(all, 'a').kind).toBe('latent')
    expect(read(site(all, 'a').value)[0]).toBeGreaterThan(5)
    const some = traceProgram(two, [uncondition(['b']), seed(0)]).trace
    expect(site(some, 'a').kind).toBe('observed')
    expect(read(site(some, 'a').value)).toEqual([0])
    expect(read(site(some, 'b').value)[0]).toBeGreaterThan(5)
  }))
})
