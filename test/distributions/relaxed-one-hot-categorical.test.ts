import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { relaxedBernoulli } from '../../src/distributions/relaxed-bernoulli.js'
import { relaxedOneHotCategorical } from '../../src/distributions/relaxed-one-hot-categorical.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { FC, centralDiff, expectClose, expectMomentsMatch, lgamma, logSumExp64, read, simpson, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, noLeakLaw, shapeLaws } from './laws.js'

const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x))

/**
 * Maddison et al.'s density in product form, from the probabilities π = softmax(l):
 * p(y) = (K − 1)! T^(K−1) Π_k (π_k y_k^(−T−1)) / (Σ_i π_i y_i^(−T))^K, evaluated in logs.
 */
const ref = (y: readonly number[], logits: readonly number[], temp: number): number => {
  const k = y.length
  const lse = logSumExp64(logits)
  const logPi = logits.map((l) => l - lse)
  const num = logPi.reduce((s, lp, i) => s + lp - (temp + 1) * Math.log(y[i]!), 0)
  const den = k * logSumExp64(logPi.map((lp, i) => lp - temp * Math.log(y[i]!)))
  return lgamma(k) + (k - 1) * Math.log(temp) + num - den
}

/** Batch parameters: K ∈ 2..4, logits ∈ [−5, 5], temperature log-uniform in [0.2, 5]. */
const params = (batch: number[]) => fc.integer({ min: 2, max: 4 }).chain((k) => fc.record({
  logits: doubles(sizeOf(batch) * k, -5, 5),
  logT: doubles(sizeOf(batch), Math.log(0.2), Math.log(5)),
}).map(({ logits, logT }) => ({ batch, k, logits, temp: logT.map(Math.exp) })))
const withParams = smallShape.chain(params)
const make = (p: { batch: number[]; k: number; logits: number[]; temp: number[] }) =>
  relaxedOneHotCategorical(t(p.temp, p.batch), { logits: t(p.logits, [...p.batch, p.k]) })

/** Rows of length k of a flat array. */
const rows = (xs: readonly number[], k: number): number[][] =>
  Array.from({ length: xs.length / k }, (_, i) => xs.slice(i * k, (i + 1) * k))

