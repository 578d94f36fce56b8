import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { normal } from '../../src/distributions/normal.js'
import { oneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import { relaxedBernoulli } from '../../src/distributions/relaxed-bernoulli.js'
import { relaxedOneHotCategorical } from '../../src/distributions/relaxed-one-hot-categorical.js'
import { straightThrough } from '../../src/distributions/straight-through.js'
import type { StraightThrough, StraightThroughBase } from '../../src/distributions/straight-through.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, logSumExp64, read, sizeOf, smallShape, softplus64, t } from '../helpers.js'
import { doubles, noLeakLaw, shapeLaws } from './laws.js'

type Family = 'bernoulli' | 'oneHot' | 'relaxedBernoulli' | 'relaxedOneHot'
const FAMILIES: readonly Family[] = ['bernoulli', 'oneHot', 'relaxedBernoulli', 'relaxedOneHot']
const isBinary = (f: Family): boolean => f === 'bernoulli' || f === 'relaxedBernoulli'
const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x))
const softmax64 = (ls: readonly number[]): number[] => { const m = logSumExp64(ls); return ls.map((l) => Math.exp(l - m)) }

/** The base family; categorical logits have shape batch ++ [K]. */
const base = (f: Family, logits: tf.Tensor, temp: tf.Tensor | number = 0.7): StraightThroughBase =>
  f === 'bernoulli' ? bernoulli({ logits })
    : f === 'oneHot' ? oneHotCategorical({ logits })
      : f === 'relaxedBernoulli' ? relaxedBernoulli(temp, { logits }) : relaxedOneHotCategorical(temp, { logits })

/** A family, batch shape, K (1 for binary: no event dim) and logits ∈ [−4, 4]. */
const withParams = fc.record({ f: fc.constantFrom(...FAMILIES), batch: smallShape, k: fc.integer({ min: 2, max: 4 }) })
  .chain(({ f, batch, k }) => {
    const event = isBinary(f) ? [] : [k]
    const n = sizeOf(batch) * (isBinary(f) ? 1 : k)
    return doubles(n, -4, 4).map((logits) => ({ f, batch, event, logits }))
  })

