import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { klUniformUniform, uniform } from '../../src/distributions/uniform.js'
import { setValidation } from '../../src/distributions/validation.js'
import { InvalidArgumentError, ShapeError, SupportError } from '../../src/errors.js'
import { expectClose, expectMomentsMatch, read, t } from '../helpers.js'
import { expectFiniteLogProbAndGrads, expectIntegratesToOne, expectRsampleGradsMatchFd, locScaleParams, noLeakLaw, referenceLogProbLaw, shapeLaws } from './laws.js'

const ref = (x: number, low: number, high: number): number => (x >= low && x <= high ? -Math.log(high - low) : -Infinity)

/** Parameters for a batch: low ∈ [-10, 10], width log-uniform in [1e-3, 1e3]. */
const withParams = locScaleParams([-10, 10], [-3, 3]).map(({ batch, loc, scale }) => ({ batch, low: loc, high: loc.map((l, i) => l + scale[i]!) }))

describe('uniform', () => {
  const cases = withParams.map((p) => ({ ...p, make: () => uniform(t(p.low, p.batch), t(p.high, p.batch)) }))
  shapeLaws(cases, { reparameterized: true, repeatable: 'sample', expandedLogProb: true })
  referenceLogProbLaw(cases, { params: (d) => [d.low, d.high], ref, rel: 1e-4, abs: 1e-4 })

  it('logProb is −∞ outside [low, high] when validation is off', () => {
    setValidation(false)
    try {
      tf.tidy(() => { expect(read(uniform(0, 2).logProb(t([-0.1, 1, 2.1], [3])))).toEqual([-Infinity, -Math.log(2), -Infinity].map(Math.fround)) })
    } finally { setValidation(true) }
  })

  it('the density integrates to 1', () => {
    for (const [low, high] of [[0, 1], [3, 3.01], [-500, 2000]] as const) expectIntegratesToOne(() => uniform(low, high), low, high, 2000)
  })

  it('sample mean and variance match mean and variance (CLT bound)', () => tf.tidy(() => {
    const d = uniform(t([-2, 0, 5], [3]), t([-1.5, 1, 11], [3]))
    expectMomentsMatch(d.sample([20000], 7), read(d.mean), read(d.variance))
    expectClose(read(d.mean), [-1.75, 0.5, 8], 1e-6)
    expectClose(read(d.variance), [0.25 / 12, 1 / 12, 3], 1e-5)
  }))

  it('entropy equals log(high − low)', () => tf.tidy(() => {
    const widths = [1e-3, 1, 50]
    const d = uniform(t([0, 1, 2], [3]), t([1e-3, 2, 52], [3]))
    expectClose(read(d.entropy()), widths.map((w) => Math.log(w)), 1e-4, 1e-5)
  }))

  it('klUniformUniform is log of the width ratio when nested, +∞ otherwise', () => tf.tidy(() => {
    const p = uniform(t([0, 0, -1, 0], [4]), t([1, 1, 1, 3], [4]))
    const q = uniform(t([-1, 0, 0, -2], [4]), t([2, 1, 1, 2.5], [4]))
    expectClose(read(klUniformUniform(p, q)), [Math.log(3), 0, Infinity, Infinity], 1e-5)
  }))

  it('rsample gradients w.r.t. low and high match finite differences', () => expectRsampleGradsMatchFd((l, h) => uniform(l, h), [0.7, 1.9]))

  it('extreme widths (1e-6, 1e6) give finite logProb and gradients', () => tf.tidy(() => {
    for (const width of [1e-6, 1e6]) {
      expectFiniteLogProbAndGrads((l, h) => uniform(l, h), [tf.scalar(0.5), tf.scalar(0.5 + width)], t([0.5 + width / 4, 0.5 + width / 2], [2]))
    }
  }))

  it('samples lie in the support [low, high]', () => tf.tidy(() => {
    const d = uniform(t([-1, 1e3, 0], [3]), t([1, 1e3 + 1e-2, 1e6], [3]))
    const ok = read(d.support.check(d.sample([3000], 1)))
    expect(ok.length).toBe(9000)
    expect(ok.every((v) => v === 1)).toBe(true)
  }))

  noLeakLaw(() => {
    const low = t([0, 1], [2]), high = t([1, 2], [2]), x = t([0.5, 1.5], [2]), bad = t([1, 1], [2])
    return {
      d: uniform(low, high), x, expandedOwns: (e) => [e.low, e.high],
      also: [
        () => { const n = uniform(0, 1); return [n.low, n.high] },
        () => { expect(() => uniform(low, bad)).toThrow(InvalidArgumentError); return [] },
      ],
      dispose: [low, high, x, bad],
    }
  })

  it('rejects bad arguments with named errors', () => {
    expect(() => uniform(1, 1)).toThrow(InvalidArgumentError)
    expect(() => uniform([0, 2], [1, 1])).toThrow(/uniform: arguments 'low' and 'high' must satisfy low < high; got low = 2, high = 1 at flat index 1/)
    expect(() => uniform(NaN, 1)).toThrow(/uniform: argument 'low' must satisfy finite real; got NaN/)
    expect(() => uniform(0, Infinity)).toThrow(/uniform: argument 'high' must satisfy finite real; got Infinity/)
    expect(() => uniform([0, 0, 0], [1, 1])).toThrow(ShapeError)
    expect(() => uniform([0, 0, 0], [1, 1])).toThrow(/uniform: .*low \[3\], high \[2\]/)
    const d = uniform([0, 0], 1)
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(SupportError)
    expect(() => d.logProb(t([0.5, 1.5], [2]))).toThrow(/uniform.logProb: value outside the support \(low ≤ x ≤ high\); got 1.5 at index \[1\]/)
    expect(() => d.logProb(t([0, 0, 0], [3]))).toThrow(/value of shape \[3\] does not fit/)
    expect(() => d.toEvent(2)).toThrow(/toEvent\(2\)/)
    expect(() => d.expand([3])).toThrow(ShapeError)
    expect(() => d.sample([-1])).toThrow(/sampleShape/)
  })
})
