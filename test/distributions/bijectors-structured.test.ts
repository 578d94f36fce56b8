import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chain, choleskyOuter, exp, independentTransform, isBijector, lowerCholesky, softmax, stickBreaking } from '../../src/distributions/bijectors.js'
import type { Bijector } from '../../src/distributions/bijectors.js'
import { InvalidArgumentError, ShapeError } from '../../src/errors.js'
import { FC, expectClose, expectNoLeak, read, t } from '../helpers.js'
import { autodiffJacobian, finiteDiffJacobian, logAbsDet, lowerIndices, lowerOf } from './jacobian.js'

/** Stick-breaking in float64: z = σ(xᵢ − log(K−1−i)), yᵢ = zᵢ ∏_{j<i}(1 − zⱼ), y_{K−1} = ∏(1 − zⱼ). */
const stick64 = (x: readonly number[]): number[] => {
  let rest = 1
  const y = x.map((xi, i) => {
    const z = 1 / (1 + Math.exp(-(xi - Math.log(x.length - i))))
    const yi = z * rest
    rest *= 1 - z
    return yi
  })
  return [...y, rest]
}

/** The lower-Cholesky map in float64, as a flat row-major n×n matrix. */
const lowerCholesky64 = (x: readonly number[], n: number): number[] => {
  const l = Array<number>(n * n).fill(0)
  let k = 0
  for (let r = 0; r < n; r++) for (let c = 0; c <= r; c++, k++) l[r * n + c] = r === c ? Math.exp(x[k]!) : x[k]!
  return l
}

/** L Lᵀ in float64 (flat, row-major). */
const outer64 = (l: readonly number[], n: number): number[] =>
  Array.from({ length: n * n }, (_, ij) => {
    const i = Math.floor(ij / n), j = ij % n
    let s = 0
    for (let k = 0; k < n; k++) s += l[i * n + k]! * l[j * n + k]!
    return s
  })

const side = (m: number): number => Math.round((Math.sqrt(8 * m + 1) - 1) / 2)
const vec = (lo: number, hi: number, min: number, max: number) => fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: min, maxLength: max })
/** Vectors of a triangular length n(n+1)/2, n = 1 … nMax. */
const triangular = (nMax: number, lo: number, hi: number) => fc.integer({ min: 1, max: nMax }).chain((n) => vec(lo, hi, n * (n + 1) / 2, n * (n + 1) / 2))

/** log |det J| by autodiff over the chosen outputs, in float64, beside the bijector's own. */
const expectLogDetMatchesJacobian = (b: Bijector, x: readonly number[], outputs: readonly number[], rel = 1e-4, abs = 2e-4): void => {
  const own = tf.tidy(() => read(b.forwardLogDetJacobian(t(x, [x.length]))))
  expect(own.length).toBe(1)
  expectClose(own, [logAbsDet(autodiffJacobian(b.forward, x, outputs))], rel, abs)
}

