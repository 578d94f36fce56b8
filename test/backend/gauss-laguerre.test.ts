/** Gauss–Laguerre quadrature: its nodes and weights integrate polynomials against e^(−y) exactly. */
import { describe, expect, it } from 'vitest'
import { gaussLaguerre } from '../../src/backend/gauss-laguerre.js'

describe('gaussLaguerre', () => {
  it('12-point Gauss–Laguerre integrates yᵏ e^(−y) to k! for k ≤ 23', () => {
    const { nodes, weights } = gaussLaguerre(12)
    expect(nodes.length).toBe(12)
    for (let k = 0; k <= 23; k++) {
      const fact = Array.from({ length: k }, (_, i) => i + 1).reduce((p, v) => p * v, 1)
      expect(Math.abs(nodes.reduce((s, y, i) => s + weights[i]! * y ** k, 0) / fact - 1)).toBeLessThan(1e-9)
    }
  })
})
