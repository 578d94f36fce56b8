import { describe, expect, it } from 'vitest'
import { expectReadmeShows } from './readme.js'

describe('README plates example (examples/plates.ts)', () => {
  it('the README shows the example file, line for line', () => {
    expectReadmeShows('plates.ts')
  })

  it('runs as written: the subsampled fit finds the posterior of the mean, and each point\'s q(z) its exact posterior', async () => {
    const { posterior, dataMean, flipProbs } = await import('../../examples/plates.js')
    // Exact posterior of mu: precision 1/100 + 1000, mean 1000·x̄ / precision, sd 1/√precision ≈ 0.032.
    const precision = 1 / 100 + 1000
    expect(Math.abs(posterior.loc - (1000 * dataMean) / precision)).toBeLessThan(3 / Math.sqrt(precision))
    // Exact p(z = 1 | x) = N(x; 4, 1) / (N(x; 4, 1) + N(x; 0, 1)): ≈ 0, 1, 1, 0 for x = 0.1, 3.9, 4.2, −0.3 (all within 1e-3 of 0 or 1).
    expect(flipProbs[0]!).toBeLessThan(0.1)
    expect(flipProbs[1]!).toBeGreaterThan(0.9)
    expect(flipProbs[2]!).toBeGreaterThan(0.9)
    expect(flipProbs[3]!).toBeLessThan(0.1)
  })
})
