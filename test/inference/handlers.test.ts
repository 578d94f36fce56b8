import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { factor, observe, param, plate, sample, scaled } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { block, condition, mask, replay, seed, substitute } from '../../src/inference/handlers.js'
import { SiteError } from '../../src/inference/interpreter.js'
import { traceProgram } from '../../src/inference/trace.js'
import type { SampleSite } from '../../src/inference/trace.js'
import { read } from '../helpers.js'

const model = (x: tf.Tensor) => gen(function* () {
  const loc = yield* param('loc', tf.scalar(0))
  const z = yield* sample('z', normal(loc, 1))
  const noise = yield* sample('noise', normal(0, 1))
  yield* observe('x', normal(tf.add(z, tf.mul(noise, 0)), 1), x)
  yield* factor('penalty', tf.scalar(-0.5))
  return z
})
const site = (t: ReturnType<typeof traceProgram>['trace'], name: string) => t.byName.get(name) as SampleSite

describe('handlers', () => {
  it('trace records every site in order with kind, value and distribution', () => tf.tidy(() => {
    const { trace, value } = traceProgram(model(tf.scalar(1)), [seed(0)])
    expect(trace.sites.map((s) => s.name)).toEqual(['z', 'noise', 'x', 'penalty'])
    expect(site(trace, 'z').kind).toBe('latent')
    expect(site(trace, 'x').kind).toBe('observed')
    expect(read(site(trace, 'z').value)).toEqual(read(value))
  }))

  it('seed makes draws repeatable and site-keyed', () => tf.tidy(() => {
    const a = traceProgram(model(tf.scalar(1)), [seed(5)]).trace
    const b = traceProgram(model(tf.scalar(1)), [seed(5)]).trace
    const c = traceProgram(model(tf.scalar(1)), [seed(6)]).trace
    expect(read(site(a, 'z').value)).toEqual(read(site(b, 'z').value))
    expect(read(site(a, 'z').value)).not.toEqual(read(site(c, 'z').value))
  }))

  it('condition turns a latent into an observation', () => tf.tidy(() => {
    const { trace, value } = traceProgram(model(tf.scalar(1)), [condition({ z: tf.scalar(0.3) })])
    expect(site(trace, 'z').kind).toBe('observed')
    expect(read(value)[0]).toBeCloseTo(0.3, 6)
  }))

  it('replay reuses the values of another trace', () => tf.tidy(() => {
    const guideTrace = traceProgram(gen(function* () { return yield* sample('z', normal(5, 0.1)) }), [seed(1)]).trace
    const { trace } = traceProgram(model(tf.scalar(1)), [replay(guideTrace), seed(2)])
    expect(read(site(trace, 'z').value)).toEqual(read(site(guideTrace, 'z').value))
    expect(site(trace, 'z').dist.name).toBe('normal')
  }))

  it('substitute replaces params', () => tf.tidy(() => {
    const { trace } = traceProgram(model(tf.scalar(1)), [substitute({ loc: tf.scalar(100) }), seed(3)])
    expect(read(site(trace, 'z').value)[0]).toBeGreaterThan(90)
  }))

  it('block hides sites from the handlers after it', () => tf.tidy(() => {
    const { trace } = traceProgram(model(tf.scalar(1)), [block({ hide: ['noise'] })])
    expect(trace.sites.map((s) => s.name)).toEqual(['z', 'x', 'penalty'])
    const exposed = traceProgram(model(tf.scalar(1)), [block({ expose: ['x'] })]).trace
    expect(exposed.sites.map((s) => s.name)).toEqual(['x'])
  }))

  it('scaled scopes multiply and mask sets the weight of sample and factor sites', () => tf.tidy(() => {
    const m = tf.tensor1d([1, 0], 'bool')
    const { trace } = traceProgram(scaled(0.5, () => scaled(0.5, () => model(tf.scalar(1)))), [mask(m)])
    expect(site(trace, 'z').scale).toBe(0.25)
    const penalty = trace.byName.get('penalty')
    expect(penalty?._tag === 'Factor' ? penalty.scale : undefined).toBe(0.25)
    expect(site(trace, 'x').mask).toBe(m)
  }))

  it('plate subsampling scales the sites inside by N / B', () => tf.tidy(() => {
    const data = tf.range(0, 100)
    const p = plate('data', 100, { subsampleSize: 20 }, (idx) => gen(function* () {
      return yield* observe('x', normal(tf.zeros([20]), 1), tf.gather(data, idx))
    }))
    const { trace } = traceProgram(p, [seed(1)])
    expect(site(trace, 'x').scale).toBe(5)
    expect(site(trace, 'x').plates.map((f) => f.name)).toEqual(['data'])
  }))

  it('scaled scopes multiply the scale of the sites inside, and only those', () => tf.tidy(() => {
    const p = scaled(2, () => gen(function* () {
      yield* scaled(0.5, () => gen(function* () {
        yield* scaled(0.2, () => gen(function* () { yield* sample('inner', normal(0, 1)) }))
        yield* sample('outer', normal(0, 1))
      }))
      yield* sample('free', normal(0, 1))
    }))
    const { trace } = traceProgram(p)
    expect(site(trace, 'inner').scale).toBeCloseTo(0.2, 10)
    expect(site(trace, 'outer').scale).toBe(1)
    expect(site(trace, 'free').scale).toBe(2)
  }))

  it('a duplicate site name is a SiteError naming the site', () => tf.tidy(() => {
    const dup = gen(function* () { yield* sample('z', normal(0, 1)); yield* sample('z', normal(0, 1)) })
    expect(() => traceProgram(dup)).toThrow(SiteError)
    expect(() => traceProgram(dup)).toThrow(/duplicate site name 'z'/)
  }))
})
