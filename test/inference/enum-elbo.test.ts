import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { categorical } from '../../src/distributions/categorical.js'
import { normal } from '../../src/distributions/normal.js'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { observe, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { enumElbo } from '../../src/inference/enum-elbo.js'
import { read } from '../helpers.js'

const ctx = (seed: number) => ({ seed, handlers: [], baselines: new Map() })
const empty = () => gen(function* () { /* no latents */ })

const W = [0.2, 0.5, 0.3]
const LOCS = [-2, 0.5, 3]
const X = [-1.7, 0.1, 2.5, 3.3, -2.4, 0.9]

/** log Σ_k w_k N(x | μ_k, 1), summed over the points, in float64. */
const exactMixture = (xs: readonly number[]): number => xs.reduce((acc, x) => {
  const terms = W.map((w, k) => Math.log(w) - 0.5 * Math.log(2 * Math.PI) - 0.5 * (x - LOCS[k]!) ** 2)
  const m = Math.max(...terms)
  return acc + m + Math.log(terms.reduce((s, t) => s + Math.exp(t - m), 0))
}, 0)

describe('enumElbo: model-side enumeration', () => {
  it('a Gaussian mixture in a data plate gives the exact log marginal likelihood', () => tf.tidy(() => {
    const mixture = (x: tf.Tensor) => plate('data', X.length, {}, () => gen(function* () {
      const z = yield* sample('z', categorical({ probs: W }), { enumerate: 'parallel' })
      yield* observe('x', normal(tf.gather(tf.tensor1d(LOCS), z), 1), x)
    }))
    const b = read(enumElbo().estimate(mixture, empty, [tf.tensor1d(X)] as const, ctx(0)).bound)[0]!
    expect(Math.abs(b - exactMixture(X))).toBeLessThan(1e-4 * Math.abs(exactMixture(X)) + 1e-3)
  }))
})
