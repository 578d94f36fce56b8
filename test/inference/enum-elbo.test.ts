import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { categorical } from '../../src/distributions/categorical.js'
import { normal } from '../../src/distributions/normal.js'
import { markov, markovScope } from '../../src/dsl/markov.js'
import type { Message } from '../../src/dsl/messages.js'
import type { Program } from '../../src/dsl/program.js'
import { observe, plate, sample, scaled } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { enumElbo } from '../../src/inference/enum-elbo.js'
import type { LossContext } from '../../src/inference/loss.js'
import { read } from '../helpers.js'

const ctx = (seed: number): LossContext => ({ seed, handlers: [], baselines: new Map() })
const empty = () => gen(function* () { /* no latents */ })
const logNormal = (x: number, m: number): number => -0.5 * Math.log(2 * Math.PI) - 0.5 * (x - m) ** 2
const lse = (xs: readonly number[]): number => { const m = Math.max(...xs); return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0)) }
/** |a − b| within 1e-4 relative or 1e-3 nats absolute (the float32 tolerance). */
const expectExact = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.max(1e-4 * Math.abs(b), 1e-3))

const W = [0.2, 0.5, 0.3]
const LOCS = [-2, 0.5, 3]
const X = [-1.7, 0.1, 2.5, 3.3, -2.4, 0.9]

/** log Σ_k w_k N(x | μ_k, 1), summed over the points, in float64. */
const exactMixture = (xs: readonly number[], locs: readonly number[] = LOCS): number =>
  xs.reduce((acc, x) => acc + lse(W.map((w, k) => Math.log(w) + logNormal(x, locs[k]!))), 0)

const mixture = (locs: tf.Tensor, n = X.length, subsample?: tf.Tensor) => (x: tf.Tensor) =>
  plate('data', n, subsample === undefined ? {} : { subsample }, () => gen(function* () {
    const z = yield* sample('z', categorical({ probs: W }), { enumerate: 'parallel' })
    yield* observe('x', normal(tf.gather(locs, z), 1), x)
  }))

describe('enumElbo: model-side enumeration', () => {
  it('a Gaussian mixture in a data plate gives the exact log marginal likelihood', () => tf.tidy(() => {
    const b = read(enumElbo().estimate(mixture(tf.tensor1d(LOCS)), empty, [tf.tensor1d(X)] as const, ctx(0)).bound)[0]!
    expectExact(b, exactMixture(X))
  }))

  it('vectorised particles leave an exact bound exact', () => tf.tidy(() => {
    const b = read(enumElbo({ numParticles: 3 }).estimate(mixture(tf.tensor1d(LOCS)), empty, [tf.tensor1d(X)] as const, ctx(0)).bound)[0]!
    expectExact(b, exactMixture(X))
  }))

  it('a subsampled plate scales the enumerated sum by size / subsampleSize', () => tf.tidy(() => {
    const idx = [1, 4]
    const x = tf.tensor1d(idx.map((i) => X[i]!))
    const b = read(enumElbo().estimate(mixture(tf.tensor1d(LOCS), X.length, tf.tensor1d(idx, 'int32')), empty, [x] as const, ctx(0)).bound)[0]!
    expectExact(b, (X.length / idx.length) * exactMixture(idx.map((i) => X[i]!)))
  }))

  it('the gradient in the component locations equals finite differences of the exact log marginal', () => tf.tidy(() => {
    const g = read(tf.grad((locs: tf.Tensor) => enumElbo().estimate(mixture(locs), empty, [tf.tensor1d(X)] as const, ctx(0)).bound)(tf.tensor1d(LOCS)))
    const h = 1e-5
    const fd = LOCS.map((_, k) => (exactMixture(X, LOCS.map((m, j) => j === k ? m + h : m)) - exactMixture(X, LOCS.map((m, j) => j === k ? m - h : m))) / (2 * h))
    g.forEach((v, k) => expect(Math.abs(v - fd[k]!)).toBeLessThan(1e-3 * Math.abs(fd[k]!) + 1e-3))
  }))
})

const PI = [0.6, 0.3, 0.1]
const A = [[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.25, 0.25, 0.5]]
const MU = [-1, 0.5, 2]

