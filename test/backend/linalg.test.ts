/**
 * Cholesky and triangular solves against float64 references written here: factors, solves,
 * gradients (closed forms and float64 finite differences), batching, broadcasting and memory.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cholesky, matVec, triangularSolve, triangularSolveVec } from '../../src/backend/linalg.js'
import { ShapeError } from '../../src/errors.js'
import { FC, expectClose, expectNoLeak, read, sizeOf, smallShape, t } from '../helpers.js'
import { doubles } from '../distributions/laws.js'

type M = number[][]
const zeros = (n: number, m = n): M => Array.from({ length: n }, () => new Array<number>(m).fill(0))
const mul64 = (a: M, b: M): M => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)))
const tr64 = (a: M): M => a[0]!.map((_, j) => a.map((row) => row[j]!))

/** Cholesky in doubles, reading the lower triangle. */
const chol64 = (a: M): M => {
  const n = a.length, l = zeros(n)
  for (let j = 0; j < n; j++) {
    let s = a[j]![j]!
    for (let k = 0; k < j; k++) s -= l[j]![k]! ** 2
    l[j]![j] = Math.sqrt(s)
    for (let i = j + 1; i < n; i++) {
      let v = a[i]![j]!
      for (let k = 0; k < j; k++) v -= l[i]![k]! * l[j]![k]!
      l[i]![j] = v / l[j]![j]!
    }
  }
  return l
}

/** L⁻¹ B in doubles (forward substitution) for lower-triangular L. */
const solveLower64 = (l: M, b: M): M => {
  const x = zeros(b.length, b[0]!.length)
  for (let i = 0; i < l.length; i++) {
    for (let j = 0; j < b[0]!.length; j++) {
      let v = b[i]![j]!
      for (let k = 0; k < i; k++) v -= l[i]![k]! * x[k]![j]!
      x[i]![j] = v / l[i]![i]!
    }
  }
  return x
}

/** op(T)⁻¹ B with T the lower or upper triangle of l, in doubles (an upper system as a lower one, reversed). */
const solve64 = (l: M, b: M, lower: boolean, adjoint: boolean): M => {
  const n = l.length
  const tri = l.map((row, i) => row.map((v, j) => ((lower ? j <= i : j >= i) ? v : 0)))
  const m = adjoint ? tr64(tri) : tri
  if (lower !== adjoint) return solveLower64(m, b)
  const rev = (x: M): M => [...x].reverse()
  return rev(solveLower64(rev(m.map((row) => [...row].reverse())), rev(b))).slice(0, n)
}

const inv64 = (a: M): M => { const li = solveLower64(chol64(a), identity(a.length)); return mul64(tr64(li), li) }
const identity = (n: number): M => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)))
const f32 = (a: M): M => a.map((row) => row.map(Math.fround))

/** Matrices k of a flat read-back of shape [..., n, m]. */
const split = (xs: readonly number[], n: number, m = n): M[] =>
  Array.from({ length: xs.length / (n * m) }, (_, b) => Array.from({ length: n }, (_, i) => xs.slice(b * n * m + i * m, b * n * m + (i + 1) * m)))
const stack = (ms: readonly M[], batch: readonly number[]): tf.Tensor =>
  t(ms.flat(2), [...batch, ms[0]!.length, ms[0]![0]!.length])

/** A batch of SPD matrices A = B Bᵀ + shift·I (rounded to float32), n ∈ 1..8. */
const spdCases = (minShift: number) => fc.tuple(smallShape, fc.integer({ min: 1, max: 8 })).chain(([batch, n]) =>
  fc.record({ b: doubles(sizeOf(batch) * n * n, -1, 1), shift: fc.double({ min: minShift, max: 2, noNaN: true }) })
    .map(({ b, shift }) => ({ batch, n, as: split(b, n).map((m) => f32(mul64(m, tr64(m)).map((row, i) => row.map((v, j) => v + (i === j ? shift : 0))))) })))

