/** The discrete-latent examples run as written (against the built package), and their enumerated log-likelihoods equal the closed forms they print. */
import { describe, expect, it } from 'vitest'

describe('examples of exact enumeration', () => {
  it('mixture.ts: the enumerated log-likelihood equals log Σ_k w_k N(x | μ_k, σ) at the fitted locations; the MAP splits the three clusters', async () => {
    const { enumerated, closedForm, locs, assignments } = await import('../../examples/mixture.js')
    expect(Math.abs(enumerated - closedForm)).toBeLessThanOrEqual(Math.max(1e-4 * Math.abs(closedForm), 1e-3))
    expect(locs[0]).toBeLessThan(-1.5)
    expect(locs[2]).toBeGreaterThan(2.5)
    expect(assignments).toEqual([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
  })

  it('hmm.ts: the enumerated log-likelihood equals the forward algorithm; the Viterbi path finds the three regimes', async () => {
    const { enumerated, forward, viterbi } = await import('../../examples/hmm.js')
    expect(Math.abs(enumerated - forward)).toBeLessThanOrEqual(Math.max(1e-4 * Math.abs(forward), 1e-3))
    expect(viterbi.slice(2, 18).every((s) => s === 0)).toBe(true)
    expect(viterbi.slice(42, 58).every((s) => s === 2)).toBe(true)
  })
})