describe('straightThrough', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => straightThrough(base(p.f, t(p.logits, [...p.batch, ...p.event]))) })), {
    reparameterized: true, tag: 'StraightThrough', dtype: 'float32', repeatable: 'rsample',
    checkEvent: ({ d, e }) => expect(e.base._tag).toBe(d.base._tag),
  })

  it('logProb of a hard value is the float64 Bernoulli / Categorical log-mass with the same logits', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ f, batch, event, logits }, seed) => tf.tidy(() => {
      const d = straightThrough(base(f, t(logits, [...batch, ...event])))
      const x = d.sample([3], seed)
      const lp = read(d.logProb(x)), xs = read(x), b = sizeOf(batch)
      const ls = read(t(logits, [logits.length]))
      if (isBinary(f)) {
        expectClose(lp, xs.map((v, i) => v * ls[i % b]! - softplus64(ls[i % b]!)), 1e-5, 1e-5)
      } else {
        const k = event[0]!
        expectClose(lp, lp.map((_, i) => {
          const row = ls.slice((i % b) * k, (i % b + 1) * k)
          const hot = xs.slice(i * k, (i + 1) * k).indexOf(1)
          return row[hot]! - logSumExp64(row)
        }), 1e-5, 1e-5)
      }
    })), FC)
  })

  it('the probabilities of all hard values sum to 1', () => tf.tidy(() => {
    const logits = [-3, 0.2, 2.5]
    for (const f of ['bernoulli', 'relaxedBernoulli'] as const) {
      const d = straightThrough(base(f, t(logits, [3])))
      const p = tf.add(tf.exp(d.logProb(tf.zeros([3]))), tf.exp(d.logProb(tf.ones([3]))))
      expectClose(read(p), [1, 1, 1], 1e-6, 1e-6)
    }
    for (const f of ['oneHot', 'relaxedOneHot'] as const) {
      const d = straightThrough(base(f, t(logits, [3])))
      expectClose([read(tf.sum(tf.exp(d.logProb(tf.eye(3)))))[0]!], [1], 1e-6, 1e-6)
    }
  }))

  it('hard draws have frequencies σ(l) / softmax(l), at any temperature (CLT bound)', () => tf.tidy(() => {
    const logits = [-1.5, 0.3, 2]
    const p = logits.map(sigmoid64), q = softmax64(logits)
    for (const temp of [0.2, 1, 5]) {
      for (const f of FAMILIES) {
        const d = straightThrough(base(f, t(logits, [3]), temp))
        const mean = isBinary(f) ? p : q
        expectMomentsMatch(d.rsample([10000], 17), mean, mean.map((m) => m * (1 - m)))
      }
    }
  }))

  it('rsample values are hard and in the support; the relaxed ones threshold the relaxed draw', () => tf.tidy(() => {
    for (const f of FAMILIES) {
      const d = straightThrough(base(f, t([-80, 0, 1.5, 80, 0.5, -2], [2, 3]), 0.5))
      const x = d.rsample([500], 3)
      expect(read(tf.cast(d.support.check(x), 'float32')).every((v) => v === 1)).toBe(true)
      expect(read(x).every((v) => v === 0 || v === 1)).toBe(true)
      if (f === 'relaxedBernoulli' || f === 'relaxedOneHot') {
        const y = (d.base as { rsample: (s: number[], seed: number) => tf.Tensor }).rsample([500], 3)
        const hard = f === 'relaxedBernoulli' ? tf.cast(tf.greater(y, 0.5), 'float32') : tf.oneHot(tf.argMax(y, -1), 3).asType('float32')
        expect(read(x)).toEqual(read(hard))
      }
    }
  }))

  it('d/dlogits Σ w · rsample equals the gradient of Σ w · soft, computed in doubles', () => tf.tidy(() => {
    const l0 = [0.4, -1.1, 1.7], temp = 0.8, s = 50
    const w = Array.from({ length: s * 3 }, (_, i) => Math.sin(1.3 * i + 0.5))
    const grad = (f: Family) => read(tf.grad((l: tf.Tensor) => tf.sum(tf.mul(t(w, [s, 3]), straightThrough(base(f, l, temp)).rsample([s], 9))))(t(l0, [3])))
    const wSum = (j: number) => w.filter((_, i) => i % 3 === j).reduce((a, b) => a + b, 0)
    // Bernoulli: soft = σ(l) broadcast, so ∂/∂l_j = Σ_s w_sj σ'(l_j).
    expectClose(grad('bernoulli'), l0.map((l, j) => wSum(j) * sigmoid64(l) * (1 - sigmoid64(l))), 1e-4, 1e-5)
    // OneHot: soft = softmax(l), ∂/∂l_j = Σ_s Σ_k w_sk p_k (δ_kj − p_j).
    const p = softmax64(l0)
    expectClose(grad('oneHot'), l0.map((_, j) => [0, 1, 2].reduce((a, k) => a + wSum(k) * p[k]! * ((k === j ? 1 : 0) - p[j]!), 0)), 1e-4, 1e-5)
    // Relaxed: soft = the relaxed draw y (same seed); ∂y/∂l = y(1 − y)/T, ∂y_k/∂l_j = y_k (δ_kj − y_j)/T.
    const yb = read(relaxedBernoulli(temp, { logits: t(l0, [3]) }).rsample([s], 9))
    expectClose(grad('relaxedBernoulli'), l0.map((_, j) => yb.reduce((a, y, i) => (i % 3 === j ? a + w[i]! * y * (1 - y) / temp : a), 0)), 1e-4, 1e-5)
    const yc = read(relaxedOneHotCategorical(temp, { logits: t(l0, [3]) }).rsample([s], 9))
    expectClose(grad('relaxedOneHot'), l0.map((_, j) => yc.reduce((a, y, i) => {
      const row = Math.floor(i / 3) * 3
      return a + w[i]! * y * ((i % 3 === j ? 1 : 0) - yc[row + j]!) / temp
    }, 0)), 1e-4, 1e-5)
  }))

  it('the temperature gradient of a straight-through relaxed Bernoulli is that of the relaxed draw', () => tf.tidy(() => {
    const l0 = t([0.4, -1.1, 1.7], [3]), s = 40
    const g = read(tf.grad((temp: tf.Tensor) => tf.sum(straightThrough(relaxedBernoulli(temp, { logits: l0 })).rsample([s], 4)))(tf.scalar(0.9)))
    // y = σ(z/T) ⇒ ∂y/∂T = −y(1 − y) logit(y) / T.
    const ys = read(relaxedBernoulli(0.9, { logits: l0 }).rsample([s], 4))
    expectClose(g, [ys.reduce((a, y) => a - (y * (1 - y) * (Math.log(y) - Math.log1p(-y))) / 0.9, 0)], 1e-3, 1e-4)
  }))

  it('extreme logits (±80) give finite logProb, rsample and gradients', () => tf.tidy(() => {
    for (const f of FAMILIES) {
      const l = t([80, -80, 0, -80, 80, 0], [2, 3])
      const d = straightThrough(base(f, l, 0.1))
      const x = d.rsample([4], 2)
      const g1 = tf.grad((ll: tf.Tensor) => tf.sum(straightThrough(base(f, ll, 0.1)).logProb(x)))(l)
      const g2 = tf.grad((ll: tf.Tensor) => tf.sum(tf.square(straightThrough(base(f, ll, 0.1)).rsample([4], 2))))(l)
      const values = [...read(d.logProb(x)), ...read(x), ...read(g1), ...read(g2)]
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    }
  }))

  noLeakLaw(...FAMILIES.map((f) => () => {
    const l = t([0, 1, -1, 2, 0.5, 0], [2, 3])
    const b = base(f, l)
    const d = straightThrough(b)
    const x = d.sample([2], 0)
    return {
      d, x, expandTo: [4, ...d.batchShape],
      expandedOwns: (e: StraightThrough) => [e.base.logits, e.base.probs, ...('temperature' in e.base ? [e.base.temperature] : [])],
      also: [() => straightThrough(b).rsample([2], 1)],
      dispose: [l, x, b.logits, b.probs, ...('temperature' in b ? [b.temperature] : [])],
    }
  }))

  it('rejects bad arguments with named errors', () => {
    const n = normal(0, 1)
    expect(() => straightThrough(n as unknown as StraightThroughBase)).toThrow(InvalidArgumentError)
    expect(() => straightThrough(n as unknown as StraightThroughBase)).toThrow(/straightThrough: argument 'base' must be a Bernoulli, OneHotCategorical, RelaxedBernoulli, RelaxedOneHotCategorical distribution; got a Normal distribution/)
    expect(() => straightThrough(undefined as unknown as StraightThroughBase)).toThrow(/got undefined/)
    tf.dispose([n.loc, n.scale])
    const b = straightThrough(relaxedBernoulli(0.5, { logits: [0, 1] }))
    expect(() => b.logProb(t([0.5, 1], [2]))).toThrow(SupportError)
    expect(() => b.logProb(t([0.5, 1], [2]))).toThrow(/straightThrough\(relaxedBernoulli\).logProb: value outside the support \(x ∈ \{0, 1\}\); got 0.5/)
    expect(() => b.logProb(t([0, 1, 1], [3]))).toThrow(ShapeError)
    const c = straightThrough(oneHotCategorical({ logits: [0, 1, 2] }))
    expect(() => c.logProb(t([0.2, 0.3, 0.5], [3]))).toThrow(/straightThrough\(oneHotCategorical\).logProb: value outside the support \(one-hot/)
    expect(() => c.logProb(t([1, 0], [2]))).toThrow(/value of shape \[2\] does not fit/)
    expect(() => straightThrough(oneHotCategorical({ logits: [[0, 1], [1, 0]] })).expand([3])).toThrow(ShapeError)
    expect(() => c.sample([-1])).toThrow(/sampleShape/)
  })
})