describe('stickBreaking', () => {
  const b = stickBreaking()

  it('matches the float64 map, lands on the simplex, and inverse(forward(x)) ≈ x', () => {
    fc.assert(fc.property(vec(-6, 6, 1, 5), (x) => tf.tidy(() => {
      const y = b.forward(t(x, [x.length]))
      expect(y.shape).toEqual([x.length + 1])
      expectClose(read(y), stick64(x), 2e-5, 1e-7)
      expect(read(b.codomain.check(y))).toEqual([1])
      expectClose(read(b.inverse(y)), x, 1e-4, 2e-4)
    })), FC)
  })

  it('log |det ∂y_{<K−1}/∂x| equals log |det| of the autodiff Jacobian and of the float64 finite-difference one', () => {
    fc.assert(fc.property(vec(-5, 5, 1, 5), (x) => {
      const rows = x.map((_, i) => i)
      expectLogDetMatchesJacobian(b, x, rows)
      const fd = finiteDiffJacobian((u) => stick64(u).slice(0, -1), x)
      expectClose(tf.tidy(() => read(b.forwardLogDetJacobian(t(x, [x.length])))), [logAbsDet(fd)], 1e-4, 2e-4)
    }), FC)
  })

  it('maps 0 to the uniform vector and acts on the last dim of a batch', () => tf.tidy(() => {
    expectClose(read(b.forward(tf.zeros([3]))), [0.25, 0.25, 0.25, 0.25], 1e-6)
    const x = t([0.5, -1, 2, 0, 3, -3, 1, 1, -0.2, 0.7, 0.1, -2], [2, 3, 2])
    const ld = b.forwardLogDetJacobian(x)
    expect(ld.shape).toEqual([2, 3])
    const one = [0, 1, 2, 3, 4, 5].map((i) => read(b.forwardLogDetJacobian(tf.slice(x.reshape([6, 2]), [i, 0], [1, 2])))[0]!)
    expectClose(read(ld), one, 1e-6, 1e-6)
    expect(b.forward(x).shape).toEqual([2, 3, 3])
    expect(b.forwardShape([2, 3, 2])).toEqual([2, 3, 3])
    expect(b.inverseShape([2, 3, 3])).toEqual([2, 3, 2])
    expect([b.domain.eventDims, b.codomain.eventDims]).toEqual([1, 1])
  }))

  it('stays finite and on the simplex at |x| = 40, where σ saturates in float32', () => tf.tidy(() => {
    const x = t([40, -40, 40, -40], [4])
    const y = b.forward(x)
    expect(read(b.codomain.check(y))).toEqual([1])
    for (const v of [...read(b.forwardLogDetJacobian(x)), ...read(b.inverse(y))]) expect(Number.isFinite(v)).toBe(true)
    const g = read(tf.grad((u: tf.Tensor) => tf.add(tf.sum(b.forwardLogDetJacobian(u)), tf.sum(b.forward(u))))(x))
    g.forEach((v) => expect(Number.isFinite(v)).toBe(true))
  }))

  it('rejects shapes it cannot take with a ShapeError', () => {
    expect(() => b.inverseShape([1])).toThrow(ShapeError)
    expect(() => b.forwardShape([])).toThrow(/stickBreaking.forwardShape: expected a last dim of at least 1; got shape \[\] \(scalar\)/)
  })
})

describe('lowerCholesky', () => {
  const b = lowerCholesky()

  it('fills the lower triangle row by row with exp on the diagonal', () => tf.tidy(() => {
    expectClose(read(b.forward(t([0, 2, 0], [3]))), [1, 0, 2, 1], 1e-6)
    expect(b.forwardShape([5, 6])).toEqual([5, 3, 3])
    expect(b.inverseShape([5, 3, 3])).toEqual([5, 6])
    expect([b.domain.eventDims, b.codomain.eventDims]).toEqual([1, 2])
  }))

  it('matches the float64 map, is a Cholesky factor, and inverse(forward(x)) ≈ x', () => {
    fc.assert(fc.property(triangular(4, -3, 3), (x) => tf.tidy(() => {
      const n = side(x.length)
      const l = b.forward(t(x, [x.length]))
      expect(l.shape).toEqual([n, n])
      expectClose(read(l), lowerCholesky64(x, n), 1e-5, 1e-6)
      expect(read(b.codomain.check(l))).toEqual([1])
      expectClose(read(b.inverse(l)), x, 1e-5, 1e-6)
    })), FC)
  })

  it('log |det ∂L/∂x| = Σ diagonal entries of x, as the autodiff Jacobian of the free entries says', () => {
    fc.assert(fc.property(triangular(4, -2, 2), (x) => {
      const n = side(x.length)
      const diag = Array.from({ length: n }, (_, r) => x[r * (r + 1) / 2 + r]!).reduce((a, v) => a + v, 0)
      expectClose(tf.tidy(() => read(b.forwardLogDetJacobian(t(x, [x.length])))), [diag], 1e-5, 1e-5)
      expectLogDetMatchesJacobian(b, x, lowerIndices(n))
    }), FC)
  })

  it('rejects a last dim that is not triangular', () => {
    expect(() => b.forward(tf.zeros([4]))).toThrow(/lowerCholesky.forward: the last dim must be a triangular number n\(n\+1\)\/2/)
    expect(() => b.inverseShape([2, 3])).toThrow(ShapeError)
  })
})

