import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LogitsOrProbs } from '../../src/distributions/bernoulli.js'
import { categorical, klCategoricalCategorical } from '../../src/distributions/categorical.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, expectNoLeak, logSumExp64, read, sizeOf, smallShape, t } from '../helpers.js'

/** Normalised log-probabilities of each row (length k) of `xs`, in doubles. */
const logProbs64 = (xs: readonly number[], k: number, useLogits: boolean): number[][] =>
  Array.from({ length: xs.length / k }, (_, r) => {
    const row = xs.slice(r * k, (r + 1) * k)
    const logs = useLogits ? row : row.map((p) => Math.log(Math.max(p, 2 ** -23)))
    const z = logSumExp64(logs)
    return logs.map((l) => l - z)
  })

/** A batch shape, K ∈ 1..4, and logits ∈ [-10, 10] or probs (positive weights normalised in doubles). */
const withParams = fc.tuple(smallShape, fc.integer({ min: 1, max: 4 })).chain(([batch, k]) => fc.record({
  batch: fc.constant(batch), k: fc.constant(k), useLogits: fc.boolean(),
  raw: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: sizeOf(batch) * k, maxLength: sizeOf(batch) * k }),
})).map(({ batch, k, useLogits, raw }) => {
  if (useLogits) return { batch, k, useLogits, values: raw.map((v) => 20 * v - 10) }
  const w = raw.map((v) => 0.01 + v)
  return { batch, k, useLogits, values: w.map((v, i) => v / w.slice(i - (i % k), i - (i % k) + k).reduce((a, b) => a + b, 0)) }
})
const make = (useLogits: boolean, values: number[], shape: number[]) =>
  categorical(useLogits ? { logits: t(values, shape) } : { probs: t(values, shape) })

