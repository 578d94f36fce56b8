import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LogitsOrProbs } from '../../src/distributions/bernoulli.js'
import { categorical, klCategoricalCategorical } from '../../src/distributions/categorical.js'
import type { Categorical } from '../../src/distributions/categorical.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, logSumExp64, read, sizeOf, t } from '../helpers.js'
import { categoricalLogProbs64 as logProbs64, categoricalParams as withParams, doubles, noLeakLaw, shapeLaws } from './laws.js'

const make = (useLogits: boolean, values: number[], shape: number[]) =>
  categorical(useLogits ? { logits: t(values, shape) } : { probs: t(values, shape) })

describe('categorical', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => make(p.useLogits, p.values, [...p.batch, p.k]) })), {
    reparameterized: false, dtype: 'int32', repeatable: 'sample',
    expandTiles: { param: (d) => d.logits, rel: 1e-5, abs: 1e-5 },
    checkShapes: (d, c) => expect(d.numCategories).toBe(c.k),
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
    const logits = doubles(6, -10, 10)
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

  noLeakLaw(...(['logits', 'probs'] as const).map((given) => () => {
    const param = given === 'logits' ? t([0, 1, 2, 0, 0, 0], [2, 3]) : t([0.2, 0.3, 0.5, 1, 0, 0], [2, 3]), x = t([0, 2], [2])
    const params = given === 'logits' ? { logits: param } : { probs: param }
    const d = categorical(params)
    return {
      d, x, expandedOwns: (e: Categorical) => [e.logits, e.probs],
      also: [
        () => klCategoricalCategorical(d, d),
        () => { const n = categorical(params); return 'logits' in params ? [n.logits, n.probs] : n.logits },
        () => { const n = categorical({ logits: [1, 2] }); return [n.logits, n.probs] },
      ],
      dispose: [param, x],
    }
  }))

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