/** The forward algorithm in float64: log p(y_0 … y_{T−1}). */
const forward = (ys: readonly number[]): number => {
  let alpha = PI.map((p, k) => Math.log(p) + logNormal(ys[0]!, MU[k]!))
  for (const y of ys.slice(1)) alpha = MU.map((m, k) => lse(alpha.map((a, j) => a + Math.log(A[j]![k]!))) + logNormal(y, m))
  return lse(alpha)
}

const hmm = (ys: readonly number[]) => () => gen(function* () {
  const logA = tf.log(tf.tensor2d(A))
  yield* markov(ys.length, { history: 1 }, (t, prev: tf.Tensor | undefined) => gen(function* () {
    const logits = prev === undefined ? tf.log(tf.tensor1d(PI)) : tf.gather(logA, prev)
    const x = yield* sample(`x_${t}`, categorical({ logits }), { enumerate: 'parallel' })
    yield* observe(`y_${t}`, normal(tf.gather(tf.tensor1d(MU), x), 1), tf.scalar(ys[t]!))
    return x
  }), undefined)
})

describe('enumElbo: markov chains', () => {
  it('an HMM with T = 50, K = 3 gives the forward algorithm\'s log-likelihood, on two recycled dims', () => tf.tidy(() => {
    const ys = Array.from({ length: 50 }, (_, t) => Math.sin(t / 3) * 2 + 0.3 * Math.cos(7 * t))
    const model = hmm(ys)
    const b = read(enumElbo().estimate(model, empty, [] as const, ctx(0)).bound)[0]!
    expectExact(b, forward(ys))
  }))
})

describe('enumElbo: markov scopes in context form, and keep', () => {
  const ys = [0.4, -1.1, 1.9, 2.2, 0.1]
  const logA = () => tf.log(tf.tensor2d(A))
  /** The HMM written recursively: each level one markovScope, nested in the previous one. */
  const step = (t: number, prev: tf.Tensor | undefined): Program<Message, void> => markovScope({ history: 1 }, () => gen(function* () {
    const logits = prev === undefined ? tf.log(tf.tensor1d(PI)) : tf.gather(logA(), prev)
    const x = yield* sample(`x_${t}`, categorical({ logits }), { enumerate: 'parallel' })
    yield* observe(`y_${t}`, normal(tf.gather(tf.tensor1d(MU), x), 1), tf.scalar(ys[t]!))
    if (t + 1 < ys.length) yield* step(t + 1, x)
  }))

  it('a recursive HMM in nested markovScopes gives the forward algorithm\'s log-likelihood', () => tf.tidy(() => {
    const b = read(enumElbo().estimate(() => step(0, undefined), empty, [] as const, ctx(0)).bound)[0]!
    expectExact(b, forward(ys))
  }))

  const kept = (data: readonly number[]) => () => gen(function* () {
    yield* markov(data.length, { history: 1, keep: true }, (t, prev: tf.Tensor | undefined) => gen(function* () {
      const x = yield* sample(`x_${t}`, categorical({ logits: prev === undefined ? tf.log(tf.tensor1d(PI)) : tf.gather(logA(), prev) }), { enumerate: 'parallel' })
      yield* observe(`y_${t}`, normal(tf.gather(tf.tensor1d(MU), x), 1), tf.scalar(data[t]!))
      return x
    }), undefined)
  })

  it('keep: true recycles no dim and gives the same value', () => tf.tidy(() => {
    const b = read(enumElbo().estimate(kept(ys), empty, [] as const, ctx(0)).bound)[0]!
    expectExact(b, forward(ys))
  }))

  it('a seventh enumeration dim is an error off the cpu backend (tfjs-wasm broadcasts wrongly above rank 6)', () => {
    const seven = [...ys, 0.3, -0.2]
    if (tf.getBackend() === 'cpu') expectExact(tf.tidy(() => read(enumElbo().estimate(kept(seven), empty, [] as const, ctx(0)).bound)[0]!), forward(seven))
    else expect(() => tf.tidy(() => enumElbo().estimate(kept(seven), empty, [] as const, ctx(0)).bound)).toThrow(/site 'x_6': enumerating it needs tensors of rank 7 .* computes rank 6 at most/)
  })
})

