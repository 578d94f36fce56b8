import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { deterministic, factor, observe, param, plate, sample, scaled } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { block, condition, mask, replay, seed, substitute } from '../../src/inference/handlers.js'
import { SiteError } from '../../src/inference/interpreter.js'
import { traceProgram } from '../../src/inference/trace.js'
import type { SampleSite } from '../../src/inference/trace.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { read } from '../helpers.js'

/** The error a thunk throws (fails the test if it throws nothing). */
const thrown = (f: () => unknown): Error => {
  try { f() } catch (e) { return e as Error }
  return expect.fail('expected an error, none was thrown')
}

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

  it('replay gives a deterministic site the value of the traced deterministic site of its name; a thunk runs only without one', () => tf.tidy(() => {
    let computed = 0
    const twice = (z: tf.Tensor) => () => { computed += 1; return tf.mul(z, 2) }
    const guide = gen(function* () {
      const z = yield* sample('z', normal(5, 0.1))
      yield* deterministic('w', tf.scalar(7))
      return yield* deterministic('twice', twice(z)())
    })
    const prog = gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      const w = yield* deterministic('w', () => tf.scalar(-1))
      return [yield* deterministic('twice', twice(z)), w, yield* deterministic('own', twice(z))] as const
    })
    const valued = gen(function* () { return yield* deterministic('w', tf.scalar(-2)) })   // a value, not a thunk: kept, as in Pyro
    const q = traceProgram(guide, [seed(1)]).trace
    computed = 0
    const { trace, value: [t, w, own] } = traceProgram(prog, [replay(q), seed(2)])
    expect(q.byName.get('twice')).toMatchObject({ _tag: 'Deterministic', value: t })
    expect(read(w)).toEqual([7])
    expect(computed).toBe(1)   // 'own' only: the guide has no such site
    expect(read(own)).toEqual(read(tf.mul(site(q, 'z').value, 2)))
    expect(trace.byName.get('twice')).toMatchObject({ _tag: 'Deterministic', value: t })
    // A sample site of the replayed trace does not answer a deterministic site of its name, nor the other way round.
    const alone = traceProgram(gen(function* () { return yield* deterministic('z', () => tf.scalar(3)) }), [replay(q)])
    expect(read(alone.value)).toEqual([3])
    expect(read(traceProgram(valued, [replay(q)]).value)).toEqual([-2])
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
    const m = tf.scalar(1, 'bool')   // every site of the model is scalar: a mask must broadcast to each site's batch shape
    const { trace } = traceProgram(scaled(0.5, () => scaled(0.5, () => model(tf.scalar(1)))), [mask(m)])
    expect(site(trace, 'z').scale).toBe(0.25)
    const penalty = trace.byName.get('penalty')
    expect(penalty?._tag === 'Factor' ? penalty.scale : undefined).toBe(0.25)
    expect(site(trace, 'x').mask).toBe(m)
  }))

  it('mask takes a bool tensor: a float or int mask is an InvalidArgumentError naming the handler, its dtype and shape', () => tf.tidy(() => {
    for (const m of [tf.tensor1d([1, 0, 1]), tf.tensor1d([1, 0, 1], 'int32')]) {
      const e = thrown(() => mask(m))
      expect(e).toBeInstanceOf(InvalidArgumentError)
      expect(e.message).toMatch(new RegExp(`mask: the mask must be a bool tensor; got dtype ${m.dtype}, shape \\[3\\]`))
    }
  }))

  it('a mask that does not broadcast to a site\'s batch shape is a SiteError naming the site, the mask\'s shape and the batch shape', () => tf.tidy(() => {
    const inPlate = plate('data', 4, {}, () => gen(function* () { yield* sample('z', normal(0, 1)) }))
    const e = thrown(() => traceProgram(inPlate, [mask(tf.tensor1d([true, false, true], 'bool'))]))
    expect(e).toBeInstanceOf(SiteError)
    expect(e.message).toMatch(/site 'z': its mask has shape \[3\], which does not broadcast to the site's batch shape \[4\]/)
    // A [4] mask on a global site would count the site once per mask element.
    const global = gen(function* () { yield* sample('g', normal(0, 1)) })
    expect(() => traceProgram(global, [mask(tf.tensor1d([true, false, true, true], 'bool'))])).toThrow(/site 'g': its mask has shape \[4\], which does not broadcast to the site's batch shape \[\] \(scalar\)/)
  }))

  it('masks that broadcast to the site are accepted: the plate\'s shape, [1], a scalar; an observation\'s data counts', () => tf.tidy(() => {
    const inPlate = plate('data', 4, {}, () => gen(function* () { yield* sample('z', normal(0, 1)) }))
    for (const m of [tf.tensor1d([true, false, true, true], 'bool'), tf.tensor1d([false], 'bool'), tf.scalar(true, 'bool')]) {
      expect(site(traceProgram(inPlate, [mask(m)]).trace, 'z').mask).toBe(m)
    }
    // A scalar distribution observing 4 data points has a log-density of shape [4]: a [4] mask fits it.
    const obs = gen(function* () { yield* observe('x', normal(0, 1), tf.zeros([4])) })
    const m = tf.tensor1d([true, true, false, true], 'bool')
    expect(site(traceProgram(obs, [mask(m)]).trace, 'x').mask).toBe(m)
  }))

  it('two masks on one site that do not broadcast together are a SiteError naming both', () => tf.tidy(() => {
    const inPlate = plate('data', 4, {}, () => gen(function* () { yield* sample('z', normal(0, 1)) }))
    const e = thrown(() => traceProgram(inPlate, [mask(tf.tensor1d([true, false, true, true], 'bool')), mask(tf.tensor1d([true, false], 'bool'))]))
    expect(e).toBeInstanceOf(SiteError)
    expect(e.message).toMatch(/site 'z': the mask of shape \[2\] cannot be combined with the site's earlier mask of shape \[4\]/)
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

  it('a param and a site sharing a name is a SiteError, either order; a param read twice is fine', () => tf.tidy(() => {
    const paramFirst = gen(function* () { yield* param('loc', () => tf.scalar(0)); yield* sample('loc', normal(0, 1)) })
    const siteFirst = gen(function* () { yield* sample('loc', normal(0, 1)); yield* param('loc', () => tf.scalar(0)) })
    expect(() => traceProgram(paramFirst)).toThrow(/sample site 'loc' has the name of a param of this program/)
    expect(() => traceProgram(siteFirst)).toThrow(/param 'loc' has the name of a site that already ran/)
    const twice = gen(function* () { const a = yield* param('loc', () => tf.scalar(1)); const b = yield* param('loc', () => tf.scalar(1)); return yield* sample('z', normal(tf.add(a, b), 1)) })
    expect(() => traceProgram(twice)).not.toThrow()
  }))
})
