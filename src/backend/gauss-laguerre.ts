/**
 * Gauss–Laguerre quadrature: ∫₀^∞ e^(−y) f(y) dy ≈ Σᵢ wᵢ f(yᵢ), exact for polynomials f of degree
 * below 2n. The Gamma gradient's upper tail integrates with it (`gamma-sampler.ts`, and the
 * accelerator's kernel, which receives these nodes and weights).
 */

/** L_k(y), the Laguerre polynomial, by the three-term recurrence. */
const laguerre = (k: number, y: number): number => {
  let [prev, cur] = [1, 1 - y]
  for (let j = 1; j < k; j++) [prev, cur] = [cur, ((2 * j + 1 - y) * cur - j * prev) / (j + 1)]
  return k === 0 ? 1 : cur
}

/**
 * Nodes (the roots yᵢ of L_n) and weights wᵢ = yᵢ / ((n + 1)² L_{n+1}(yᵢ)²) of n-point
 * Gauss–Laguerre quadrature, in doubles (each root bracketed on a 1e-3 grid, then bisected).
 *
 * @example
 * const { nodes, weights } = gaussLaguerre(12)   // Σ weights = ∫₀^∞ e^(−y) dy = 1
 */
export const gaussLaguerre = (n: number): { nodes: number[]; weights: number[] } => {
  const nodes: number[] = []
  for (let y = 1e-3, step = 1e-3; nodes.length < n; y += step) {
    if (Math.sign(laguerre(n, y)) === Math.sign(laguerre(n, y + step))) continue
    let [lo, hi] = [y, y + step]
    for (let i = 0; i < 60; i++) { const mid = (lo + hi) / 2; if (Math.sign(laguerre(n, mid)) === Math.sign(laguerre(n, lo))) lo = mid; else hi = mid }
    nodes.push((lo + hi) / 2)
  }
  return { nodes, weights: nodes.map((y) => y / ((n + 1) ** 2 * laguerre(n + 1, y) ** 2)) }
}

/** The quadrature the Gamma gradient uses: 12 points. */
export const GAMMA_TAIL_QUADRATURE = gaussLaguerre(12)
