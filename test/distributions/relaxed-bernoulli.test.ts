import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { relaxedBernoulli } from '../../src/distributions/relaxed-bernoulli.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import type { TfpplError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, read, simpson, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, expectRsampleGradsMatchFd, noLeakLaw, shapeLaws } from './laws.js'

const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x))
/** Standard logistic density in log form: −z − 2 log(1 + e^−z), computed stably. */
const logLogistic = (z: number): number => -Math.abs(z) - 2 * Math.log1p(Math.exp(-Math.abs(z)))

/**
 * Reference by change of variables, independent of the closed form in the source:
 * X = (l + L)/T with L standard logistic has density T·f_L(Tx − l); y = σ(X), |dx/dy| = 1/(y(1 − y)).
 */
const ref = (y: number, logit: number, temp: number): number => {
  const x = Math.log(y) - Math.log1p(-y)
  return Math.log(temp) + logLogistic(temp * x - logit) - Math.log(y) - Math.log1p(-y)
}

/** Batch parameters: logits ∈ [−5, 5], temperature log-uniform in [0.2, 5]. */
const params = (batch: number[]) => fc.record({
  logits: doubles(sizeOf(batch), -5, 5),
  logT: doubles(sizeOf(batch), Math.log(0.2), Math.log(5)),
}).map(({ logits, logT }) => ({ batch, logits, temp: logT.map(Math.exp) }))
const withParams = smallShape.chain(params)

