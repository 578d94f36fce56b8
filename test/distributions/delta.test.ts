import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { delta } from '../../src/distributions/delta.js'
import { setValidation } from '../../src/distributions/validation.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, read, sizeOf, t } from '../helpers.js'
import { doubles, noLeakLaw, shapeLaws } from './laws.js'

/** A value of rank 0–3 with dims 1–3, and how many of its rightmost dims are the event. */
const withValue = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }).chain((shape) => fc.record({
  shape: fc.constant(shape),
  values: doubles(sizeOf(shape), -1e3, 1e3),
  eventDims: fc.integer({ min: 0, max: shape.length }),
}))

describe('delta', () => {
  shapeLaws(withValue.map((v) => {
    const split = v.shape.length - v.eventDims
    return { ...v, batch: v.shape.slice(0, split), event: v.shape.slice(split), make: () => delta(t(v.values, v.shape), { eventDims: v.eventDims }) }
  }), {
    reparameterized: true, expandedLogProb: true,
    checkEvent: ({ ind, x }) => expect(read(ind.logProb(x)).every((v) => v === 0)).toBe(true),
  })

  it('logProb is 0 at value and −∞ where any event element differs (float64 reference)', () => {
    fc.assert(fc.property(withValue, fc.nat(), ({ shape, values, eventDims }, pick) => tf.tidy(() => {
      const d = delta(t(values, shape), { eventDims })
      const k = sizeOf(d.eventShape)
      // perturb one element; every event containing it must get −∞, all others 0
      const i = pick % values.length
      const x = values.map((v, j) => (j === i ? v + 1 : v))
      const want = Array.from({ length: sizeOf(d.batchShape) }, (_, b) => (Math.floor(i / k) === b ? -Infinity : 0))
      expect(read(d.logProb(t(x, shape)))).toEqual(want)
    })), FC)
  })

  it('logProb compares by IEEE equality, as Pyro\'s x == v: −0 equals 0; with validation off NaN and ±∞ equal no value; x with sample dims broadcasts', () => tf.tidy(() => {
    const value = t([0, 1, -2, 3, 4, 5], [3, 2])
    const d = delta(value, { eventDims: 1 })
    expect(read(d.logProb(t([-0, 1, -2, 3, 4, 5.5], [3, 2])))).toEqual([0, 0, -Infinity])
    const draws = t([0, 1, -2, 3, 4, 5, 0, 1, -2, 3.5, 4, 5], [2, 3, 2])   // two draws: the value, then one with a changed event
    expect(read(d.logProb(draws))).toEqual([0, 0, 0, 0, -Infinity, 0])
    setValidation(false)
    try {
      expect(read(d.logProb(t([-0, 1, -2, Infinity, 4, NaN], [3, 2])))).toEqual([0, -Infinity, -Infinity])
      expect(read(delta(value).logProb(t([-0, NaN, -2, -Infinity, 4, 5], [3, 2])))).toEqual([0, -Infinity, 0, -Infinity, 0, 0])
    } finally { setValidation(true) }
  }))

  it('normalisation: exp(logProb(value)) = 1', () => tf.tidy(() => {
    const d = delta(t([1.5, -2, 1e20, 0], [2, 2]), { eventDims: 1 })
    expect(read(tf.exp(d.logProb(d.value)))).toEqual([1, 1])
  }))

  it('draws equal value; mean is value and variance is 0', () => tf.tidy(() => {
    const v = [-2, 0, 5.5]
    const d = delta(t(v, [3]))
    const x = read(d.sample([1000], 7))
    x.forEach((u, i) => expect(u).toBe(Math.fround(v[i % 3]!)))
    expect(read(d.mean)).toEqual(v)
    expect(read(d.variance)).toEqual([0, 0, 0])
    expect(d.entropy).toBeUndefined()
  }))

  it('samples lie in the support', () => tf.tidy(() => {
    const d = delta(t([1, 2, 3, 4, 5, 6], [2, 3]), { eventDims: 1 })
    const ok = d.support.check(d.sample([10]))
    expect(ok.shape).toEqual([10, 2])
    expect(read(ok).every((v) => v === 1)).toBe(true)
  }))

  it('rsample gradients w.r.t. value match finite differences', () => {
    const f = (v: number) => tf.tidy(() => read(tf.sum(tf.sin(delta(v).rsample([5]))))[0]!)
    const g = tf.tidy(() => read(tf.grad((v: tf.Tensor) => tf.sum(tf.sin(delta(v).rsample([5]))))(tf.scalar(0.7)))[0]!)
    expectClose([g], [centralDiff(f, 0.7, 1e-3)], 1e-3, 1e-4)
    expectClose([g], [5 * Math.cos(0.7)], 1e-4)
  })

  it('extreme values (±1e30) give finite logProb at value and finite gradients', () => tf.tidy(() => {
    const v = t([1e30, -1e30], [2])
    const lp = read(delta(v).logProb(v))
    const g = read(tf.grad((u: tf.Tensor) => tf.sum(delta(u).logProb(v)))(v))
    ;[...lp, ...g].forEach((x) => expect(Number.isFinite(x)).toBe(true))
    expect(read(delta(v).logProb(t([1e30, 0], [2])))).toEqual([0, -Infinity])
  }))

  it('logProb has a zero gradient in x and in the value, and its backward pass runs none of the indicator\'s comparisons', async () => {
    const value = t([0.5, 1, 2, 3, 4, 5], [2, 3]), x = t([0.5, 1, 2, 3, 4, 6], [2, 3])
    const [gx, gv] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(delta(b, { eventDims: 1 }).logProb(a)))([x, value])
    expect([...read(gx!), ...read(gv!)]).toEqual(Array(12).fill(0))
    const { kernels } = await tf.profile(() => tf.grads((a: tf.Tensor) => tf.sum(delta(value, { eventDims: 1 }).logProb(a)))([x]))
    const comparisons = kernels.map((k) => k.name).filter((n) => ['Max', 'Equal', 'All', 'Abs', 'Sub', 'Select', 'GreaterEqual', 'Sign', 'TfpplPointMassLogProb'].includes(n))
    // the forward's, once: the composite's, or the accelerator's one kernel
    expect([['Equal', 'All', 'Select'], ['TfpplPointMassLogProb']]).toContainEqual(comparisons)
    tf.dispose([value, x, gx!, gv!])
  })

  noLeakLaw(() => {
    const value = t([0, 1, 2, 3], [2, 2]), x = t([0, 1, 2, 4], [2, 2])
    const d = delta(value, { eventDims: 1 })
    return {
      d, x, expandedOwns: (e) => e.value,
      also: [() => { delta(value); return [] }, () => d.rsample(),
        // a log density given as numbers becomes a tensor the distribution owns
        () => { const w = delta(value, { eventDims: 1, logDensity: [0.5, 1] }); return [w.logDensity!, w.logProb(x)] },
        () => { const w = delta(value, { logDensity: 0.5 }), e = w.expand([3, 2, 2]); return [w.logDensity!, e.value, e.logDensity!, e.logProb(e.value)] }],
      dispose: [value, x],
    }
  })

  it('logDensity: logProb is it at value (broadcast over sample dims) and −∞ elsewhere; expand and toEvent carry it', () => tf.tidy(() => {
    const d = delta(t([1, 2, 3, 4, 5, 6], [3, 2]), { eventDims: 1, logDensity: t([-0.5, 1.25, 0], [3]) })
    expect(read(d.logProb(d.value))).toEqual([-0.5, 1.25, 0])
    expect(read(d.logProb(t([1, 2, 3, 0, 5, 6], [3, 2])))).toEqual([-0.5, -Infinity, 0])
    expect(d.logProb(d.sample([4])).shape).toEqual([4, 3])
    expect(read(d.logProb(d.sample([2])))).toEqual([-0.5, 1.25, 0, -0.5, 1.25, 0])
    const e = d.expand([2, 3])
    expect(read(e.logDensity!)).toEqual([-0.5, 1.25, 0, -0.5, 1.25, 0])
    expect(read(e.logProb(e.value))).toEqual([-0.5, 1.25, 0, -0.5, 1.25, 0])
    expect(read(d.toEvent(1).logProb(d.value))).toEqual([0.75])
    // a scalar log density broadcasts to the batch; without one, logProb is as before
    expect(read(delta(t([1, 2], [2]), { logDensity: -2 }).logProb(t([1, 2], [2])))).toEqual([-2, -2])
    expect(delta(t([1, 2], [2])).logDensity).toBeUndefined()
  }))

  it('logDensity: logProb\'s gradient reaches it (and, through it, what it was computed from)', () => tf.tidy(() => {
    const v = t([0.3, -1], [2])
    const g = tf.grad((ld: tf.Tensor) => tf.sum(tf.mul(delta(v, { logDensity: ld }).logProb(v), t([2, 3], [2]))))(t([0.1, 0.2], [2]))
    expect(read(g)).toEqual([2, 3])
  }))

  it('rejects bad arguments with named errors', () => {
    expect(() => delta([1, 2], { logDensity: [1, 2, 3] })).toThrow(ShapeError)
    expect(() => delta([[1, 2], [3, 4]], { eventDims: 1, logDensity: [[1, 2]] })).toThrow(/delta: option 'logDensity' must broadcast to the batch shape \[2\] \(value \[2, 2\] less its 1 event dim\(s\)\); got shape \[1, 2\]/)
    expect(() => delta([1, 2], { logDensity: [0, NaN] })).toThrow(/delta: argument 'logDensity' must satisfy finite real; got NaN at index \[1\]/)
    expect(() => delta(NaN)).toThrow(InvalidArgumentError)
    expect(() => delta([0, Infinity])).toThrow(/delta: argument 'value' must satisfy finite real; got Infinity at index \[1\]/)
    expect(() => delta([1, 2], { eventDims: 2 })).toThrow(ShapeError)
    expect(() => delta([1, 2], { eventDims: 2 })).toThrow(/delta: option 'eventDims' must be an integer between 0 and the rank of 'value' \(1, shape \[2\]\); got 2/)
    expect(() => delta([1, 2], { eventDims: 0.5 })).toThrow(ShapeError)
    const d = delta([[1, 2], [3, 4]], { eventDims: 1 })
    expect(() => d.logProb(t([1, NaN], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, 2, 3], [3]))).toThrow(/delta.logProb: value of shape \[3\] does not fit/)
    expect(() => d.expand([3])).toThrow(/delta.expand: batchShape \[2\] cannot be broadcast to \[3\]/)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
