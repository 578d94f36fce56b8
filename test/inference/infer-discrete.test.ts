import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { categorical } from '../../src/distributions/categorical.js'
import { normal } from '../../src/distributions/normal.js'
import { markov } from '../../src/dsl/markov.js'
import { observe, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { inferDiscrete } from '../../src/inference/infer-discrete.js'
import { read } from '../helpers.js'

const PI = [0.5, 0.3, 0.2]
const A = [[0.7, 0.2, 0.1], [0.15, 0.7, 0.15], [0.3, 0.2, 0.5]]
const MU = [-1.5, 0, 1.5]
const logNormal = (x: number, m: number): number => -0.5 * Math.log(2 * Math.PI) - 0.5 * (x - m) ** 2

const hmm = (ys: readonly number[]) => () => gen(function* () {
  const logA = tf.log(tf.tensor2d(A))
  yield* markov(ys.length, { history: 1 }, (t, prev: tf.Tensor | undefined) => gen(function* () {
    const x = yield* sample(`x_${t}`, categorical({ logits: prev === undefined ? tf.log(tf.tensor1d(PI)) : tf.gather(logA, prev) }), { enumerate: 'parallel' })
    yield* observe(`y_${t}`, normal(tf.gather(tf.tensor1d(MU), x), 1), tf.scalar(ys[t]!))
    return x
  }), undefined)
})

/** The most probable state path by exhaustive search over all K^T paths, in float64. */
const bruteViterbi = (ys: readonly number[]): number[] => {
  let best: number[] = [], bestLp = -Infinity
  const T = ys.length
  for (let code = 0; code < 3 ** T; code++) {
    const path = Array.from({ length: T }, (_, t) => Math.floor(code / 3 ** t) % 3)
    const lp = path.reduce((s, x, t) => s + (t === 0 ? Math.log(PI[x]!) : Math.log(A[path[t - 1]!]![x]!)) + logNormal(ys[t]!, MU[x]!), 0)
    if (lp > bestLp) { bestLp = lp; best = path }
  }
  return best
}

describe('inferDiscrete', () => {
  it('temperature 0 on an HMM is the most probable path (exhaustive search over 3^7 paths)', () => {
    const ys = [-1.2, -0.3, 0.4, 1.9, 0.2, 0.7, -1.6]
    const values = inferDiscrete(hmm(ys), { temperature: 0 })()
    const path = ys.map((_, t) => read(values[`x_${t}`]!)[0]!)
    expect(path).toEqual(bruteViterbi(ys))
    expect(values['x_0']!.shape).toEqual([])
    tf.dispose(values)
  })

  it('temperature 1 on a mixture draws each point\'s assignment from its exact posterior', () => {
    const W = [0.3, 0.7], LOCS = [-1, 1], N = 4000, x0 = 0.2
    const model = (x: tf.Tensor) => plate('data', N, {}, () => gen(function* () {
      const z = yield* sample('z', categorical({ probs: W }), { enumerate: 'parallel' })
      yield* observe('x', normal(tf.gather(tf.tensor1d(LOCS), z), 1), x)
    }))
    const x = tf.fill([N], x0)
    const { z } = inferDiscrete(model, { temperature: 1, seed: 3 })(x)
    expect(z!.shape).toEqual([N])
    const ones = read(z!).reduce((s, v) => s + v, 0) / N
    const post = (k: number) => W[k]! * Math.exp(logNormal(x0, LOCS[k]!))
    const p1 = post(1) / (post(0) + post(1))
    expect(Math.abs(ones - p1)).toBeLessThan(5 * Math.sqrt(p1 * (1 - p1) / N))
    const map = inferDiscrete(model, { temperature: 0 })(x)
    expect(new Set(read(map['z']!))).toEqual(new Set([p1 > 0.5 ? 1 : 0]))
    tf.dispose([x, z!, map['z']!])
  })

  it('frees what it made, and rejects other temperatures', () => {
    const ys = [0.3, -0.2]
    const before = tf.memory().numTensors
    tf.dispose(inferDiscrete(hmm(ys), { temperature: 0 })())
    expect(tf.memory().numTensors).toBe(before)
    expect(() => inferDiscrete(hmm(ys), { temperature: 0.5 as 0 })).toThrow(InvalidArgumentError)
  })
})