describe('enumElbo: crossed plates and guide-side enumeration', () => {
  it('a global enumerated site, an enumerated site in plate a, and observations in a crossed plate b', () => tf.tidy(() => {
    const XA = [0.3, -1.2], YB = [1.1, -0.4, 2.0]
    const model = () => gen(function* () {
      const z = yield* sample('z', bernoulli({ probs: 0.35 }), { enumerate: 'parallel' })
      yield* plate('a', 2, {}, () => gen(function* () {
        const u = yield* sample('u', bernoulli({ probs: tf.add(0.2, tf.mul(0.5, z)) }), { enumerate: 'parallel' })
        yield* observe('x', normal(tf.sub(tf.mul(2, u), 1), 1), tf.tensor1d(XA))
      }))
      yield* plate('b', 3, { dim: -2 }, () => gen(function* () {
        yield* observe('y', normal(tf.mul(1.5, z), 1), tf.tensor(YB, [3, 1]))
      }))
    })
    const exact = lse([0, 1].map((z) => Math.log(z === 1 ? 0.35 : 0.65)
      + XA.reduce((s, x) => s + lse([0, 1].map((u) => Math.log(u === 1 ? 0.2 + 0.5 * z : 0.8 - 0.5 * z) + logNormal(x, 2 * u - 1))), 0)
      + YB.reduce((s, y) => s + logNormal(y, 1.5 * z), 0)))
    const b = read(enumElbo().estimate(model, empty, [] as const, ctx(0)).bound)[0]!
    expectExact(b, exact)
  }))

  const Q = [0.9, 0.25, 0.6]
  const XS = [1.4, -0.8, 0.2]
  const pairModel = () => plate('data', 3, {}, () => gen(function* () {
    const y = yield* sample('y', bernoulli({ probs: 0.3 }))
    yield* observe('x', normal(tf.mul(2, y), 1), tf.tensor1d(XS))
  }))
  const pairGuide = (logits: tf.Tensor) => () => plate('data', 3, {}, () => gen(function* () {
    yield* sample('y', bernoulli({ logits }), { enumerate: 'parallel' })
  }))
  /** Σ_i Σ_y q_i(y) (log p(y) + log p(x_i | y) − log q_i(y)), float64. */
  const exactPair = (q: readonly number[]): number => q.reduce((s, qi, i) =>
    s + [0, 1].reduce((t, y) => { const w = y === 1 ? qi : 1 - qi; return t + w * (Math.log(y === 1 ? 0.3 : 0.7) + logNormal(XS[i]!, 2 * y) - Math.log(w)) }, 0), 0)
  const logit = (p: number) => Math.log(p / (1 - p))

  it('a guide-side enumerated site gives the exact expectation under q', () => tf.tidy(() => {
    const b = read(enumElbo().estimate(pairModel, pairGuide(tf.tensor1d(Q.map(logit))), [] as const, ctx(0)).bound)[0]!
    expectExact(b, exactPair(Q))
  }))

  it('its gradient in the guide logits equals finite differences of the exact ELBO', () => tf.tidy(() => {
    const g = read(tf.grad((l: tf.Tensor) => enumElbo().estimate(pairModel, pairGuide(l), [] as const, ctx(0)).surrogate)(tf.tensor1d(Q.map(logit))))
    const h = 1e-5, sig = (a: number) => 1 / (1 + Math.exp(-a))
    const at = (k: number, d: number) => exactPair(Q.map((q, j) => sig(logit(q) + (j === k ? d : 0))))
    g.forEach((v, k) => expect(Math.abs(v - (at(k, h) - at(k, -h)) / (2 * h))).toBeLessThan(1e-3))
  }))
})

