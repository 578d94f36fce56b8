import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { logNormal } from '../../src/distributions/log-normal.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, expectMomentsMatch, read, simpsonGrid, t } from '../helpers.js'
import { expectFiniteLogProbAndGrads, expectRsampleGradsMatchFd, locScaleParams, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, loc: number, scale: number): number =>
  -0.5 * ((Math.log(x) - loc) / scale) ** 2 - Math.log(scale) - 0.5 * Math.log(2 * Math.PI) - Math.log(x)

/** loc ∈ [-3, 3], scale log-uniform in [1e-2, 3] (draws stay finite and positive in float32). */
const withParams = locScaleParams([-3, 3], [-2, Math.log10(3)])

describe('logNormal', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => logNormal(t(p.loc, p.batch), t(p.scale, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, tag: 'LogNormal', repeatable: 'sample' })
  referenceLogProbLaw(cases, { params: (d) => [d.loc, d.scale], ref, rel: 1e-4, abs: 1e-3 })

  it('the density integrates to 1', () => {
    for (const [loc, scale] of [[0, 0.25], [1, 0.05], [-1, 0.5]] as const) {
      tf.tidy(() => {
        // integrate over u = log x: ∫ p(x) dx = ∫ p(eᵘ) eᵘ du
        const { nodes, weights } = simpsonGrid(loc - 12 * scale, loc + 12 * scale, 2000)
        const x = nodes.map(Math.exp)
        const p = read(tf.exp(logNormal(loc, scale).logProb(t(x, [x.length]))))
        expect(p.reduce((s, v, i) => s + v * x[i]! * weights[i]!, 0)).toBeCloseTo(1, 4)
      })
    }
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const loc = [-1, 0, 1], scale = [0.2, 0.5, 0.3]
    const d = logNormal(t(loc, [3]), t(scale, [3]))
    expectClose(read(d.mean), loc.map((m, i) => Math.exp(m + scale[i]! ** 2 / 2)), 1e-5)
    expectClose(read(d.variance), loc.map((m, i) => Math.expm1(scale[i]! ** 2) * Math.exp(2 * m + scale[i]! ** 2)), 1e-5)
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('entropy equals μ + ½ + log(σ√(2π))', () => tf.tidy(() => {
    const loc = [0, 1, -2], scales = [1e-3, 1, 50]
    const d = logNormal(t(loc, [3]), t(scales, [3]))
    expectClose(read(d.entropy()), scales.map((s, i) => loc[i]! + 0.5 + Math.log(s * Math.sqrt(2 * Math.PI))), 1e-5, 1e-5)
  }))

  it('rsample gradients w.r.t. loc and scale match finite differences', () => expectRsampleGradsMatchFd((l, s) => logNormal(l, s), [0.2, 0.6], tf.sum))

  it('extreme scales (1e-6, 1e6) give finite logProb and gradients at finite x > 0', () => tf.tidy(() => {
    const x = t([0.5, 3], [2])
    for (const scale of [1e-6, 1e6]) expectFiniteLogProbAndGrads((l, s) => logNormal(l, s), [tf.scalar(0.1), tf.scalar(scale)], x)
    // documented: at scale 1e6 exp overflows — mean and variance are +∞, draws are 0 or +∞
    const wide = logNormal(0, 1e6)
    expect(read(wide.mean)).toEqual([Infinity])
    expect(read(wide.variance)).toEqual([Infinity])
    read(wide.sample([100], 1)).forEach((v) => expect(v === 0 || v === Infinity).toBe(true))
  }))

  it('samples lie in the support (x > 0)', () => tf.tidy(() => {
    const d = logNormal(t([-5, 0, 5], [3]), t([0.1, 1, 3], [3]))
    const ok = read(d.support.check(d.sample([2000], 1)))
    expect(ok.length).toBe(6000)
    expect(ok.every((v) => v === 1)).toBe(true)
  }))

  noLeakLaw(() => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), x = t([0.5, 1.5], [2])
    return {
      d: logNormal(loc, scale), x, expandedOwns: (e) => [e.loc, e.scale],
      also: [() => { logNormal(loc, scale); return [] }],
      dispose: [loc, scale, x],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => logNormal(0, -1)).toThrow(InvalidArgumentError)
    expect(() => logNormal(0, 0)).toThrow(/logNormal: argument 'scale' must satisfy x > 0; got 0/)
    expect(() => logNormal([0, 0, 0], [1, 1])).toThrow(ShapeError)
    expect(() => logNormal([0, 0, 0], [1, 1])).toThrow(/logNormal: .*loc \[3\], scale \[2\]/)
    const d = logNormal([0, 0], 1)
    expect(() => d.logProb(t([1, 0], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([1, -2], [2]))).toThrow(/logNormal.logProb: value outside the support \(x > 0\); got -2 at index \[1\]/)
    expect(() => d.logProb(t([1, 1, 1], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(ShapeError)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