/** Lower-triangular matrices with diagonal in [0.5, 2] and off-diagonal in [-1, 1]. */
const lowerCases = fc.tuple(smallShape, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 })).chain(([batch, n, m]) =>
  fc.record({ l: doubles(sizeOf(batch) * n * n, -1, 1), b: doubles(sizeOf(batch) * n * m, -3, 3), lower: fc.boolean(), adjoint: fc.boolean() })
    .map((r) => ({ batch, n, m, lower: r.lower, adjoint: r.adjoint, bs: split(r.b, n, m),
      ls: split(r.l, n).map((x) => x.map((row, i) => row.map((v, j) => (i === j ? 1.25 + 0.75 * v : v)))) })))

/** |a − b| ≤ tol · scale(i, j) for every entry. */
const expectWithin = (a: M, b: M, tol: (i: number, j: number) => number, what: string): void =>
  a.forEach((row, i) => row.forEach((v, j) => {
    if (!(Math.abs(v - b[i]![j]!) <= tol(i, j))) expect.fail(`${what}[${i}][${j}]: got ${v}, expected ${b[i]![j]} (tol ${tol(i, j)})`)
  }))

describe('cholesky', () => {
  it('L Lᵀ = A to 1e-5 relative (|LLᵀ − A|ᵢⱼ ≤ 1e-5 √(AᵢᵢAⱼⱼ)), L lower with a positive diagonal, batched', () => {
    fc.assert(fc.property(spdCases(0.01), ({ batch, n, as }) => tf.tidy(() => {
      const l = cholesky(stack(as, batch))
      expect(l.shape).toEqual([...batch, n, n])
      split(read(l), n).forEach((lm, k) => {
        const a = as[k]!
        lm.forEach((row, i) => row.forEach((v, j) => expect(j > i ? v === 0 : j === i ? v > 0 : true).toBe(true)))
        expectWithin(mul64(lm, tr64(lm)), a, (i, j) => 1e-5 * Math.sqrt(a[i]![i]! * a[j]![j]!), 'LLᵀ')
      })
    })), FC)
  })

  it('equals the float64 factor to 1e-5 (relative to √Aᵢᵢ) for well-conditioned matrices', () => {
    fc.assert(fc.property(spdCases(0.5), ({ batch, n, as }) => tf.tidy(() => {
      split(read(cholesky(stack(as, batch))), n).forEach((lm, k) => {
        const a = as[k]!
        expectWithin(lm, chol64(a), (i) => 1e-5 * Math.sqrt(a[i]![i]!), 'L')
      })
    })), FC)
  })

  it('factors 64 × 64 matrices (batch of 2) to the same accuracy', () => tf.tidy(() => {
    const n = 64, rnd = mulberry(5)
    const as = [0, 1].map(() => { const b = zeros(n).map((r) => r.map(() => rnd() * 2 - 1)); return f32(mul64(b, tr64(b)).map((r, i) => r.map((v, j) => v + (i === j ? n : 0)))) })
    split(read(cholesky(stack(as, [2]))), n).forEach((lm, k) => {
      const a = as[k]!
      expectWithin(mul64(lm, tr64(lm)), a, (i, j) => 1e-5 * Math.sqrt(a[i]![i]! * a[j]![j]!), 'LLᵀ')
      expectWithin(lm, chol64(a), (i) => 1e-5 * Math.sqrt(a[i]![i]!), 'L')
    })
  }))

  it('reads only the lower triangle; a matrix that is not positive definite gives non-finite entries', () => tf.tidy(() => {
    expectClose(read(cholesky(t([4, 99, 2, 3], [2, 2]))), [2, 0, 1, Math.SQRT2], 1e-6)
    expect(read(cholesky(t([1, 2, 2, 1], [2, 2]))).some((v) => !Number.isFinite(v))).toBe(true)
    expect(read(cholesky(t([0, 0, 0, 1], [2, 2]))).some((v) => !Number.isFinite(v))).toBe(true)
  }))

  it('∂ log det A / ∂A = A⁻¹ (the symmetric gradient), to 1e-4 relative', () => {
    fc.assert(fc.property(spdCases(0.5), ({ batch, n, as }) => tf.tidy(() => {
      const logDet = (a: tf.Tensor) => tf.mul(2, tf.sum(tf.log(tf.sum(tf.mul(cholesky(a), tf.eye(n)), -1))))
      const g = split(read(tf.grad(logDet)(stack(as, batch))), n)
      g.forEach((gm, k) => { const inv = inv64(as[k]!); expectWithin(gm, inv, (i, j) => 1e-4 * Math.sqrt(inv[i]![i]! * inv[j]![j]!), '∂logdet') })
    })), FC)
  })

  it('the gradient of Σ W ∘ L matches float64 central differences along symmetric directions', () => {
    fc.assert(fc.property(spdCases(0.5), fc.nat(), ({ batch, n, as }, seed) => tf.tidy(() => {
      const rnd = mulberry(seed), ws = as.map(() => zeros(n).map((r) => r.map(() => rnd() * 2 - 1)))
      const w = stack(ws, batch)
      const g = split(read(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(cholesky(a), w)))(stack(as, batch))), n)
      as.forEach((a, k) => {
        const f = (x: M): number => chol64(x).reduce((s, row, i) => s + row.reduce((u, v, j) => u + v * ws[k]![i]![j]!, 0), 0)
        const fd = zeros(n).map((row, i) => row.map((_, j) => {
          const h = 1e-6, at = (e: number) => f(a.map((r, p) => r.map((v, q) => v + ((p === i && q === j) || (p === j && q === i) ? e : 0))))
          return ((at(h) - at(-h)) / (2 * h)) / (i === j ? 1 : 2)
        }))
        const scale = Math.max(...fd.flat().map(Math.abs), 1e-3)
        expectWithin(g[k]!, fd, () => 1e-4 * scale, '∂L')
      })
    })), FC)
  })
})

