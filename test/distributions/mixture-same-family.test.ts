import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { categorical } from '../../src/distributions/categorical.js'
import { mixtureSameFamily } from '../../src/distributions/mixture-same-family.js'
import { normal } from '../../src/distributions/normal.js'
import { sigmoid } from '../../src/distributions/bijectors.js'
import { transformed } from '../../src/distributions/transformed.js'
import { uniform } from '../../src/distributions/uniform.js'
import { ShapeError, SupportError } from '../../src/errors.js'
import { FC, expectClose, expectMomentsMatch, logSumExp64, read, sizeOf, smallShape, t } from '../helpers.js'
import { doubles, expectFiniteLogProbAndGrads, expectIntegratesToOne, noLeakLaw, shapeLaws } from './laws.js'

const normal64 = (x: number, loc: number, scale: number): number =>
  -0.5 * ((x - loc) / scale) ** 2 - Math.log(scale) - 0.5 * Math.log(2 * Math.PI)

/** A batch shape B, K ∈ 1..3, mixing logits [...B, K] and Normal components [...B, K]. */
const withParams = fc.tuple(smallShape, fc.integer({ min: 1, max: 3 })).chain(([batch, k]) => {
  const n = sizeOf(batch) * k
  return fc.record({ logits: doubles(n, -3, 3), loc: doubles(n, -5, 5), logScale: doubles(n, -1, 1) })
    .map(({ logits, loc, logScale }) => ({ batch, k, logits, loc, scale: logScale.map((l) => 10 ** l) }))
})

type P = { batch: number[]; k: number; logits: number[]; loc: number[]; scale: number[] }
const build = ({ batch, k, logits, loc, scale }: P) =>
  mixtureSameFamily(categorical({ logits: t(logits, [...batch, k]) }), normal(t(loc, [...batch, k]), t(scale, [...batch, k])))