describe('enumElbo: sequential enumeration in the guide', () => {
  /** Model: y ~ Cat(P), b | y ~ Bernoulli(R_y), x ~ N(2y − b, 1); guide: q(y) then q(b | y), both sequential. */
  const P = [0.2, 0.5, 0.3], R = [0.1, 0.6, 0.9], X0 = 1.3
  const model = () => gen(function* () {
    const y = yield* sample('y', categorical({ probs: P }))
    const b = yield* sample('b', bernoulli({ probs: tf.gather(tf.tensor1d(R), y) }))
    yield* observe('x', normal(tf.sub(tf.mul(2, tf.cast(y, 'float32')), b), 1), tf.scalar(X0))
  })
  const guide = (qy: tf.Tensor, qb: tf.Tensor) => () => gen(function* () {
    const y = yield* sample('y', categorical({ logits: qy }), { enumerate: 'sequential' })
    yield* sample('b', bernoulli({ logits: tf.gather(qb, y) }), { enumerate: 'sequential' })
  })
  const QY = [0.5, -0.2, 0.1], QB = [-1, 0.3, 1.2]
  /** Σ_y Σ_b q(y) q(b | y) (log p(y, b, x) − log q(y, b)), float64. */
  const exact = (qy: readonly number[], qb: readonly number[]): number => {
    const z = qy.reduce((s, l) => s + Math.exp(l), 0)
    return [0, 1, 2].reduce((acc, y) => acc + [0, 1].reduce((t, b) => {
      const q = (Math.exp(qy[y]!) / z) * (b === 1 ? 1 / (1 + Math.exp(-qb[y]!)) : 1 / (1 + Math.exp(qb[y]!)))
      const p = P[y]! * (b === 1 ? R[y]! : 1 - R[y]!) * Math.exp(logNormal(X0, 2 * y - b))
      return t + q * (Math.log(p) - Math.log(q))
    }, 0), 0)
  }

  it('one run per assignment of two dependent sites (3 × 2 runs) gives the exact ELBO', () => tf.tidy(() => {
    const b = read(enumElbo().estimate(model, guide(tf.tensor1d(QY), tf.tensor1d(QB)), [] as const, ctx(0)).bound)[0]!
    expectExact(b, exact(QY, QB))
  }))

  it('its gradient equals finite differences of the exact ELBO', () => tf.tidy(() => {
    const [gy, gb] = tf.grads((qy: tf.Tensor, qb: tf.Tensor) => enumElbo().estimate(model, guide(qy, qb), [] as const, ctx(0)).surrogate)([tf.tensor1d(QY), tf.tensor1d(QB)])
    const h = 1e-5
    const fd = (which: 0 | 1, k: number) => {
      const shift = (xs: readonly number[], d: number) => xs.map((v, j) => j === k ? v + d : v)
      return which === 0 ? (exact(shift(QY, h), QB) - exact(shift(QY, -h), QB)) / (2 * h) : (exact(QY, shift(QB, h)) - exact(QY, shift(QB, -h))) / (2 * h)
    }
    read(gy!).forEach((v, k) => expect(Math.abs(v - fd(0, k))).toBeLessThan(1e-3))
    read(gb!).forEach((v, k) => expect(Math.abs(v - fd(1, k))).toBeLessThan(1e-3))
  }))
})

describe('logMarginal sums model-enumerated sites out of every weight', () => {
  it('a mixture with a latent shift: log p(x) by importance sampling over the shift, the assignments summed exactly', async () => {
    const { logMarginal } = await import('../../src/inference/log-marginal.js')
    const xs = [0.4, 1.9, -0.7]
    const model = () => gen(function* () {
      const shift = yield* sample('shift', normal(0, 1))
      yield* plate('data', 3, {}, () => gen(function* () {
        const z = yield* sample('z', bernoulli({ probs: 0.4 }), { enumerate: 'parallel' })
        yield* observe('x', normal(tf.add(shift, tf.mul(2, z)), 1), tf.tensor1d(xs))
      }))
    })
    const guide = () => gen(function* () { yield* sample('shift', normal(0.3, 0.8)) })
    // Exact: ∫ N(s | 0, 1) Π_i Σ_z p(z) N(x_i | s + 2z, 1) ds by quadrature (float64).
    let acc = 0
    for (let s = -8; s <= 8; s += 0.001) acc += Math.exp(logNormal(s, 0) + xs.reduce((t, x) => t + lse([Math.log(0.6) + logNormal(x, s), Math.log(0.4) + logNormal(x, s + 2)]), 0)) * 0.001
    const lp = logMarginal(model, guide, [] as const, { numParticles: 2000, batch: 500, seed: 1 })
    expect(lp.shape).toEqual([])
    expect(Math.abs(read(lp)[0]! - Math.log(acc))).toBeLessThan(0.05)   // within 0.02 at 20 000 draws (an earlier run of this test)
    lp.dispose()
  })
})