describe('relaxedOneHotCategorical', () => {
  shapeLaws(withParams.map((p) => ({ ...p, event: [p.k], make: () => make(p) })), {
    reparameterized: true, repeatable: 'rsample',
    expandTiles: { param: (d) => d.logits, rel: 1e-6, abs: 1e-6 },
  })

  it('a scalar temperature broadcasts against batched logits, and a batched one against unbatched logits', () => tf.tidy(() => {
    expect(relaxedOneHotCategorical(0.5, { logits: tf.zeros([2, 3]) }).batchShape).toEqual([2])
    const d = relaxedOneHotCategorical(t([0.5, 1, 2], [3]), { probs: t([0.2, 0.3, 0.5], [3]) })
    expect(d.batchShape).toEqual([3])
    expect(d.sample([4], 0).shape).toEqual([4, 3, 3])
  }))

  it('logProb equals the float64 product-form density to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), (p, seed) => tf.tidy(() => {
      const d = make(p)
      const y = d.sample([3], seed)
      const ys = rows(read(y), p.k), ls = rows(read(t(p.logits, [p.logits.length])), p.k), ts = read(d.temperature)
      const b = sizeOf(p.batch)
      expectClose(read(d.logProb(y)), ys.map((v, i) => ref(v, ls[i % b]!, ts[i % b]!)), 1e-4, 1e-3)
    })), FC)
  })

  it('for K = 2 the density of y₁ is the binary Concrete with logit l₁ − l₂', () => tf.tidy(() => {
    const y1 = [0.01, 0.3, 0.5, 0.9, 0.9999]
    const y = t(y1.flatMap((v) => [v, 1 - v]), [5, 2])
    for (const temp of [0.3, 1, 3]) {
      const lp = read(relaxedOneHotCategorical(temp, { logits: t([1.2, -0.5], [2]) }).logProb(y))
      expectClose(lp, read(relaxedBernoulli(temp, { logits: 1.7 }).logProb(t(y1, [5]))), 1e-4, 1e-4)
    }
  }))

  it('the density integrates to 1 for K = 2 (quadrature in x = logit y₁)', () => {
    for (const [logits, temp] of [[[0, 0], 0.5], [[1, -1], 1], [[-0.5, 2], 2], [[3, 0], 0.7]] as const) {
      tf.tidy(() => {
        const { nodes, weights } = simpsonGrid(-60, 60, 6000)
        // y₁ = σ(x) and y₂ = σ(−x), each exact in float32; dy₁ = y₁ y₂ dx.
        const y = nodes.flatMap((x) => [sigmoid64(x), sigmoid64(-x)])
        const p = read(tf.exp(relaxedOneHotCategorical(temp, { logits: [...logits] }).logProb(t(y, [nodes.length, 2]))))
        expect(p.reduce((s, v, i) => s + v * y[2 * i]! * y[2 * i + 1]! * weights[i]!, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('sample mean and variance match the numerically integrated moments for K = 2 (CLT bound)', () => tf.tidy(() => {
    const logits = [0.8, -0.4], temp = 0.6
    // E[g(y₁)] = ∫ g(σ(x)) p(σ(x), σ(−x)) σ(x)σ(−x) dx with the float64 reference density.
    const moment = (g: (y1: number) => number) => simpson((x) => {
      const y1 = sigmoid64(x), y2 = sigmoid64(-x)
      return g(y1) * Math.exp(ref([y1, y2], logits, temp)) * y1 * y2
    }, -60, 60, 12000)
    const m = moment((y1) => y1), v = moment((y1) => y1 * y1) - m * m
    expect(moment(() => 1)).toBeCloseTo(1, 6)
    expectMomentsMatch(relaxedOneHotCategorical(temp, { logits: t(logits, [2]) }).sample([20000], 7), [m, 1 - m], [v, v])
  }))

  it('has no closed-form mean, variance or entropy', () => {
    const d = relaxedOneHotCategorical(1, { logits: [0, 1] })
    expect('mean' in d).toBe(false)
    expect('variance' in d).toBe(false)
    expect('entropy' in d).toBe(false)
    tf.dispose([d.temperature, d.logits, d.probs])
  })

  it('rsample gradients w.r.t. logits and temperature match finite differences', () => {
    const w = [1, -2, 0.5]
    const loss = (l: tf.Tensor, temp: tf.Tensor) => tf.sum(tf.mul(tf.square(relaxedOneHotCategorical(temp, { logits: l }).rsample([50], 3)), t(w, [3])))
    const f = (l: number[], temp: number) => tf.tidy(() => read(loss(t(l, [3]), tf.scalar(temp)))[0]!)
    const l0 = [0.3, -0.2, 0.6], t0 = 0.8
    const [gL, gT] = tf.tidy(() => tf.grads(loss)([t(l0, [3]), tf.scalar(t0)]).map(read))
    const fd = l0.map((_, j) => centralDiff((v) => f(l0.map((x, i) => (i === j ? v : x)), t0), l0[j]!, 1e-2))
    expectClose([...gL!, ...gT!], [...fd, centralDiff((v) => f(l0, v), t0, 1e-2)], 1e-2, 1e-3)
  })

  it('extreme logits (±80), probs near 0/1 and temperatures 0.05–20 give finite logProb and gradients', () => tf.tidy(() => {
    const y = t([0.2, 0.3, 0.5, 1e-6, 0.999998, 1e-6], [2, 3])
    for (const temp of [0.05, 1, 20]) {
      const lp = (l: tf.Tensor, tt: tf.Tensor) => tf.sum(relaxedOneHotCategorical(tt, { logits: l }).logProb(y))
      const rs = (l: tf.Tensor, tt: tf.Tensor) => tf.sum(tf.square(relaxedOneHotCategorical(tt, { logits: l }).rsample([20], 1)))
      const args = [t([80, -80, 0], [3]), tf.scalar(temp)]
      const probs = t([0, 1, 0, 1e-7, 1 - 2e-7, 1e-7], [2, 3])
      const gp = tf.grad((p: tf.Tensor) => tf.sum(relaxedOneHotCategorical(temp, { probs: p }).logProb(y)))(probs)
      const values = [
        ...read(relaxedOneHotCategorical(temp, { logits: args[0]! }).logProb(y)), ...tf.grads(lp)(args).flatMap(read),
        ...tf.grads(rs)(args).flatMap(read), ...read(relaxedOneHotCategorical(temp, { probs }).logProb(y)), ...read(gp)]
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    }
  }))

  it('samples lie on the simplex, even for saturating logits and temperatures', () => tf.tidy(() => {
    const d = relaxedOneHotCategorical(t([0.05, 0.05, 1], [3]), { logits: t([80, -80, 0, 0, 0, 0, 5, 0, -5], [3, 3]) })
    const x = d.sample([1000], 1)
    expect(read(tf.cast(d.support.check(x), 'float32')).every((v) => v === 1)).toBe(true)
    expect(read(d.logProb(x)).every(Number.isFinite)).toBe(true)
  }))

  noLeakLaw(() => {
    const temp = t([0.5, 2], [2]), logits = t([0, 1, 2, 0, 0, 0], [2, 3]), y = t([0.2, 0.3, 0.5, 0.1, 0.1, 0.8], [2, 3])
    return {
      d: relaxedOneHotCategorical(temp, { logits }), x: y, expandedOwns: (e) => [e.temperature, e.logits, e.probs],
      also: [
        () => { const n = relaxedOneHotCategorical(1, { logits: [0, 1] }); return [n.temperature, n.logits, n.probs] },
        () => { const n = relaxedOneHotCategorical(1, { probs: [0.3, 0.7] }); return [n.temperature, n.logits, n.probs] },
      ],
      dispose: [temp, logits, y],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => relaxedOneHotCategorical(0, { logits: [0, 1] })).toThrow(InvalidArgumentError)
    expect(() => relaxedOneHotCategorical(-2, { logits: [0, 1] })).toThrow(/relaxedOneHotCategorical: argument 'temperature' must satisfy x > 0; got -2/)
    expect(() => relaxedOneHotCategorical(1, { probs: [0.5, 0.6] })).toThrow(/relaxedOneHotCategorical: argument 'probs' must satisfy x ≥ 0 and Σ x = 1/)
    expect(() => relaxedOneHotCategorical(1, { logits: 0 })).toThrow(ShapeError)
    expect(() => relaxedOneHotCategorical(1, { logits: 0, probs: [1] } as never)).toThrow(InvalidArgumentError)
    expect(() => relaxedOneHotCategorical([1, 1, 1], { logits: [[0, 0], [0, 0]] })).toThrow(/temperature \[3\], logits \(without its last dim\) \[2\]/)
    const d = relaxedOneHotCategorical(1, { logits: [0, 0, 0] })
    expect(() => d.logProb(t([0.5, 0.6, 0.1], [3]))).toThrow(SupportError)
    expect(() => d.logProb(t([-0.1, 0.6, 0.5], [3]))).toThrow(/relaxedOneHotCategorical.logProb: value outside the support/)
    expect(() => d.logProb(t([0.5, 0.5], [2]))).toThrow(/value of shape \[2\] does not fit/)
    expect(() => d.expand([3, 2])).not.toThrow()
    expect(() => relaxedOneHotCategorical(1, { logits: [[0, 0]] }).expand([3])).not.toThrow()
    expect(() => relaxedOneHotCategorical(1, { logits: [[0, 0], [1, 1]] }).expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