describe('mixtureSameFamily', () => {
  shapeLaws(withParams.map((p) => ({ ...p, make: () => build(p) })), {
    reparameterized: false, repeatable: 'sample', expandedLogProb: true,
    checkEvent: ({ c, e }) => expect(e.components.batchShape).toEqual([2, ...c.batch, c.k]),
  })

  it('logProb equals the float64 log Σ_k w_k N(x; μ_k, σ_k) to 1e-4 relative', () => {
    fc.assert(fc.property(withParams, fc.nat(), (p, seed) => tf.tidy(() => {
      const d = build(p)
      const xs = read(d.sample([3], seed))
      const nb = sizeOf(p.batch)
      const want = xs.map((x, i) => {
        const b = i % nb
        const lw = logSumExp64(p.logits.slice(b * p.k, (b + 1) * p.k))
        return logSumExp64(Array.from({ length: p.k }, (_, j) => {
          const c = b * p.k + j
          return p.logits[c]! - lw + normal64(x, Math.fround(p.loc[c]!), Math.fround(p.scale[c]!))
        }))
      })
      expectClose(read(d.logProb(t(xs, [3, ...p.batch]))), want, 1e-4, 1e-4)
    })), FC)
  })

  it('vector events: components normal([...B, K, E]).toEvent(1) give eventShape [E]', () => tf.tidy(() => {
    const loc = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]   // B = [2], K = 2, E = 3
    const d = mixtureSameFamily(categorical({ probs: t([0.3, 0.7, 0.5, 0.5], [2, 2]) }), normal(t(loc, [2, 2, 3]), 0.5).toEvent(1))
    expect(d.batchShape).toEqual([2])
    expect(d.eventShape).toEqual([3])
    const x = d.sample([4], 1)
    expect(x.shape).toEqual([4, 2, 3])
    const xs = read(x), w = [[0.3, 0.7], [0.5, 0.5]]
    const want = Array.from({ length: 8 }, (_, r) => {
      const b = r % 2
      return logSumExp64([0, 1].map((k) => Math.log(w[b]![k]!) +
        [0, 1, 2].reduce((acc, e) => acc + normal64(xs[r * 3 + e]!, loc[b * 6 + k * 3 + e]!, 0.5), 0)))
    })
    expectClose(read(d.logProb(x)), want, 1e-4, 1e-4)
    // Independent<Normal> types its moments as optional, so the mixture's are `Tensor | undefined`; they exist at runtime
    expect(d.mean).toBeDefined()
    expectMomentsMatch(d.sample([20000], 5), read(d.mean!), read(d.variance!))
  }))

  it('the density of a 1-D Gaussian mixture integrates to 1', () => {
    const cases = [[[0.2, 0.8], [-3, 2], [0.5, 1.5]], [[0.5, 0.25, 0.25], [0, 0.1, 40], [0.05, 1, 10]]] as const
    for (const [w, loc, scale] of cases) {
      expectIntegratesToOne(() => mixtureSameFamily(categorical({ probs: [...w] }), normal([...loc], [...scale])), -200, 200, 40000)
    }
  })

  it('mean and variance match the float64 closed form and the sample moments (CLT bound)', () => tf.tidy(() => {
    const w = [0.2, 0.5, 0.3], loc = [-2, 0, 4], scale = [0.5, 1, 2]
    const d = mixtureSameFamily(categorical({ probs: w }), normal(loc, scale))
    const mean = w.reduce((s, wk, k) => s + wk * loc[k]!, 0)
    const second = w.reduce((s, wk, k) => s + wk * (scale[k]! ** 2 + loc[k]! ** 2), 0)
    expectClose(read(d.mean), [mean], 1e-5)
    expectClose(read(d.variance), [second - mean ** 2], 1e-5)
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
    expect(d.entropy).toBeUndefined()
  }))

  it('samples lie in the support; a uniform mixture accepts values in any component', () => tf.tidy(() => {
    const d = mixtureSameFamily(categorical({ probs: [0.5, 0.5] }), uniform([0, 10], [1, 12]))
    const x = d.sample([2000], 3)
    expect(read(d.support.check(x)).every((v) => v === 1)).toBe(true)
    expectClose(read(d.logProb(t([0.5, 11], [2]))), [Math.log(0.5), Math.log(0.5) - Math.log(2)], 1e-5)
    expect(() => d.logProb(t([5], [1]))).toThrow(/mixtureSameFamily.logProb: value outside the support \(in the support of some component: low ≤ x ≤ high\); got 5/)
  }))

  it('components without moments give a mixture without mean and variance', () => tf.tidy(() => {
    const d = mixtureSameFamily(categorical({ probs: [0.4, 0.6] }), transformed(normal([-1, 1], 0.5), sigmoid()))
    expect('mean' in d || 'variance' in d).toBe(false)
    const x = d.sample([1000], 2)
    expect(read(d.support.check(x)).every((v) => v === 1)).toBe(true)
    expect(read(d.logProb(x)).every(Number.isFinite)).toBe(true)
  }))

  it('extreme logits (±80) and scales (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    const x = t([0.5, -3], [2])
    for (const scale of [1e-6, 1e6]) {
      expectFiniteLogProbAndGrads((lg, l, s) => mixtureSameFamily(categorical({ logits: lg }), normal(l, s)),
        [t([80, -80], [2]), t([0.5, 0.6], [2]), t([scale, scale], [2])], x)
    }
  }))

  noLeakLaw(() => {
    const probs = t([0.3, 0.7, 0.6, 0.4], [2, 2]), loc = t([0, 1, 2, 3], [2, 2]), x = t([0.5, 1.5], [2])
    const mixing = categorical({ probs }), comps = normal(loc, 1)
    return {
      d: mixtureSameFamily(mixing, comps), x,
      // expand builds new parameter tensors (the expanded mixing and components own them)
      expandedOwns: (e) => [e.logProb(x), e.mixing.logits, e.mixing.probs, e.components.loc, e.components.scale],
      also: [() => { mixtureSameFamily(mixing, comps); return [] }],
      dispose: [probs, loc, x],
    }
  })

  it('rejects bad arguments with named errors', () => {
    const mixing = categorical({ probs: [[0.5, 0.5], [0.2, 0.8]] })
    expect(() => mixtureSameFamily(mixing, normal([0, 1, 2], 1))).toThrow(ShapeError)
    expect(() => mixtureSameFamily(mixing, normal([[0, 1, 2], [0, 1, 2]], 1)))
      .toThrow(/mixtureSameFamily: argument 'components' must have batchShape \[...mixing.batchShape, K\] = \[2, 2\] \(mixing batchShape \[2\], K = 2\); got components batchShape \[2, 3\]/)
    const d = mixtureSameFamily(mixing, normal([[0, 1], [2, 3]], 1))
    expect(() => d.logProb(t([0, NaN], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/mixtureSameFamily.logProb: value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(ShapeError)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