describe('enumElbo with the rest of the ELBO machinery', () => {
  const XS = [1.1, -0.4, 2.6]
  const LOC = [-1, 1]
  /** Model: b ~ Bernoulli(0.5) global, z_i ~ Cat(0.5, 0.5) enumerated, x_i ~ N(LOC[z_i] + 2b, 1). */
  const model = () => gen(function* () {
    const b = yield* sample('b', bernoulli({ probs: 0.5 }))
    yield* plate('data', 3, {}, () => gen(function* () {
      const z = yield* sample('z', categorical({ probs: [0.5, 0.5] }), { enumerate: 'parallel' })
      yield* observe('x', normal(tf.add(tf.gather(tf.tensor1d(LOC), z), tf.mul(2, b)), 1), tf.tensor1d(XS))
    }))
  })
  const guide = (theta: tf.Tensor) => () => gen(function* () { yield* sample('b', bernoulli({ logits: theta })) })
  /** Σ_b q(b) (log p(b) + Σ_i log Σ_z p(z) p(x_i | z, b) − log q(b)), float64. */
  const exact = (theta: number): number => [0, 1].reduce((acc, b) => {
    const q = b === 1 ? 1 / (1 + Math.exp(-theta)) : 1 / (1 + Math.exp(theta))
    const lik = XS.reduce((s, x) => s + lse(LOC.map((m) => Math.log(0.5) + logNormal(x, m + 2 * b))), 0)
    return acc + q * (Math.log(0.5) + lik - Math.log(q))
  }, 0)

  it('a score-function guide site beside a model-enumerated one: the mean gradient over 400 seeds matches the exact gradient', () => tf.tidy(() => {
    const theta = 0.4, n = 400
    const gs = Array.from({ length: n }, (_, seed) => read(tf.grad((t: tf.Tensor) => enumElbo().estimate(model, guide(t), [] as const, ctx(seed)).surrogate)(tf.scalar(theta)))[0]!)
    const mean = gs.reduce((a, b) => a + b, 0) / n
    const sd = Math.sqrt(gs.reduce((a, g) => a + (g - mean) ** 2, 0) / (n - 1))
    const h = 1e-5, fd = (exact(theta + h) - exact(theta - h)) / (2 * h)
    expect(Math.abs(mean - fd)).toBeLessThan(5 * sd / Math.sqrt(n) + 1e-3)
  }))

  it('a scaled scope multiplies the enumerated log-likelihood by β', () => tf.tidy(() => {
    const beta = 0.3
    const scaledModel = () => scaled(beta, () => gen(function* () {
      yield* plate('data', 3, {}, () => gen(function* () {
        const z = yield* sample('z', categorical({ probs: [0.5, 0.5] }), { enumerate: 'parallel' })
        yield* observe('x', normal(tf.gather(tf.tensor1d(LOC), z), 1), tf.tensor1d(XS))
      }))
    }))
    const b = read(enumElbo().estimate(scaledModel, empty, [] as const, ctx(0)).bound)[0]!
    expectExact(b, beta * XS.reduce((s, x) => s + lse(LOC.map((m) => Math.log(0.5) + logNormal(x, m))), 0))
  }))

  it('warns when a site depends on a plate it is not in', () => tf.tidy(() => {
    const seen: string[] = []
    const leaky = () => gen(function* () {
      yield* plate('data', 3, {}, () => gen(function* () {
        const z = yield* sample('z', categorical({ probs: [0.5, 0.5] }), { enumerate: 'parallel' })
        yield* observe('x', normal(tf.cast(z, 'float32'), 1), tf.tensor1d(XS))
      }))
      yield* observe('total', normal(tf.zeros([3]), 1), tf.tensor1d(XS))   // outside the plate, but batched along its dim
    })
    enumElbo().estimate(leaky, empty, [] as const, { ...ctx(0), warn: (w) => seen.push(w.cause) })
    expect(seen).toContain('outside-plate')
  }))
})