describe('positive-definite: chain(lowerCholesky, choleskyOuter)', () => {
  const b = chain(lowerCholesky(), choleskyOuter())

  it('has a vector domain and a matrix codomain', () => {
    expect([b.domain.eventDims, b.codomain.eventDims]).toEqual([1, 2])
    expect(b.forwardShape([2, 6])).toEqual([2, 3, 3])
    expect(b.inverseShape([2, 3, 3])).toEqual([2, 6])
  })

  it('maps onto symmetric positive-definite matrices; inverse (Cholesky) ∘ forward ≈ id', () => {
    fc.assert(fc.property(triangular(3, -1.5, 1.5), (x) => tf.tidy(() => {
      const n = side(x.length)
      const s = b.forward(t(x, [x.length]))
      expectClose(read(s), outer64(lowerCholesky64(x, n), n), 1e-5, 1e-5)
      expect(read(b.codomain.check(s))).toEqual([1])
      expectClose(read(b.inverse(s)), x, 1e-3, 1e-3)
    })), FC)
  })

  it('log |det ∂vech Σ/∂x| = n log 2 + Σᵢ (n − i + 1) xᵢᵢ, as the autodiff and finite-difference Jacobians say', () => {
    fc.assert(fc.property(triangular(3, -1, 1), (x) => {
      const n = side(x.length)
      const formula = n * Math.LN2 + Array.from({ length: n }, (_, i) => (n - i + 1) * x[i * (i + 1) / 2 + i]!).reduce((a, v) => a + v, 0)
      expectClose(tf.tidy(() => read(b.forwardLogDetJacobian(t(x, [x.length])))), [formula], 1e-5, 1e-5)
      expectLogDetMatchesJacobian(b, x, lowerIndices(n))
      const fd = finiteDiffJacobian((u) => lowerOf(outer64(lowerCholesky64(u, n), n), n), x)
      expectClose([formula], [logAbsDet(fd)], 1e-5, 1e-5)
    }), FC)
  })

  it('gives one log-det per matrix of a batch', () => tf.tidy(() => {
    expect(b.forwardLogDetJacobian(tf.zeros([2, 4, 3])).shape).toEqual([2, 4])
    expect(choleskyOuter().forwardLogDetJacobian(tf.eye(3).reshape([1, 3, 3])).shape).toEqual([1])
  }))
})

describe('independentTransform and softmax', () => {
  it('sums the base log-det over the reinterpreted dims', () => tf.tidy(() => {
    const b = independentTransform(exp(), 1)
    expectClose(read(b.forwardLogDetJacobian(t([1, 2, 3, 4, 5, 6], [2, 3]))), [6, 15], 1e-6)
    expect([b.domain.eventDims, b.codomain.eventDims]).toEqual([1, 1])
    expect(() => independentTransform(exp(), -1)).toThrow(InvalidArgumentError)
  }))

  it('softmax is a transform onto the simplex with log as its right inverse, and no Jacobian', () => tf.tidy(() => {
    const s = softmax()
    expect(isBijector(s)).toBe(false)
    expect(isBijector(independentTransform(s, 1))).toBe(false)
    const y = t([0.2, 0.3, 0.5], [3])
    expectClose(read(s.forward(s.inverse(y))), [0.2, 0.3, 0.5], 1e-6)
  }))
})

describe('memory', () => {
  const cases: ReadonlyArray<[string, Bijector, readonly number[]]> = [
    ['stickBreaking', stickBreaking(), [0.3, -0.2]],
    ['lowerCholesky', lowerCholesky(), [0.3, -0.2, 0.1]],
    ['positive definite', chain(lowerCholesky(), choleskyOuter()), [0.3, -0.2, 0.1]],
  ]
  for (const [name, b, v] of cases) {
    it(`${name}: forward, inverse and forwardLogDetJacobian leave numTensors unchanged`, () => {
      const x = t(v, [v.length])
      const y = b.forward(x)
      expectNoLeak(() => b.forward(x))
      expectNoLeak(() => b.inverse(y))
      expectNoLeak(() => b.forwardLogDetJacobian(x))
      tf.dispose([x, y])
    })
  }
})