describe('categorical', () => {
  it('sample and logProb have shapes sampleShape ++ batchShape; samples are int32; no rsample', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, k, useLogits, values }, s, seed) => tf.tidy(() => {
      const d = make(useLogits, values, [...batch, k])
      expect(d.batchShape).toEqual(batch)
      expect(d.eventShape).toEqual([])
      expect(d.numCategories).toBe(k)
      expect(d.rsample).toBeUndefined()
      const x = d.sample(s, seed)
      expect(x.shape).toEqual([...s, ...batch])
      expect(x.dtype).toBe('int32')
      expect(d.logProb(x).shape).toEqual([...s, ...batch])
      expect(read(d.sample(s, seed))).toEqual(read(x))
    })), FC)
  })

  it('toEvent(n) moves n batch dims into the event; expand broadcasts the parameters', () => {
    fc.assert(fc.property(withParams, smallShape, fc.nat(), ({ batch, k, useLogits, values }, s, seed) => tf.tidy(() => {
      const d = make(useLogits, values, [...batch, k])
      const n = batch.length
      const ind = d.toEvent(n)
      expect(ind.batchShape).toEqual([])
      expect(ind.eventShape).toEqual(batch)
      const x = ind.sample(s, seed)
      expect(x.shape).toEqual([...s, ...batch])
      expect(ind.logProb(x).shape).toEqual(s)
      expectClose(read(ind.logProb(x)), read(tf.sum(d.logProb(x), batch.map((_, i) => s.length + i))), 1e-5, 1e-3)
      const e = d.expand([2, ...batch])
      expect(e.batchShape).toEqual([2, ...batch])
      expect(e.logits.shape).toEqual([2, ...batch, k])
      expectClose(read(e.logits), [...read(d.logits), ...read(d.logits)], 1e-5, 1e-5)
      expect(e.sample(s, seed).shape).toEqual([...s, 2, ...batch])
    })), FC)
  })

  it('logProb equals the float64 log-softmax to 1e-4 relative, broadcasting the value', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, k, useLogits, values }, seed) => tf.tidy(() => {
      const d = make(useLogits, values, [...batch, k])
      const ref = logProbs64(read(useLogits ? d.logits : d.probs), k, useLogits)
      const x = d.sample([3], seed)
      const b = sizeOf(batch)
      expectClose(read(d.logProb(x)), read(x).map((v, i) => ref[i % b]![v]!), 1e-4, 1e-5)
      // A scalar value broadcasts against the batch.
      expectClose(read(d.logProb(tf.scalar(k - 1, 'int32'))), ref.map((row) => row[k - 1]!), 1e-4, 1e-5)
    })), FC)
  })

  it('probabilities over 0..K−1 sum to 1 for every batch element', () => {
    fc.assert(fc.property(withParams, ({ batch, k, useLogits, values }) => tf.tidy(() => {
      const d = make(useLogits, values, [...batch, k])
      const all = tf.reshape(tf.range(0, k, 1, 'int32'), [k, ...batch.map(() => 1)])
      expectClose(read(tf.sum(tf.exp(d.logProb(all)), 0)), new Array<number>(sizeOf(batch)).fill(1), 1e-5, 1e-6)
    })), FC)
  })

  it('sample mean and variance match the moments of the index (CLT bound)', () => tf.tidy(() => {
    const probs = [[0.2, 0.3, 0.5], [0.7, 0.2, 0.1], [0, 0, 1]]
    const d = categorical({ probs: t(probs.flat(), [3, 3]) })
    const mean = probs.map((p) => p.reduce((s, q, i) => s + i * q, 0))
    expectClose(read(d.mean), mean, 1e-5, 1e-6)
    expectClose(read(d.variance), probs.map((p, r) => p.reduce((s, q, i) => s + q * (i - mean[r]!) ** 2, 0)), 1e-4, 1e-6)
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('entropy equals −Σ p log p', () => tf.tidy(() => {
    const logits = [[0, 0, 0, 0], [3, -1, 0.5, 2], [-30, 10, 0, -5]]
    const d = categorical({ logits: t(logits.flat(), [3, 4]) })
    const h = (row: number[]): number => {
      const z = logSumExp64(row)
      return -row.reduce((s, l) => s + Math.exp(l - z) * (l - z), 0)
    }
    expectClose(read(d.entropy()), logits.map(h), 1e-4, 1e-6)
    expectClose(read(categorical({ probs: t([0, 1, 0.5, 0.5], [2, 2]) }).entropy()), [0, Math.LN2], 1e-4, 1e-6)
  }))

  it('klCategoricalCategorical equals the float64 Σ p log(p/q) and broadcasts', () => {
    const logits = fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 6, maxLength: 6 })
    fc.assert(fc.property(logits, logits, (a, b) => tf.tidy(() => {
      const p = categorical({ logits: t(a, [2, 3]) }), q = categorical({ logits: t(b, [2, 3]) })
      const lp = logProbs64(read(t(a, [6])), 3, true), lq = logProbs64(read(t(b, [6])), 3, true)
      const expected = lp.map((row, r) => row.reduce((s, l, i) => s + Math.exp(l) * (l - lq[r]![i]!), 0))
      expectClose(read(klCategoricalCategorical(p, q)), expected, 1e-4, 1e-5)
      const q1 = categorical({ logits: t(b.slice(0, 3), [3]) })
      expect(klCategoricalCategorical(categorical({ logits: t([...a, ...a], [4, 1, 3]) }), q).shape).toEqual([4, 2])
      expectClose(read(klCategoricalCategorical(p, q1)), lp.map((row) => row.reduce((s, l, i) => s + Math.exp(l) * (l - lq[0]![i]!), 0)), 1e-4, 1e-5)
    })), FC)
  })

  it('samples lie in the support {0, …, K − 1}; zero-probability classes are never drawn', () => tf.tidy(() => {
    const d = categorical({ probs: t([0.5, 0, 0.5, 0, 0, 1], [2, 3]) })
    const x = d.sample([3000], 5)
    read(d.support.check(x)).forEach((v) => expect(v).toBe(1))
    const xs = read(x)
    expect(xs.filter((_, i) => i % 2 === 0).every((v) => v !== 1)).toBe(true)
    expect(xs.filter((_, i) => i % 2 === 1).every((v) => v === 2)).toBe(true)
  }))

  it('logits ±80 and probabilities near 0/1 give finite logProb and gradients', () => tf.tidy(() => {
    const all = tf.reshape(tf.range(0, 3, 1, 'int32'), [3, 1])
    const logits = t([80, -80, 0, -80, -80, 80], [2, 3])
    const lp = read(categorical({ logits }).logProb(all))
    const ref = logProbs64(read(logits), 3, true)
    expectClose(lp, [0, 1, 2].flatMap((k) => ref.map((row) => row[k]!)), 1e-5, 1e-5)
    const g = read(tf.grad((l: tf.Tensor) => tf.sum(categorical({ logits: l }).logProb(all)))(logits))
    g.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    const probs = t([0, 1, 0, 1e-30, 1e-7, 1 - 1e-7], [2, 3])
    const gp = read(tf.grad((p: tf.Tensor) => tf.sum(categorical({ probs: p }).logProb(all)))(probs))
    const values = [...read(categorical({ probs }).logProb(all)), ...gp, ...read(categorical({ probs }).entropy())]
    values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  it('every public call leaves numTensors unchanged', () => {
    const logits = t([0, 1, 2, 0, 0, 0], [2, 3]), probs = t([0.2, 0.3, 0.5, 1, 0, 0], [2, 3]), x = t([0, 2], [2])
    for (const params of [{ logits }, { probs }]) {
      const d = categorical(params)
      expectNoLeak(() => d.sample([3], 1))
      expectNoLeak(() => d.logProb(x))
      expectNoLeak(() => [d.mean, d.variance, d.entropy()])
      expectNoLeak(() => d.toEvent(1).logProb(x))
      expectNoLeak(() => { const e = d.expand([3, 2]); return [e.sample(), e.logits, e.probs] })
      expectNoLeak(() => klCategoricalCategorical(d, d))
      expectNoLeak(() => { const n = categorical(params); return 'logits' in params ? [n.logits, n.probs] : n.logits })
      expectNoLeak(() => { const n = categorical({ logits: [1, 2] }); return [n.logits, n.probs] })
    }
    tf.dispose([logits, probs, x])
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => categorical({ probs: [0.5, 0.6] })).toThrow(InvalidArgumentError)
    expect(() => categorical({ probs: [0.5, 0.6] })).toThrow(/categorical: argument 'probs' must satisfy x ≥ 0 and Σ x = 1 over the last dim; got 0\.5/)
    expect(() => categorical({ probs: [1.5, -0.5] })).toThrow(InvalidArgumentError)
    expect(() => categorical({ logits: [0, Infinity] })).toThrow(/categorical: argument 'logits' must satisfy finite real; got Infinity/)
    expect(() => categorical({ logits: 0 })).toThrow(ShapeError)
    expect(() => categorical({ logits: 0 })).toThrow(/categorical: argument 'logits' must have rank ≥ 1 .*got shape \[\] \(scalar\)/)
    expect(() => categorical({ logits: [0], probs: [1] } as unknown as LogitsOrProbs)).toThrow(/categorical: .*exactly one of .*got both/)
    const d = categorical({ logits: [[0, 0, 0], [1, 2, 3]] })
    expect(() => d.logProb(t([0, 3], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0, 1.5], [2]))).toThrow(/categorical.logProb: value outside the support \(integer 0 ≤ x ≤ 2\); got 1\.5/)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => klCategoricalCategorical(d, categorical({ logits: [0, 0] }))).toThrow(/klCategoricalCategorical: .*same number of categories; got 3 and 2/)
    expect(() => klCategoricalCategorical(d, categorical({ logits: tf.zeros([3, 3]) }))).toThrow(/p \[2\], q \[3\]/)
  })
})
