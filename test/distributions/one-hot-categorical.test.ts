import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LogitsOrProbs } from '../../src/distributions/bernoulli.js'
import { klOneHotOneHot, oneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import type { OneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, sizeOf, t } from '../helpers.js'
import { categoricalLogProbs64 as logProbs64, categoricalParams as withParams, doubles, noLeakLaw, shapeLaws } from './laws.js'

const make = (useLogits: boolean, values: number[], shape: number[]) =>
  oneHotCategorical(useLogits ? { logits: t(values, shape) } : { probs: t(values, shape) })

/** The K unit vectors, shaped [K, 1, …, 1, K] to broadcast against a batch of rank r. */
const allUnitVectors = (k: number, r: number): tf.Tensor => tf.reshape(tf.eye(k), [k, ...new Array<number>(r).fill(1), k])

describe('oneHotCategorical', () => {
  shapeLaws(withParams.map((p) => ({ ...p, event: [p.k], make: () => make(p.useLogits, p.values, [...p.batch, p.k]) })), {
    reparameterized: false, dtype: 'float32', repeatable: 'sample',
    expandTiles: { param: (d) => d.logits, rel: 1e-5, abs: 1e-5 },
    checkShapes: (d, c) => expect(d.numCategories).toBe(c.k),
  })

  it('logProb equals the float64 Σ x log p to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, k, useLogits, values }, seed) => tf.tidy(() => {
      const d = make(useLogits, values, [...batch, k])
      const ref = logProbs64(read(useLogits ? d.logits : d.probs), k, useLogits)
      const x = read(d.sample([3], seed))
      const rows = Array.from({ length: x.length / k }, (_, r) => x.slice(r * k, (r + 1) * k))
      const b = sizeOf(batch)
      const expected = rows.map((row, r) => row.reduce((s, v, i) => s + v * ref[r % b]![i]!, 0))
      expectClose(read(d.logProb(t(x, [3, ...batch, k]))), expected, 1e-4, 1e-5)
    })), FC)
  })

  it('probabilities over the K unit vectors sum to 1 for every batch element', () => {
    fc.assert(fc.property(withParams, ({ batch, k, useLogits, values }) => tf.tidy(() => {
      const d = make(useLogits, values, [...batch, k])
      const lp = d.logProb(allUnitVectors(k, batch.length))
      expect(lp.shape).toEqual([k, ...batch])
      expectClose(read(tf.sum(tf.exp(lp), 0)), new Array<number>(sizeOf(batch)).fill(1), 1e-5, 1e-6)
    })), FC)
  })

  it('sample mean and variance match probs and probs(1 − probs) (CLT bound)', () => tf.tidy(() => {
    const probs = [[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]]
    const d = oneHotCategorical({ probs: t(probs.flat(), [2, 3]) })
    expectClose(read(d.mean), probs.flat(), 1e-6, 0)
    expectClose(read(d.variance), probs.flat().map((p) => p * (1 - p)), 1e-5, 1e-7)
    expectMomentsMatch(d.sample([20000], 11), read(d.mean), read(d.variance))
  }))

  it('entropy equals −Σ p log p', () => tf.tidy(() => {
    const logits = [[0, 0, 0], [3, -1, 0.5], [-30, 10, 0]]
    const h = (row: number[]): number => -row.reduce((s, l) => s + Math.exp(l) * l, 0)
    expectClose(read(oneHotCategorical({ logits: t(logits.flat(), [3, 3]) }).entropy()), logProbs64(logits.flat(), 3, true).map(h), 1e-4, 1e-6)
  }))

  it('klOneHotOneHot equals the float64 Σ p log(p/q) and broadcasts', () => {
    const probs = doubles(4, 0.001, 1)
      .map((w) => w.map((v) => v / w.reduce((a, b) => a + b, 0)))
    fc.assert(fc.property(probs, probs, (a, b) => tf.tidy(() => {
      const p = oneHotCategorical({ probs: t(a, [4]) }), q = oneHotCategorical({ probs: t([...b, ...a], [2, 4]) })
      const lp = logProbs64(read(p.probs), 4, false)[0]!, lq = logProbs64(read(q.probs), 4, false)
      const expected = lq.map((row) => lp.reduce((s, l, i) => s + Math.exp(l) * (l - row[i]!), 0))
      expectClose(read(klOneHotOneHot(p, q)), expected, 1e-4, 1e-5)
      expect(Math.abs(read(klOneHotOneHot(p, p))[0]!)).toBeLessThan(1e-6)
    })), FC)
  })

  it('samples lie in the support (one-hot vectors); zero-probability classes are never drawn', () => tf.tidy(() => {
    const d = oneHotCategorical({ probs: t([0.5, 0, 0.5, 0, 0, 1], [2, 3]) })
    const x = d.sample([3000], 5)
    read(d.support.check(x)).forEach((v) => expect(v).toBe(1))
    const total = read(tf.sum(x, 0))
    expect(total).toEqual([expect.any(Number), 0, expect.any(Number), 0, 0, 3000])
    expect(total[0]! + total[2]!).toBe(3000)
  }))

  it('logits ±80 and probabilities near 0/1 give finite logProb and gradients', () => tf.tidy(() => {
    const all = allUnitVectors(3, 1)
    const logits = t([80, -80, 0, -80, -80, 80], [2, 3])
    const ref = logProbs64(read(logits), 3, true)
    expectClose(read(oneHotCategorical({ logits }).logProb(all)), [0, 1, 2].flatMap((k) => ref.map((row) => row[k]!)), 1e-5, 1e-5)
    const g = read(tf.grad((l: tf.Tensor) => tf.sum(oneHotCategorical({ logits: l }).logProb(all)))(logits))
    const probs = t([0, 1, 0, 1e-30, 1e-7, 1 - 1e-7], [2, 3])
    const gp = read(tf.grad((p: tf.Tensor) => tf.sum(oneHotCategorical({ probs: p }).logProb(all)))(probs))
    const values = [...g, ...read(oneHotCategorical({ probs }).logProb(all)), ...gp, ...read(oneHotCategorical({ probs }).entropy())]
    values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  noLeakLaw(...(['logits', 'probs'] as const).map((given) => () => {
    const param = given === 'logits' ? t([0, 1, 2, 0, 0, 0], [2, 3]) : t([0.2, 0.3, 0.5, 1, 0, 0], [2, 3])
    const x = t([1, 0, 0, 0, 0, 1], [2, 3])
    const params = given === 'logits' ? { logits: param } : { probs: param }
    const d = oneHotCategorical(params)
    return {
      d, x, expandedOwns: (e: OneHotCategorical) => [e.logits, e.probs],
      also: [
        () => klOneHotOneHot(d, d),
        () => { const n = oneHotCategorical(params); return 'logits' in params ? [n.logits, n.probs] : n.logits },
      ],
      dispose: [param, x],
    }
  }))

  it('rejects bad arguments with named errors', () => {
    expect(() => oneHotCategorical({ probs: [0.5, 0.6] })).toThrow(InvalidArgumentError)
    expect(() => oneHotCategorical({ probs: [0.5, 0.6] })).toThrow(/oneHotCategorical: argument 'probs' must satisfy x ≥ 0 and Σ x = 1/)
    expect(() => oneHotCategorical({ logits: [NaN, 0] })).toThrow(/oneHotCategorical: argument 'logits' must satisfy finite real; got NaN/)
    expect(() => oneHotCategorical({ probs: 1 })).toThrow(/oneHotCategorical: argument 'probs' must have rank ≥ 1/)
    expect(() => oneHotCategorical({} as unknown as LogitsOrProbs)).toThrow(/oneHotCategorical: .*got neither/)
    const d = oneHotCategorical({ logits: [[0, 0, 0], [1, 2, 3]] })
    expect(() => d.logProb(t([1, 1, 0, 0, 0, 1], [2, 3]))).toThrow(SupportError)
    expect(() => d.logProb(t([0.5, 0.5, 0], [3]))).toThrow(/oneHotCategorical.logProb: value outside the support \(one-hot vectors over the last dim\)/)
    expect(() => d.logProb(t([1, 0], [2]))).toThrow(ShapeError)
    expect(() => d.logProb(t([1, 0, 0, 0], [2, 2]))).toThrow(/value of shape \[2, 2\] does not fit/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => klOneHotOneHot(d, oneHotCategorical({ logits: [0, 0] }))).toThrow(/klOneHotOneHot: .*same number of categories; got 3 and 2/)
  })
})
