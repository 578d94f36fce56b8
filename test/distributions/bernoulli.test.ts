import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bernoulli, klBernoulliBernoulli } from '../../src/distributions/bernoulli.js'
import type { Bernoulli, LogitsOrProbs } from '../../src/distributions/bernoulli.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, sizeOf, softplus64, t } from '../helpers.js'
import { doubles, logitsOrProbsParams, noLeakLaw, shapeLaws } from './laws.js'

/** log p(x) from a logit, in doubles: x·l − log(1 + eˡ). */
const ref = (x: number, logit: number): number => x * logit - softplus64(logit)
const sigmoid64 = (l: number): number => 1 / (1 + Math.exp(-l))
/** Float32 probabilities as the library clamps them, converted to a logit in doubles. */
const logit64 = (p: number): number => {
  const q = Math.min(Math.max(p, 2 ** -23), 1 - 2 ** -23)
  return Math.log(q) - Math.log1p(-q)
}

/** A batch with either logits ∈ [-10, 10] or probs ∈ [0.001, 0.999]. */
const withParams = logitsOrProbsParams(fc.double({ min: 0, max: 1, noNaN: true }), (v) => 20 * v - 10, (v) => 0.001 + 0.998 * v)
const make = (useLogits: boolean, values: number[], batch: number[]) =>
  bernoulli(useLogits ? { logits: t(values, batch) } : { probs: t(values, batch) })

