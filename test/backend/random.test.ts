import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nextWord, standardNormal, standardNormalValues, xoshiro128 } from '../../src/backend/random.js'

/** Φ, the standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
const phi = (x: number): number => {
  const z = Math.abs(x) / Math.SQRT2, t = 1 / (1 + 0.3275911 * z)
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z)
  return 0.5 * (1 + (x < 0 ? -erf : erf))
}

describe('xoshiro128**', () => {
  it('matches the reference algorithm on a hand-set state (first words of state 1, 2, 3, 4)', () => {
    // Reference: rotl(s1 · 5, 7) · 9 with s = (1, 2, 3, 4) gives 11520, then the state update.
    const st = Int32Array.of(1, 2, 3, 4)
    expect(nextWord(st)).toBe(11520)
    expect(Array.from(st)).toEqual([7, 0, 1026, 12288])
  })

  it('starts seeds that are multiples of the golden-ratio step (site seeds) on unrelated states, not shifted copies', () => {
    // Unscrambled, splitmix32 from seed (k + 1)·φ repeats the words of seed k·φ one place later.
    const PHI = 0x9e3779b9
    for (let k = 0; k < 1000; k++) {
      const a = new Set(xoshiro128(Math.imul(k, PHI) >>> 0)), b = xoshiro128(Math.imul(k + 1, PHI) >>> 0)
      expect(Array.from(b).filter((w) => a.has(w))).toEqual([])
    }
  })

  it('gives words spread over all 32 bits', () => {
    const st = xoshiro128(5)
    const words = Array.from({ length: 4096 }, () => nextWord(st))
    for (let bit = 0; bit < 32; bit++) {
      const ones = words.filter((w) => ((w >>> bit) & 1) === 1).length
      expect(Math.abs(ones / words.length - 0.5)).toBeLessThan(0.05)
    }
  })
})

describe('standardNormalValues', () => {
  it('is a pure function of the seed: same seed, same values; another seed, other values', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 64 }), (seed, n) => {
      const a = standardNormalValues(n, seed), b = standardNormalValues(n, seed)
      expect(a).toEqual(b)
      expect(a.every(Number.isFinite)).toBe(true)
      expect(standardNormalValues(n, (seed + 1) % 2 ** 32)).not.toEqual(a)
    }), { numRuns: 50 })
  })

  it('has the moments of N(0, 1) (200,000 draws: mean, variance, skewness, kurtosis within 5 standard errors)', () => {
    const v = standardNormalValues(200_000, 11)
    const n = v.length
    let m1 = 0, m2 = 0, m3 = 0, m4 = 0
    for (const x of v) { m1 += x; m2 += x * x; m3 += x ** 3; m4 += x ** 4 }
    m1 /= n; m2 /= n; m3 /= n; m4 /= n
    expect(Math.abs(m1)).toBeLessThan(5 * Math.sqrt(1 / n))
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n))
    expect(Math.abs(m3)).toBeLessThan(5 * Math.sqrt(15 / n))
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / n))
  })

  it('passes a Kolmogorov–Smirnov test against Φ (50,000 draws, critical value at α = 0.001)', () => {
    const v = Array.from(standardNormalValues(50_000, 3)).sort((a, b) => a - b)
    const n = v.length
    const d = v.reduce((worst, x, i) => Math.max(worst, Math.abs(phi(x) - i / n), Math.abs(phi(x) - (i + 1) / n)), 0)
    expect(d).toBeLessThan(1.95 / Math.sqrt(n))
  })

  it('has uncorrelated neighbours (both members of a pair and consecutive pairs)', () => {
    const v = standardNormalValues(100_001, 8)
    let lag1 = 0, lag2 = 0
    for (let i = 0; i + 2 < v.length; i++) { lag1 += v[i]! * v[i + 1]!; lag2 += v[i]! * v[i + 2]! }
    expect(Math.abs(lag1 / v.length)).toBeLessThan(5 / Math.sqrt(v.length))
    expect(Math.abs(lag2 / v.length)).toBeLessThan(5 / Math.sqrt(v.length))
  })

  it('draws fresh values when unseeded', () => {
    expect(standardNormalValues(8)).not.toEqual(standardNormalValues(8))
  })
})

describe('standardNormal', () => {
  it('returns a float32 tensor of the shape asked for, holding the seeded values', () => {
    const before = tf.memory().numTensors
    const t = standardNormal([3, 5], 9)
    expect(t.shape).toEqual([3, 5])
    expect(t.dtype).toBe('float32')
    expect(t.dataSync()).toEqual(standardNormalValues(15, 9))
    t.dispose()
    const empty = standardNormal([0, 4], 1)
    expect(empty.shape).toEqual([0, 4])
    empty.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})
