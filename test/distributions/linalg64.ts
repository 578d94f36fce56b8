/** Float64 matrix references for the multivariate-normal tests: Cholesky, solves, log-densities, KL. */
export type M = number[][]
export const zeros = (n: number, m = n): M => Array.from({ length: n }, () => new Array<number>(m).fill(0))
export const mul64 = (a: M, b: M): M => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)))
export const tr64 = (a: M): M => a[0]!.map((_, j) => a.map((row) => row[j]!))
export const eye64 = (n: number): M => zeros(n).map((r, i) => r.map((_, j) => (i === j ? 1 : 0)))
export const f32 = (a: M): M => a.map((row) => row.map(Math.fround))

export const chol64 = (a: M): M => {
  const n = a.length, l = zeros(n)
  for (let j = 0; j < n; j++) {
    l[j]![j] = Math.sqrt(a[j]![j]! - l[j]!.slice(0, j).reduce((s, v) => s + v * v, 0))
    for (let i = j + 1; i < n; i++) l[i]![j] = (a[i]![j]! - l[i]!.slice(0, j).reduce((s, v, k) => s + v * l[j]![k]!, 0)) / l[j]![j]!
  }
  return l
}
/** L⁻¹ b for lower-triangular L and a vector b. */
export const solve64 = (l: M, b: readonly number[]): number[] => {
  const z: number[] = []
  b.forEach((v, i) => { z.push((v - z.reduce((s, u, k) => s + l[i]![k]! * u, 0)) / l[i]![i]!) })
  return z
}
export const inv64 = (a: M): M => { const li = tr64(eye64(a.length).map((e) => solve64(chol64(a), e))); return mul64(tr64(li), li) }
export const logDet64 = (a: M): number => 2 * chol64(a).reduce((s, row, i) => s + Math.log(row[i]!), 0)
/** log N(x; μ, Σ) in doubles. */
export const logDensity64 = (x: readonly number[], mu: readonly number[], sigma: M): number => {
  const z = solve64(chol64(sigma), x.map((v, i) => v - mu[i]!))
  return -0.5 * z.reduce((s, v) => s + v * v, 0) - 0.5 * logDet64(sigma) - 0.5 * x.length * Math.log(2 * Math.PI)
}
/** KL(N(μp, Σp) ‖ N(μq, Σq)) in doubles. */
export const kl64 = (mp: readonly number[], sp: M, mq: readonly number[], sq: M): number => {
  const qi = inv64(sq), d = mq.map((v, i) => v - mp[i]!)
  const trace = mul64(qi, sp).reduce((s, row, i) => s + row[i]!, 0)
  const maha = d.reduce((s, di, i) => s + di * d.reduce((u, dj, j) => u + qi[i]![j]! * dj, 0), 0)
  return 0.5 * (trace + maha - mp.length + logDet64(sq) - logDet64(sp))
}
