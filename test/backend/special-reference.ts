/**
 * Float64 references for the special functions and the Gamma family, written for the tests (no
 * scipy at run time): log Γ and its derivatives by recurrence and Stirling's series, the
 * regularised incomplete gamma by its series and continued fraction, and the implicit
 * reparameterisation gradient by central differences of it.
 */

const B = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510]
const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1))

/** The d-th derivative of log Γ at x > 0 in doubles: shift x to ≥ 20, Stirling's series there. */
export const logGammaDerivative64 = (d: number, x: number): number => {
  let shift = 0
  let y = x
  // log Γ(x) = log Γ(x + n) − Σ log(x + j); the d-th derivative of log(x + j) is (−1)^(d−1)(d−1)!/(x + j)^d
  for (; y < 20; y++) shift += d === 0 ? Math.log(y) : ((d % 2 === 1 ? 1 : -1) * fact(d - 1)) / y ** d
  if (d === 0) {
    const series = B.reduce((s, b, k) => s + b / ((2 * k + 2) * (2 * k + 1) * y ** (2 * k + 1)), 0)
    return (y - 0.5) * Math.log(y) - y + 0.5 * Math.log(2 * Math.PI) + series - shift
  }
  const n = d - 1
  const tail = B.reduce((s, b, k) => s + (b * fact(2 * k + 2 + n - 1)) / (fact(2 * k + 2) * y ** (2 * k + 2 + n)), 0)
  const asym = n === 0
    ? Math.log(y) - 0.5 / y - tail
    : (n % 2 === 1 ? 1 : -1) * (fact(n - 1) / y ** n + fact(n) / (2 * y ** (n + 1)) + tail)
  return asym - shift
}

/** log Γ(x) for x > 0 in doubles. */
export const lgamma64 = (x: number): number => logGammaDerivative64(0, x)

/** [P(a, x), Q(a, x)] in doubles: the series for P when x < a + 1, else Lentz's continued fraction for Q. */
export const incompleteGamma64 = (a: number, x: number): [number, number] => {
  const front = Math.exp(a * Math.log(x) - x - lgamma64(a))
  if (x < a + 1) {
    let term = 1 / a, sum = term
    for (let n = 1; n < 10000 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) { term *= x / (a + n); sum += term }
    const p = front * sum
    return [p, 1 - p]
  }
  const tiny = 1e-300
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b; if (Math.abs(d) < tiny) d = tiny
    c = b + an / c; if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  const q = front * h
  return [1 - q, q]
}

/** −(∂F/∂α)/p at (α, x) in doubles: a central difference (step 1e-4 · min(α, √α): P varies on the scale √α) of P or Q, whichever is smaller. */
export const implicitGrad64 = (a: number, x: number): number => {
  const h = 1e-4 * Math.min(a, Math.sqrt(a))
  const [p] = incompleteGamma64(a, x)
  const k = p < 0.5 ? 0 : 1
  const dF = (incompleteGamma64(a + h, x)[k] - incompleteGamma64(a - h, x)[k]) / (2 * h) * (k === 0 ? 1 : -1)
  const pdf = Math.exp((a - 1) * Math.log(x) - x - lgamma64(a))
  return -dF / pdf
}
