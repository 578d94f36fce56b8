import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { NoTransformError, bijectTo, transformNames, transformTo } from '../../src/distributions/biject.js'
import { isBijector } from '../../src/distributions/bijectors.js'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { categorical } from '../../src/distributions/categorical.js'
import * as constraints from '../../src/distributions/constraints.js'
import type { Constraint } from '../../src/distributions/constraints.js'
import { continuousBernoulli } from '../../src/distributions/continuous-bernoulli.js'
import { delta } from '../../src/distributions/delta.js'
import type { Distribution } from '../../src/distributions/distribution.js'
import { laplace } from '../../src/distributions/laplace.js'
import { logNormal } from '../../src/distributions/log-normal.js'
import { normal } from '../../src/distributions/normal.js'
import { oneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import { relaxedBernoulli } from '../../src/distributions/relaxed-bernoulli.js'
import { relaxedOneHotCategorical } from '../../src/distributions/relaxed-one-hot-categorical.js'
import { uniform } from '../../src/distributions/uniform.js'
import { expectClose, expectNoLeak, read, t } from '../helpers.js'
import { autodiffJacobian, logAbsDet, lowerIndices } from './jacobian.js'

/** An interval that carries its bounds, as bijectTo reads them (`low`, `high`). */
const bounded = (low: number, high: number): Constraint => ({ ...constraints.interval(low, high), low, high } as Constraint)

/** Each support, an unconstrained point (one event, flat) and which outputs form a square Jacobian. */
const supports: ReadonlyArray<{ name: string; c: () => Constraint; x: number[]; outputs: (size: number) => number[] }> = [
  { name: 'real', c: () => constraints.real, x: [-1.5, 0.2, 3], outputs: (m) => [...Array(m).keys()] },
  { name: 'positive', c: () => constraints.positive, x: [-1.5, 0.2, 3], outputs: (m) => [...Array(m).keys()] },
  { name: 'unitInterval', c: () => constraints.unitInterval, x: [-1.5, 0.2, 3], outputs: (m) => [...Array(m).keys()] },
  { name: 'interval(-2, 3)', c: () => bounded(-2, 3), x: [-1.5, 0.2, 3], outputs: (m) => [...Array(m).keys()] },
  { name: 'independent(positive, 1)', c: () => constraints.independent(constraints.positive, 1), x: [-1.5, 0.2, 3], outputs: (m) => [...Array(m).keys()] },
  { name: 'simplex', c: () => constraints.simplex, x: [-1.5, 0.2, 3], outputs: () => [0, 1, 2] },
  { name: 'lowerCholesky', c: () => constraints.lowerCholesky, x: [0.3, -1, 0.5, 2, 0.1, -0.4], outputs: () => lowerIndices(3) },
  { name: 'positiveDefinite', c: () => constraints.positiveDefinite, x: [0.3, -1, 0.5], outputs: () => lowerIndices(2) },
]

describe('bijectTo', () => {
  for (const s of supports) {
    describe(s.name, () => {
      it('maps ℝⁿ into the support, inverse ∘ forward = id, and the shapes agree', () => tf.tidy(() => {
        const c = s.c(), f = bijectTo(c), x = t(s.x, [s.x.length])
        const y = f.forward(x)
        expect(read(c.check(y)).every((v) => v === 1)).toBe(true)
        expect(y.shape).toEqual(f.forwardShape(x.shape))
        expect(f.inverseShape(y.shape)).toEqual(x.shape)
        expect(f.codomain.eventDims).toBe(c.eventDims)
        expectClose(read(f.inverse(y)), s.x, 1e-4, 1e-4)
      }))

      it('log |det J| (summed over the event) equals log |det| of the autodiff Jacobian', () => {
        const f = bijectTo(s.c())
        const own = tf.tidy(() => read(f.forwardLogDetJacobian(t(s.x, [s.x.length])))).reduce((a, v) => a + v, 0)
        const size = f.forwardShape([s.x.length]).reduce((a, d) => a * d, 1)
        expectClose([own], [logAbsDet(autodiffJacobian(f.forward, s.x, s.outputs(size)))], 1e-4, 2e-4)
      })

      it('one log-det per event of a batch, and no leaks', () => {
        const f = bijectTo(s.c())
        const x = tf.tile(t(s.x, [1, s.x.length]), [2, 1])
        expect(tf.tidy(() => f.forwardLogDetJacobian(x).shape)).toEqual(f.domain.eventDims === 0 ? [2, s.x.length] : [2])
        expectNoLeak(() => f.forward(x))
        expectNoLeak(() => f.forwardLogDetJacobian(x))
        x.dispose()
      })
    })
  }

  it('interval(low, high) is sigmoid then affine: log-det = log σ(x) + log σ(−x) + log(high − low)', () => tf.tidy(() => {
    const x = 0.7, sig = 1 / (1 + Math.exp(-x))
    expectClose(read(bijectTo(bounded(-2, 3)).forward(tf.scalar(x))), [-2 + 5 * sig], 1e-6)
    expectClose(read(bijectTo(bounded(-2, 3)).forwardLogDetJacobian(tf.scalar(x))), [Math.log(sig * (1 - sig) * 5)], 1e-5)
  }))

  it('reaches the K-simplex from ℝ^{K−1} and the n×n matrices from ℝ^{n(n+1)/2}', () => {
    expect(bijectTo(constraints.simplex).inverseShape([5, 4])).toEqual([5, 3])
    expect(bijectTo(constraints.lowerCholesky).inverseShape([4, 4])).toEqual([10])
    expect(bijectTo(constraints.positiveDefinite).inverseShape([2, 3, 3])).toEqual([2, 6])
    expect(bijectTo(constraints.independent(constraints.simplex, 1)).inverseShape([2, 4])).toEqual([2, 3])
  })

  it('positive: exp by default (as Pyro), softplus on request', () => tf.tidy(() => {
    expect(bijectTo(constraints.positive).name).toBe('exp')
    expect(bijectTo(constraints.positive, 'softplus').name).toBe('softplus')
  }))

  it('every discrete support is a NoTransformError naming it; so is softmax, which is not a bijection', () => {
    const discrete = [constraints.boolean, constraints.oneHot, constraints.integerInterval(0, 3), constraints.nonNegativeInteger,
      constraints.integerRange(0, 5), constraints.independent(constraints.boolean, 1)]
    for (const c of discrete) expect(() => bijectTo(c)).toThrow(NoTransformError)
    expect(() => bijectTo(constraints.boolean)).toThrow(/bijectTo: no map from unconstrained space onto the support 'boolean' \(x ∈ \{0, 1\}\): discrete supports have none/)
    expect(() => bijectTo(constraints.simplex, 'softmax')).toThrow(/softmax is not a bijection onto the simplex/)
    expect(() => bijectTo(constraints.positive, 'sigmoid')).toThrow(/bijectTo: the transform 'sigmoid' does not map onto the support 'positive' \(x > 0\); choose 'exp' or 'softplus'/)
  })

  it('an interval maps through sigmoid then affine onto its own bounds', () => tf.tidy(() => {
    const f = bijectTo(constraints.interval(-1, 3))
    expect(read(f.forward(tf.tensor1d([0, -40, 40])))).toEqual([1, -1, 3])
    expect(read(f.inverse(tf.tensor1d([1])))[0]).toBeCloseTo(0, 5)
  }))
})

describe('bijectTo over the supports of the families', () => {
  const continuous: ReadonlyArray<[string, () => Distribution]> = [
    ['normal', () => normal(0, 1)], ['laplace', () => laplace(0, 1)], ['logNormal', () => logNormal(0, 1)],
    ['continuousBernoulli', () => continuousBernoulli({ probs: 0.3 })], ['relaxedBernoulli', () => relaxedBernoulli(0.5, { probs: 0.3 })],
    ['relaxedOneHotCategorical', () => relaxedOneHotCategorical(0.5, { probs: [0.2, 0.8] })], ['delta(toEvent 1)', () => delta(tf.zeros([3]), { eventDims: 1 })],
    ['normal.toEvent(1)', () => normal(tf.zeros([3]), 1).toEvent(1)],
  ]
  for (const [name, make] of continuous) {
    it(`${name}: forward lands in the support`, () => tf.tidy(() => {
      const d = make(), f = bijectTo(d.support)
      const shape = f.inverseShape([...d.batchShape, ...d.eventShape])
      const y = f.forward(tf.fill(shape, 0.3))
      expect(read(d.support.check(y)).every((v) => v === 1)).toBe(true)
    }))
  }

  it('discrete families (bernoulli, categorical, oneHotCategorical) have none', () => tf.tidy(() => {
    for (const d of [bernoulli({ probs: 0.3 }), categorical({ probs: [0.2, 0.8] }), oneHotCategorical({ probs: [0.2, 0.8] })]) {
      expect(() => bijectTo(d.support)).toThrow(NoTransformError)
    }
  }))

  it('uniform: its interval support carries its bounds, so bijectTo maps onto (low, high)', () => tf.tidy(() => {
    const y = read(bijectTo(uniform(0, 2).support).forward(tf.tensor1d([-3, 0, 3])))
    y.forEach((v) => { expect(v).toBeGreaterThan(0); expect(v).toBeLessThan(2) })
    expect(y[1]).toBeCloseTo(1, 6)
  }))
})

describe('transformTo', () => {
  it('is bijectTo except where Pyro parameterises differently: softmax for the simplex', () => tf.tidy(() => {
    const s = transformTo(constraints.simplex)
    expect(s.name).toBe('softmax')
    expect(isBijector(s)).toBe(false)
    expect(s.inverseShape([3])).toEqual([3])
    expectClose(read(s.forward(tf.zeros([4]))), [0.25, 0.25, 0.25, 0.25], 1e-6)
    expect(transformTo(constraints.simplex, 'stickBreaking').name).toBe('stickBreaking')
    expect(transformTo(constraints.positive).name).toBe('exp')
    expect(transformTo(constraints.real).name).toBe('identity')
  }))

  it('exp and softplus give the same constrained value from their own inverses', () => tf.tidy(() => {
    const y = t([1e-4, 0.5, 7, 300], [4])
    for (const name of ['exp', 'softplus'] as const) {
      const f = transformTo(constraints.positive, name)
      expectClose(read(f.forward(f.inverse(y))), [1e-4, 0.5, 7, 300], 1e-5)
    }
  }))

  it('lists the transforms of each constraint, default first', () => {
    expect(transformNames(constraints.positive)).toEqual(['exp', 'softplus'])
    expect(transformNames(constraints.simplex)).toEqual(['softmax', 'stickBreaking'])
    expect(transformNames(constraints.independent(constraints.positive, 2))).toEqual(['exp', 'softplus'])
    expect(transformNames(constraints.boolean)).toEqual([])
    expect(() => transformTo(constraints.nonNegativeInteger)).toThrow(NoTransformError)
  })
})
