import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LogitsOrProbs } from '../../src/distributions/bernoulli.js'
import { multinomial } from '../../src/distributions/multinomial.js'
import type { Multinomial } from '../../src/distributions/multinomial.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, sizeOf, t } from '../helpers.js'
import { categoricalLogProbs64, categoricalParams, noLeakLaw, shapeLaws } from './laws.js'

/** log k! in doubles, a sum of logs. */
const logFactorial = (k: number): number => { let s = 0; for (let i = 2; i <= k; i++) s += Math.log(i); return s }
/** log Multinomial(x; n, p) in doubles, from normalised log-probabilities. */
const ref = (x: readonly number[], logP: readonly number[]): number => {
  const n = x.reduce((a, b) => a + b, 0)
  return logFactorial(n) + x.reduce((s, v, i) => s - logFactorial(v) + (v === 0 ? 0 : v * logP[i]!), 0)
}
/** Every count vector of length k summing to n. */
const compositions = (n: number, k: number): number[][] =>
  k === 1 ? [[n]] : Array.from({ length: n + 1 }, (_, i) => compositions(n - i, k - 1).map((rest) => [i, ...rest])).flat()

/** categoricalParams plus counts n ∈ {0, …, 60} per batch element. */
const withParams = categoricalParams.chain((c) => fc.array(fc.integer({ min: 0, max: 60 }), { minLength: sizeOf(c.batch), maxLength: sizeOf(c.batch) }).map((n) => ({ ...c, n })))
const make = (c: { batch: number[]; k: number; useLogits: boolean; values: number[]; n: number[] }) => {
  const p = t(c.values, [...c.batch, c.k])
  return multinomial(t(c.n, c.batch), c.useLogits ? { logits: p } : { probs: p })
}

