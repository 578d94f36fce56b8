/**
 * The issue-18 examples run as written (against the built package) and land near their posteriors:
 * exact ones where conjugacy gives them, published ones otherwise (stated per example).
 */
import { describe, expect, it } from 'vitest'

describe('examples of the new families and autoguides', () => {
  it('counts.ts (Gamma–Poisson, autoNormal): the rate\'s median within 0.15 posterior sd of the exact Gamma(74, 10.5) median', async () => {
    const { median } = await import('../../examples/counts.js')
    const sd = Math.sqrt(74) / 10.5                                   // 0.819
    expect(Math.abs(median - 7.0159)).toBeLessThan(0.15 * sd)       // Gamma(74, 10.5) median (scipy): 7.0159; measured 0.08 sd
  })

  it('dirichlet.ts (Dirichlet–Categorical through stick-breaking): each probability within half a posterior sd of the exact Dirichlet(5, 5, 13) mean', async () => {
    const { probs } = await import('../../examples/dirichlet.js')
    const alpha = [5, 5, 13], total = 23
    probs.forEach((p, i) => {
      const mean = alpha[i]! / total, sd = Math.sqrt(mean * (1 - mean) / (total + 1))
      expect(Math.abs(p - mean)).toBeLessThan(0.5 * sd)             // the guide's median, not the mean: measured ≤ 0.33 sd
    })
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
  })

  it('logistic.ts (autoMultivariateNormal): the weights\' median within 0.3 of the generating [1.5, −2] (posterior sd ≈ 0.25 at N = 200)', async () => {
    const { weights } = await import('../../examples/logistic.js')
    expect(Math.abs(weights[0]! - 1.5)).toBeLessThan(0.3)
    expect(Math.abs(weights[1]! + 2)).toBeLessThan(0.3)
  })

  it('eight-schools.ts (non-centred, half-Cauchy tau): mu within half a posterior sd of the NUTS mean 4.4, tau\'s median between 0.5 and 8', async () => {
    const { mu, tau } = await import('../../examples/eight-schools.js')
    expect(Math.abs(mu - 4.4)).toBeLessThan(0.5 * 3.3)                 // NUTS on this model: mu 4.4 ± 3.3 (Stan / NumPyro case study)
    expect(tau).toBeGreaterThan(0.5)
    expect(tau).toBeLessThan(8)
  })
})
