import { describe, expect, it } from 'vitest'
import { expectReadmeShows } from './readme.js'

describe('README example (examples/quickstart.ts)', () => {
  it('the README shows the example file, line for line', () => {
    expectReadmeShows('quickstart.ts')
  })

  it('runs as written and recovers the posterior of the mean', async () => {
    const { posterior, dataMean } = await import('../../examples/quickstart.js')
    // Exact posterior: precision 1/100 + 500, mean (Σx)/(precision), sd 1/√precision.
    const precision = 1 / 100 + 500
    // Within two posterior sds (2 × 0.045) for the mean: Adam's constant step leaves the last iterate
    // jittering about the optimum. Measured over svi seeds 0–29 with each of two samplers: at most
    // 1.61 sds, beyond 1 sd for 6–7 of 30 seeds, so a one-sd bound passed or failed by the seed's luck.
    expect(Math.abs(posterior.loc - (500 * dataMean) / precision)).toBeLessThan(2 / Math.sqrt(precision))
    expect(Math.abs(posterior.scale - 1 / Math.sqrt(precision)) / (1 / Math.sqrt(precision))).toBeLessThan(0.25)
  })
})