describe('multinomial', () => {
  shapeLaws(withParams.map((c) => ({ ...c, event: [c.k], make: () => make(c) })), {
    reparameterized: false, tag: 'Multinomial', dtype: 'float32', repeatable: 'sample', expandedLogProb: true,
    expandTiles: { param: (d) => d.totalCount, rel: 0, abs: 0 },
    checkShapes: (d, c) => tf.tidy(() => {
      const x = d.sample([2], 1)
      expectClose(read(tf.sum(x, -1)), [...c.n, ...c.n], 0, 0)
    }),
  })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), (c, seed) => tf.tidy(() => {
      const d = make(c), x = d.sample([3], seed), xs = read(x), m = sizeOf(c.batch)
      const logP = categoricalLogProbs64(c.values.map(Math.fround), c.k, c.useLogits)
      const want = Array.from({ length: 3 * m }, (_, r) => ref(xs.slice(r * c.k, (r + 1) * c.k), logP[r % m]!))
      expectClose(read(d.logProb(x)), want, 1e-4, 1e-5)
    })), FC)
    tf.tidy(() => {
      const x = [3e4, 5e4, 2e4], logP = [Math.log(0.3), Math.log(0.5), Math.log(0.2)]
      expectClose(read(multinomial(1e5, { logits: t(logP, [3]) }).logProb(t(x, [3]))), [ref(x, logP.map(Math.fround))], 1e-4, 0)
    })
  })

  it('the pmf sums to 1 over all count vectors', () => tf.tidy(() => {
    for (const [n, probs] of [[0, [0.2, 0.8]], [7, [0.1, 0.6, 0.3]], [20, [0.25, 0.25, 0.25, 0.25]]] as const) {
      const xs = compositions(n, probs.length)
      const total = read(tf.exp(multinomial(n, { probs: t(probs, [probs.length]) }).logProb(t(xs.flat(), [xs.length, probs.length])))).reduce((a, b) => a + b, 0)
      expect(total).toBeCloseTo(1, 5)
    }
  }))

  it('draws sum to n and match mean n·p and variance n·p(1 − p) (CLT bound), with zero-probability categories', () => tf.tidy(() => {
    const probs = [[0.1, 0.2, 0.3, 0.4], [0.7, 0, 0.3, 0], [0.05, 0.05, 0.05, 0.85]]
    const ns = [12, 500, 3000]
    const d = multinomial(t(ns, [3]), { probs: t(probs.flat(), [3, 4]) })
    expectClose(read(d.mean), probs.flatMap((p, i) => p.map((v) => ns[i]! * Math.fround(v))), 1e-5, 1e-6)
    const x = d.sample([10000], 13)
    expectClose(read(tf.sum(x, -1)), Array.from({ length: 30000 }, (_, i) => ns[i % 3]!), 0, 0)
    expectMomentsMatch(x, read(d.mean), read(d.variance))
    read(d.support.check(x)).forEach((v) => expect(v).toBe(1))
  }))

  it('draws have the joint pmf (χ² over all count vectors of n = 4, K = 3)', () => tf.tidy(() => {
    const probs = [0.15, 0.6, 0.25], n = 20000
    const xs = read(multinomial(4, { probs: t(probs, [3]) }).sample([n], 17))
    const outcomes = compositions(4, 3), counts = new Map<string, number>()
    for (let i = 0; i < n; i++) { const key = xs.slice(3 * i, 3 * i + 3).join(); counts.set(key, (counts.get(key) ?? 0) + 1) }
    const logP = probs.map((p) => Math.log(Math.fround(p)))
    const chi = outcomes.reduce((acc, x) => { const e = n * Math.exp(ref(x, logP)); return acc + ((counts.get(x.join()) ?? 0) - e) ** 2 / e }, 0)
    expect([...counts.keys()].every((k) => outcomes.some((x) => x.join() === k))).toBe(true)
    const df = outcomes.length - 1
    expect(chi).toBeLessThan(df + 5 * Math.sqrt(2 * df))
  }))

  it('the gradient of logProb w.r.t. logits is x − n·softmax(logits)', () => tf.tidy(() => {
    const logits = [0.3, -1, 2], x = [4, 0, 16]
    const g = read(tf.grad((l: tf.Tensor) => multinomial(20, { logits: l }).logProb(t(x, [3])))(t(logits, [3])))
    const z = logits.reduce((s, l) => s + Math.exp(l), 0)
    expectClose(g, x.map((v, i) => v - (20 * Math.exp(logits[i]!)) / z), 1e-4, 1e-5)
  }))

  noLeakLaw(...(['logits', 'probs'] as const).map((given) => () => {
    const n = t([5, 9], [2]), param = given === 'logits' ? t([0, 1, 0, 2, 1, 0], [2, 3]) : t([0.2, 0.3, 0.5, 0.1, 0.1, 0.8], [2, 3])
    const x = t([1, 1, 3, 0, 0, 9], [2, 3])
    const params: LogitsOrProbs = given === 'logits' ? { logits: param } : { probs: param }
    return {
      d: multinomial(n, params), x, expandedOwns: (e: Multinomial) => [e.totalCount, e.logits, e.probs],
      also: [() => { const m = multinomial(3, { probs: [0.5, 0.5] }); return [m.totalCount, m.logits, m.probs] }],
      dispose: [n, param, x],
    }
  }))

  it('rejects bad arguments and values outside the support with named errors', () => {
    expect(() => multinomial(-1, { probs: [0.5, 0.5] })).toThrow(InvalidArgumentError)
    expect(() => multinomial([3, 2.5], { probs: [0.5, 0.5] })).toThrow(/multinomial: argument 'totalCount' must satisfy integer x ≥ 0; got 2.5 at index \[1\]/)
    expect(() => multinomial(3, { probs: [0.5, 0.6] })).toThrow(/multinomial: argument 'probs' must satisfy x ≥ 0 and Σ x = 1 over the last dim/)
    expect(() => multinomial(3, { logits: 0 })).toThrow(ShapeError)
    expect(() => multinomial([1, 2, 3], { probs: [[0.5, 0.5], [0.5, 0.5]] })).toThrow(/multinomial: .*totalCount \[3\], probs \[2\]/)
    const d = multinomial([5, 3], { probs: [0.5, 0.5] })
    expect(() => d.logProb(t([2, 3, 1, 1], [2, 2]))).toThrow(SupportError)
    expect(() => d.logProb(t([2, 3, 1, 1], [2, 2]))).toThrow(/multinomial.logProb: value outside the support \(integer x ≥ 0 with Σ x = totalCount over the last dim\); got 1 at index \[1\]/)
    expect(() => d.logProb(t([2.5, 2.5, 1, 2], [2, 2]))).toThrow(SupportError)
    expect(() => d.logProb(t([6, -1, 1, 2], [2, 2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, 1, 1, 1, 1, 1], [2, 3]))).toThrow(ShapeError)
  })
})