describe('bernoulli', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => make(p.useLogits, p.values, p.batch) })), {
    reparameterized: false, dtype: 'float32', repeatable: 'sample',
    expandTiles: { param: (d) => d.probs, rel: 1e-6, abs: 0 },
  })

  it('logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), ({ batch, useLogits, values }, seed) => tf.tidy(() => {
      const d = make(useLogits, values, batch)
      const x = d.sample([4], seed)
      const xs = read(x), k = sizeOf(batch)
      const given = read(useLogits ? d.logits : d.probs)
      const logits = useLogits ? given : given.map(logit64)
      expectClose(read(d.logProb(x)), xs.map((v, i) => ref(v, logits[i % k]!)), 1e-4, 1e-5)
    })), FC)
  })

  it('probabilities of 0 and 1 sum to 1 for every batch element', () => {
    fc.assert(fc.property(withParams, ({ batch, useLogits, values }) => tf.tidy(() => {
      const d = make(useLogits, values, batch)
      const both = tf.stack([tf.zeros(batch), tf.ones(batch)])
      expectClose(read(tf.sum(tf.exp(d.logProb(both)), 0)), new Array<number>(sizeOf(batch)).fill(1), 1e-5, 1e-6)
    })), FC)
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const probs = [0.1, 0.5, 0.97]
    const d = bernoulli({ probs: t(probs, [3]) })
    expectClose(read(d.mean), probs, 1e-6)
    expectClose(read(d.variance), probs.map((p) => p * (1 - p)), 1e-5)
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('entropy equals −p log p − (1 − p) log(1 − p)', () => tf.tidy(() => {
    const logits = [-30, -3, 0, 0.7, 12]
    const d = bernoulli({ logits: t(logits, [5]) })
    const h = (p: number): number => (p <= 0 || p >= 1 ? 0 : -p * Math.log(p) - (1 - p) * Math.log1p(-p))
    expectClose(read(d.entropy()), logits.map((l) => h(sigmoid64(l))), 1e-4, 1e-6)
    expectClose(read(bernoulli({ probs: t([0, 0.25, 1], [3]) }).entropy()), [0, h(0.25), 0], 1e-4, 1e-5)
  }))

  it('klBernoulliBernoulli equals the float64 sum Σ p(x) log(p(x)/q(x)) and broadcasts', () => {
    const logits = doubles(3, -15, 15)
    fc.assert(fc.property(logits, logits, (a, b) => tf.tidy(() => {
      const p = bernoulli({ logits: t(a, [3]) }), q = bernoulli({ logits: t(b.slice(0, 1), [1, 1]) })
      const kl = klBernoulliBernoulli(p, bernoulli({ logits: t(b, [3]) }))
      const aa = read(p.logits), bb = read(t(b, [3]))
      const expected = aa.map((l, i) => [0, 1].reduce((s, x) => s + Math.exp(ref(x, l)) * (ref(x, l) - ref(x, bb[i]!)), 0))
      expectClose(read(kl), expected, 1e-4, 1e-5)
      expect(klBernoulliBernoulli(p, q).shape).toEqual([1, 3])
      expect(klBernoulliBernoulli(bernoulli({ probs: t([0.5, 0.5], [2, 1]) }), p).shape).toEqual([2, 3])
    })), FC)
  })

  it('samples lie in the support {0, 1}; probs 0 and 1 are deterministic', () => tf.tidy(() => {
    const d = bernoulli({ probs: t([0, 0.3, 1], [3]) })
    const x = d.sample([2000], 5)
    read(d.support.check(x)).forEach((v) => expect(v).toBe(1))
    const xs = read(x)
    expect(xs.filter((_, i) => i % 3 === 0).every((v) => v === 0)).toBe(true)
    expect(xs.filter((_, i) => i % 3 === 2).every((v) => v === 1)).toBe(true)
  }))

  it('logits ±80 and probs near 0/1 give finite (and accurate) logProb and gradients', () => tf.tidy(() => {
    const x = t([0, 1, 0, 1], [4])
    const logits = [80, 80, -80, -80]
    const lp = read(bernoulli({ logits: t(logits, [4]) }).logProb(x))
    expectClose(lp, logits.map((l, i) => ref(read(x)[i]!, l)), 1e-5, 1e-6)
    const gl = read(tf.grad((l: tf.Tensor) => tf.sum(bernoulli({ logits: l }).logProb(x)))(t(logits, [4])))
    expectClose(gl, logits.map((l, i) => read(x)[i]! - sigmoid64(l)), 1e-5, 1e-6)
    const probs = t([0, 1e-30, 1e-7, 1 - 1e-7], [4])
    for (const v of [tf.zeros([4]), tf.ones([4])]) {
      const g = tf.grad((p: tf.Tensor) => tf.sum(bernoulli({ probs: p }).logProb(v)))(probs)
      const values = [...read(bernoulli({ probs }).logProb(v)), ...read(g), ...read(bernoulli({ probs }).entropy())]
      values.forEach((u) => expect(Number.isFinite(u)).toBe(true))
    }
  }))

  noLeakLaw(...(['logits', 'probs'] as const).map((given) => () => {
    const param = given === 'logits' ? t([0, 1], [2]) : t([0.2, 0.7], [2]), x = t([0, 1], [2])
    const params = given === 'logits' ? { logits: param } : { probs: param }
    const d = bernoulli(params)
    return {
      d, x, expandedOwns: (e: Bernoulli) => [e.logits, e.probs],
      also: [
        () => klBernoulliBernoulli(d, d),
        () => { const n = bernoulli(params); return 'logits' in params ? n.probs : n.logits },
        () => { const n = bernoulli({ probs: [0.1, 0.2] }); return [n.logits, n.probs] },
      ],
      dispose: [param, x],
    }
  }))

  it('probs from logits is σ(logits), computed on access (a fresh tensor each time); logProb needs no σ', async () => {
    const logits = t([-3, 0, 2, 40], [2, 2]), x = t([0, 1, 1, 1], [2, 2])
    const d = bernoulli({ logits })
    expect(Object.keys(d)).toContain('probs')
    const launched = (await tf.profile(() => { tf.dispose([d.logProb(x), d.toEvent(1).logProb(x)]) })).kernels.map((k) => k.name)
    expect(launched).not.toContain('Sigmoid')
    tf.tidy(() => {
      expectClose(read(d.probs), [-3, 0, 2, 40].map(sigmoid64), 1e-6)
      expect(d.probs).not.toBe(d.probs)
      expectClose(read(d.mean), read(d.probs), 0)
    })
    const before = tf.memory().numTensors
    tf.tidy(() => { void [d.probs, d.variance, d.entropy(), d.sample([3], 1)] })
    expect(tf.memory().numTensors).toBe(before)
    const p = t([0.25, 0.5], [2]), q = bernoulli({ probs: p })
    expect(q.probs).toBe(p)   // given probs are returned as given
    tf.dispose([logits, x, p])
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => bernoulli({ probs: 1.5 })).toThrow(InvalidArgumentError)
    expect(() => bernoulli({ probs: [0.5, -0.1] })).toThrow(/bernoulli: argument 'probs' must satisfy 0 ≤ x ≤ 1; got -0\.1/)
    expect(() => bernoulli({ logits: [0, NaN] })).toThrow(/bernoulli: argument 'logits' must satisfy finite real; got NaN/)
    expect(() => bernoulli({ logits: 0, probs: 0.5 } as unknown as LogitsOrProbs)).toThrow(InvalidArgumentError)
    expect(() => bernoulli({ logits: 0, probs: 0.5 } as unknown as LogitsOrProbs)).toThrow(/bernoulli: .*exactly one of .*'logits' or 'probs'; got both/)
    expect(() => bernoulli({} as unknown as LogitsOrProbs)).toThrow(/bernoulli: .*got neither/)
    const d = bernoulli({ probs: [0.5, 0.5] })
    expect(() => d.logProb(t([0, 0.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0, 2], [2]))).toThrow(/bernoulli.logProb: value outside the support \(x ∈ \{0, 1\}\); got 2/)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => klBernoulliBernoulli(d, bernoulli({ probs: [0.1, 0.2, 0.3] }))).toThrow(/klBernoulliBernoulli: .*p \[2\], q \[3\]/)
  })
})