describe('triangularSolve', () => {
  it('equals float64 substitution (lower/upper, adjoint or not), and T X = B', () => {
    fc.assert(fc.property(lowerCases, ({ batch, n, m, ls, bs, lower, adjoint }) => tf.tidy(() => {
      const x = triangularSolve(stack(ls, batch), stack(bs, batch), { lower, adjoint })
      expect(x.shape).toEqual([...batch, n, m])
      split(read(x), n, m).forEach((xm, k) => {
        const ref = solve64(ls[k]!.map((r) => r.map(Math.fround)), bs[k]!.map((r) => r.map(Math.fround)), lower, adjoint)
        const scale = Math.max(...ref.flat().map(Math.abs), 1)
        expectWithin(xm, ref, () => 1e-5 * scale, 'X')
      })
    })), FC)
  })

  it('gradients for l (on its triangle) and b match float64 central differences', () => {
    fc.assert(fc.property(lowerCases, fc.nat(), ({ batch, n, m, ls, bs, lower, adjoint }, seed) => tf.tidy(() => {
      const rnd = mulberry(seed), ws = bs.map((b) => b.map((r) => r.map(() => rnd() * 2 - 1)))
      const loss = (l: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(triangularSolve(l, b, { lower, adjoint }), stack(ws, batch)))
      const [gl, gb] = tf.grads(loss)([stack(ls, batch), stack(bs, batch)]).map((g) => split(read(g), n, g.shape[g.rank - 1]))
      ls.forEach((l0, k) => {
        const f = (l: M, b: M): number => solve64(l, b, lower, adjoint).reduce((s, row, i) => s + row.reduce((u, v, j) => u + v * ws[k]![i]![j]!, 0), 0)
        const bump = (x: M, i: number, j: number, e: number): M => x.map((r, p) => r.map((v, q) => v + (p === i && q === j ? e : 0)))
        const fd = (x: M, g: (e: number, i: number, j: number) => number): M => x.map((r, i) => r.map((_, j) => (g(1e-6, i, j) - g(-1e-6, i, j)) / 2e-6))
        const fdl = fd(l0, (e, i, j) => f(bump(l0, i, j, e), bs[k]!)), fdb = fd(bs[k]!, (e, i, j) => f(l0, bump(bs[k]!, i, j, e)))
        const scale = Math.max(...[...fdl.flat(), ...fdb.flat()].map(Math.abs), 1e-3)
        expectWithin(gl![k]!, fdl, () => 1e-4 * scale, '∂l')
        expectWithin(gb![k]!, fdb, () => 1e-4 * scale, '∂b')
      })
      expect(m).toBeGreaterThan(0)
    })), FC)
  })

  it('broadcasts batch dims of l and b, and reduces the gradients back to their shapes', () => tf.tidy(() => {
    const l = t([2, 0, 1, 1, 3, 0, -1, 2], [2, 1, 2, 2]), b = t([1, 2, 3, 4, 5, 6], [3, 2, 1])
    const x = triangularSolve(l, b)
    expect(x.shape).toEqual([2, 3, 2, 1])
    expectClose(read(x).slice(0, 2), [0.5, 1.5], 1e-6)
    expectClose(read(x).slice(6, 8), [1 / 3, (2 + 1 / 3) / 2], 1e-6)
    const [gl, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(triangularSolve(p, q)))([l, b])
    expect(gl!.shape).toEqual([2, 1, 2, 2])
    expect(gb!.shape).toEqual([3, 2, 1])
  }))

  it('triangularSolveVec and matVec move sample dims into columns: L (L⁻¹ v) = v', () => tf.tidy(() => {
    const l = t([2, 0, 1, 1, 3, 0, -1, 2], [2, 2, 2]), v = tf.randomNormal([5, 1, 2], 0, 1, 'float32', 3)
    const z = triangularSolveVec(l, v)
    expect(z.shape).toEqual([5, 2, 2])
    expectClose(read(matVec(l, z)), read(tf.broadcastTo(v, [5, 2, 2])), 1e-5, 1e-6)
    expectClose(read(triangularSolveVec(l, v, { adjoint: true })), read(tf.squeeze(triangularSolve(tf.transpose(l, [0, 2, 1]), tf.expandDims(tf.broadcastTo(v, [5, 2, 2]), -1), { lower: false }), [-1])), 1e-6)
  }))

  it('names shape errors', () => tf.tidy(() => {
    expect(() => cholesky(tf.zeros([2, 3]))).toThrow(ShapeError)
    expect(() => triangularSolve(tf.eye(3), tf.zeros([2, 1]))).toThrow(/b must have shape \[\.\.\., 3, m\]/)
    expect(() => triangularSolve(tf.zeros([2, 3, 3]), tf.zeros([4, 3, 1]))).toThrow(ShapeError)
    expect(() => triangularSolveVec(tf.eye(3), tf.zeros([2]))).toThrow(ShapeError)
  }))

  it('leaks nothing, gradients included', () => {
    const a = t([4, 2, 2, 3], [2, 2]), b = t([1, 2], [2, 1]), v = t([1, 1], [2])
    expectNoLeak(() => cholesky(a))
    expectNoLeak(() => tf.grad((x: tf.Tensor) => tf.sum(cholesky(x)))(a))
    expectNoLeak(() => [triangularSolve(a, b, { lower: false }), triangularSolveVec(a, v), matVec(a, v)])
    expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(triangularSolve(x, y, { adjoint: true })))([a, b]))
    tf.dispose([a, b, v])
  })
})

/** A small seeded PRNG in [0, 1) for test data. */
function mulberry(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let z = Math.imul(s ^ (s >>> 15), 1 | s)
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
}
