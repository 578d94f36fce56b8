import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { klLaplaceLaplace, laplace } from '../../src/distributions/laplace.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, expectMomentsMatch, read, simpson, t } from '../helpers.js'
import { expectFiniteLogProbAndGrads, expectIntegratesToOne, expectRsampleGradsMatchFd, locScaleParams, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, loc: number, scale: number): number => -Math.abs(x - loc) / scale - Math.log(2 * scale)

/** Parameters for a batch: loc ∈ [-10, 10], scale log-uniform in [1e-3, 1e3]. */
const withParams = locScaleParams([-10, 10], [-3, 3])

describe('laplace', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => laplace(t(p.loc, p.batch), t(p.scale, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, repeatable: 'sample', expandedLogProb: true })
  referenceLogProbLaw(cases, { params: (d) => [d.loc, d.scale], ref, rel: 1e-4, abs: 1e-4 })

  it('the density integrates to 1', () => {
    // the kink at loc is a grid node (an even number of intervals either side)
    for (const [loc, scale] of [[0, 1], [3, 0.01], [-50, 200]] as const) expectIntegratesToOne(() => laplace(loc, scale), loc - 30 * scale, loc + 30 * scale, 4000)
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const d = laplace(t([-2, 0, 5], [3]), t([0.5, 1, 3], [3]))
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
    expectClose(read(d.variance), [0.5, 2, 18], 1e-6)
  }))

  it('entropy equals 1 + log(2b)', () => tf.tidy(() => {
    const scales = [1e-3, 1, 50]
    const d = laplace(t([0, 1, 2], [3]), t(scales, [3]))
    expectClose(read(d.entropy()), scales.map((s) => 1 + Math.log(2 * s)), 1e-5)
  }))

  it('klLaplaceLaplace equals a float64 quadrature of E_p[log p − log q]', () => tf.tidy(() => {
    const cases = [[0, 1, 0, 1], [0, 1, 1, 2], [-1, 0.5, 2, 0.7], [3, 2, 0, 1]] as const
    const got = read(klLaplaceLaplace(laplace(t(cases.map((c) => c[0]), [4]), t(cases.map((c) => c[1]), [4])),
      laplace(t(cases.map((c) => c[2]), [4]), t(cases.map((c) => c[3]), [4]))))
    const want = cases.map(([mp, bp, mq, bq]) => {
      const f = (x: number) => Math.exp(ref(x, mp, bp)) * (ref(x, mp, bp) - ref(x, mq, bq))
      // split at both kinks so Simpson sees smooth pieces
      const [a, b] = [Math.min(mp, mq), Math.max(mp, mq)]
      return simpson(f, a - 40 * bp, a, 4000) + (b > a ? simpson(f, a, b, 4000) : 0) + simpson(f, b, b + 40 * bp, 4000)
    })
    expectClose(got, want, 1e-4, 1e-5)
  }))

  it('rsample gradients w.r.t. loc and scale match finite differences', () => expectRsampleGradsMatchFd((l, s) => laplace(l, s), [0.7, 1.3]))

  it('extreme scales (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    for (const scale of [1e-6, 1e6]) expectFiniteLogProbAndGrads((l, s) => laplace(l, s), [tf.scalar(0.1), tf.scalar(scale)], t([0.5, -3], [2]))
  }))

  it('samples lie in the support (finite reals), even at scale 1e6', () => tf.tidy(() => {
    const d = laplace(0, 1e6)
    const ok = read(d.support.check(d.sample([5000], 1)))
    expect(ok.every((v) => v === 1)).toBe(true)
  }))

  noLeakLaw(() => {
    const loc = t([0, 1], [2]), scale = t([1, 2], [2]), x = t([0.5, 0.5], [2])
    return {
      d: laplace(loc, scale), x, expandedOwns: (e) => [e.loc, e.scale],
      also: [() => { const n = laplace(0, 1); return [n.loc, n.scale] }],
      dispose: [loc, scale, x],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => laplace(0, -1)).toThrow(InvalidArgumentError)
    expect(() => laplace(0, 0)).toThrow(/laplace: argument 'scale' must satisfy x > 0; got 0/)
    expect(() => laplace(NaN, 1)).toThrow(/laplace: argument 'loc' must satisfy finite real; got NaN/)
    expect(() => laplace([0, 0, 0], [1, 1])).toThrow(ShapeError)
    expect(() => laplace([0, 0, 0], [1, 1])).toThrow(/laplace: .*loc \[3\], scale \[2\]/)
    const d = laplace([0, 0], 1)
    expect(() => d.logProb(t([0, Infinity], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/laplace.logProb: value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(/toEvent\(2\): n must be an integer between 0 and the batch rank 1/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
