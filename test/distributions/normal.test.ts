import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, expectMomentsMatch, read, t } from '../helpers.js'
import { expectFiniteLogProbAndGrads, expectIntegratesToOne, expectRsampleGradsMatchFd, locScaleParams, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, loc: number, scale: number): number =>
  -0.5 * ((x - loc) / scale) ** 2 - Math.log(scale) - 0.5 * Math.log(2 * Math.PI)

/** Parameters for a batch: loc ∈ [-10, 10], scale log-uniform in [1e-3, 1e3]. */
const withParams = locScaleParams([-10, 10], [-3, 3])

describe('normal', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => normal(t(p.loc, p.batch), t(p.scale, p.batch)) }))
  shapeLaws(cases, { reparameterized: true })
  referenceLogProbLaw(cases, { params: (d) => [d.loc, d.scale], ref, rel: 1e-4, abs: 1e-4 })

  it('the density integrates to 1', () => {
    for (const [loc, scale] of [[0, 1], [3, 0.01], [-50, 200]] as const) expectIntegratesToOne(() => normal(loc, scale), loc - 12 * scale, loc + 12 * scale, 2000)
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const d = normal(t([-2, 0, 5], [3]), t([0.5, 1, 3], [3]))
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
  }))

  it('entropy equals ½ log(2πe σ²)', () => tf.tidy(() => {
    const scales = [1e-3, 1, 50]
    const d = normal(t([0, 1, 2], [3]), t(scales, [3]))
    expectClose(read(d.entropy()), scales.map((s) => 0.5 * Math.log(2 * Math.PI * Math.E * s * s)), 1e-5)
  }))

  it('rsample gradients w.r.t. loc and scale match finite differences', () => expectRsampleGradsMatchFd((l, s) => normal(l, s), [0.7, 1.3]))

  it('extreme scales (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    for (const scale of [1e-6, 1e6]) expectFiniteLogProbAndGrads((l, s) => normal(l, s), [tf.scalar(0.1), tf.scalar(scale)], t([0.5, -3], [2]))
  }))

  it('samples lie in the support (finite reals)', () => tf.tidy(() => {
    read(normal(0, 1e6).sample([1000], 1)).forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  noLeakLaw(() => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), x = t([0.5, 0.5], [2])
    return {
      d: normal(loc, scale), x, expandedOwns: (e) => [e.loc, e.scale],
      also: [() => { const n = normal(0, 1); return [n.loc, n.scale] }],
      dispose: [loc, scale, x],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => normal(0, -1)).toThrow(InvalidArgumentError)
    expect(() => normal(0, 0)).toThrow(/normal: argument 'scale' must satisfy x > 0; got 0/)
    expect(() => normal([0, 0, 0], [1, 1])).toThrow(ShapeError)
    expect(() => normal([0, 0, 0], [1, 1])).toThrow(/loc \[3\], scale \[2\]/)
    const d = normal([0, 0], 1)
    expect(() => d.logProb(t([0, NaN], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(/toEvent\(2\): n must be an integer between 0 and the batch rank 1/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