describe('relaxedBernoulli', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => relaxedBernoulli(t(p.temp, p.batch), { logits: t(p.logits, p.batch) }) })), {
    reparameterized: true, repeatable: 'rsample',
    expandTiles: { param: (d) => d.logits, rel: 0, abs: 0 },
  })

  it('a scalar temperature broadcasts against batched logits (and vice versa)', () => tf.tidy(() => {
    expect(relaxedBernoulli(0.5, { logits: tf.zeros([2, 3]) }).batchShape).toEqual([2, 3])
    expect(relaxedBernoulli(t([0.5, 1, 2], [3, 1]), { probs: t([0.2, 0.7], [2]) }).batchShape).toEqual([3, 2])
  }))

  it('logProb equals the float64 change-of-variables density to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.boolean(), fc.nat(), ({ batch, logits, temp }, useProbs, seed) => tf.tidy(() => {
      const probs = logits.map(sigmoid64)
      const d = relaxedBernoulli(t(temp, batch), useProbs ? { probs: t(probs, batch) } : { logits: t(logits, batch) })
      const y = d.sample([3], seed)
      const ys = read(y), k = sizeOf(batch)
      const ls = read(d.logits), ts = read(d.temperature)
      expectClose(ls, useProbs ? read(t(probs, batch)).map((p) => Math.log(p) - Math.log1p(-p)) : read(t(logits, batch)), 1e-3, 1e-4)
      expectClose(read(d.logProb(y)), ys.map((v, i) => ref(v, ls[i % k]!, ts[i % k]!)), 1e-4, 2e-4)
    })), FC)
  })

  it('the density integrates to 1 (quadrature in x = logit y)', () => {
    for (const [logit, temp] of [[0, 1], [2, 1], [-1.5, 2], [0.7, 4]] as const) {
      tf.tidy(() => {
        const { nodes, weights } = simpsonGrid(-16, 16, 4000)
        const ys = nodes.map(sigmoid64)
        const p = read(tf.exp(relaxedBernoulli(temp, { logits: logit }).logProb(t(ys, [ys.length]))))
        // dy = y(1 − y) dx
        expect(p.reduce((s, v, i) => s + v * ys[i]! * (1 - ys[i]!) * weights[i]!, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('sample mean and variance match numerically integrated moments (CLT bound)', () => tf.tidy(() => {
    const logits = [-1, 0, 2], temps = [0.5, 1, 2]
    // E[g(Y)] = ∫ g(σ(x)) T f_L(T x − l) dx, in doubles.
    const moment = (g: (y: number) => number, l: number, temp: number) =>
      simpson((x) => g(sigmoid64(x)) * temp * Math.exp(logLogistic(temp * x - l)), (l - 40) / temp, (l + 40) / temp, 8000)
    const mean = logits.map((l, i) => moment((y) => y, l, temps[i]!))
    const variance = logits.map((l, i) => moment((y) => y * y, l, temps[i]!) - mean[i]! ** 2)
    expectMomentsMatch(relaxedBernoulli(t(temps, [3]), { logits: t(logits, [3]) }).sample([20000], 7), mean, variance)
  }))

  it('has no closed-form mean, variance or entropy', () => {
    const d = relaxedBernoulli(1, { logits: 0 })
    expect('mean' in d).toBe(false)
    expect('variance' in d).toBe(false)
    expect('entropy' in d).toBe(false)
    tf.dispose([d.temperature, d.logits, d.probs])
  })

  it('rsample gradients w.r.t. logits and temperature match finite differences', () =>
    expectRsampleGradsMatchFd((l, temp) => relaxedBernoulli(temp, { logits: l }), [0.4, 0.8]))

  it('extreme logits (±80), probs near 0/1 and temperatures 0.05–20 give finite logProb and gradients', () => tf.tidy(() => {
    const y = t([1e-6, 0.3, 0.5, 0.999], [4])
    for (const temp of [0.05, 1, 20]) {
      for (const logit of [-80, 80]) {
        const lp = (l: tf.Tensor, tt: tf.Tensor) => tf.sum(relaxedBernoulli(tt, { logits: l }).logProb(y))
        const rs = (l: tf.Tensor, tt: tf.Tensor) => tf.sum(relaxedBernoulli(tt, { logits: l }).rsample([20], 1))
        const args = [tf.scalar(logit), tf.scalar(temp)]
        const values = [...read(relaxedBernoulli(temp, { logits: logit }).logProb(y)), ...tf.grads(lp)(args).flatMap(read), ...tf.grads(rs)(args).flatMap(read)]
        values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
      }
      const g = tf.grad((p: tf.Tensor) => tf.sum(relaxedBernoulli(temp, { probs: p }).logProb(y)))(t([0, 1e-7, 1 - 1e-7, 1], [4]))
      const values = [...read(relaxedBernoulli(temp, { probs: t([0, 1e-7, 1 - 1e-7, 1], [4]) }).logProb(y)), ...read(g)]
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
    }
  }))

  it('samples lie in the support (0, 1), even for saturating logits and temperatures', () => tf.tidy(() => {
    const d = relaxedBernoulli(t([0.05, 0.05, 1, 10], [4]), { logits: t([-80, 80, 0, 3], [4]) })
    const x = d.sample([1000], 1)
    expect(read(tf.cast(d.support.check(x), 'float32')).every((v) => v === 1)).toBe(true)
    expect(read(d.logProb(x)).every(Number.isFinite)).toBe(true)
  }))

  noLeakLaw(() => {
    const temp = t([0.5, 2], [2]), logits = t([0, 1], [2]), y = t([0.2, 0.9], [2])
    return {
      d: relaxedBernoulli(temp, { logits }), x: y, expandedOwns: (e) => [e.temperature, e.logits, e.probs],
      also: [
        () => { const n = relaxedBernoulli(1, { logits: 0 }); return [n.temperature, n.logits, n.probs] },
        () => { const n = relaxedBernoulli(1, { probs: 0.3 }); return [n.temperature, n.logits, n.probs] },
      ],
      dispose: [temp, logits, y],
    }
  })

  it('a constructor that throws on its arguments leaves numTensors unchanged', () => {
    const ints = tf.tensor1d([-1, 2], 'int32')   // cast inside the constructor, then rejected
    const cases: Array<[Parameters<typeof relaxedBernoulli>, typeof TfpplError]> = [
      [[0, { logits: 0 }], InvalidArgumentError], [[-1, { probs: [0.3, 0.6] }], InvalidArgumentError],
      [[1, { probs: 1.5 }], InvalidArgumentError], [[1, { logits: NaN }], InvalidArgumentError],
      [[NaN, { logits: [0, 1] }], InvalidArgumentError], [[ints, { logits: 0 }], InvalidArgumentError],
      [[1, { probs: ints }], InvalidArgumentError], [[[1, 1, 1], { logits: [0, 0] }], ShapeError],
    ]
    for (const [args, error] of cases) {
      const before = tf.memory().numTensors
      expect(() => relaxedBernoulli(...args)).toThrow(error)
      expect(tf.memory().numTensors, JSON.stringify(args)).toBe(before)
    }
    expect(ints.isDisposed).toBe(false)
    ints.dispose()
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => relaxedBernoulli(0, { logits: 0 })).toThrow(InvalidArgumentError)
    expect(() => relaxedBernoulli(-1, { logits: 0 })).toThrow(/relaxedBernoulli: argument 'temperature' must satisfy x > 0; got -1/)
    expect(() => relaxedBernoulli(1, { probs: 1.5 })).toThrow(/relaxedBernoulli: argument 'probs' must satisfy 0 ≤ x ≤ 1; got 1.5/)
    expect(() => relaxedBernoulli(1, { logits: NaN })).toThrow(/relaxedBernoulli: argument 'logits' must satisfy finite real; got NaN/)
    expect(() => relaxedBernoulli(1, { logits: 0, probs: 0.5 } as never)).toThrow(InvalidArgumentError)
    expect(() => relaxedBernoulli(1, {} as never)).toThrow(/relaxedBernoulli: expected exactly one of .*'logits' or 'probs'/)
    expect(() => relaxedBernoulli([1, 1, 1], { logits: [0, 0] })).toThrow(ShapeError)
    expect(() => relaxedBernoulli([1, 1, 1], { logits: [0, 0] })).toThrow(/temperature \[3\], logits \[2\]/)
    const d = relaxedBernoulli(1, { logits: [0, 0] })
    expect(() => d.logProb(t([0.5, 0], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, 0.5], [2]))).toThrow(/relaxedBernoulli.logProb: value outside the support \(0 < x < 1\); got 1/)
    expect(() => d.logProb(t([0.5, 0.5, 0.5], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
