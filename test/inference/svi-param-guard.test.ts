/**
 * svi.step's promise on a non-finite step — "the update was not applied and the parameters are those
 * of the last good step" — holds also when the loss and every gradient are finite but the update
 * itself overflows a parameter (a learning rate too large, a parameter near the float32 maximum):
 * step throws a NonFiniteError, and the params, the optimizer's state and the step counter are
 * bit for bit those of the last good step.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { observe, param } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import { NonFiniteError, svi } from '../../src/inference/svi.js'

/** One param w (initially `w0`) and one observation x ~ N(w, scale): the loss gradient is (w − x)/scale². */
const model = (w0: number, scale: number) => (x: tf.Tensor) => gen(function* () {
  const w = yield* param('w', () => tf.scalar(w0))
  yield* observe('x', normal(w, scale), x)
})
const guide = (_x: tf.Tensor) => gen(function* () { /* no latents */ })

/** The float32 bits of every param variable, and every optimizer variable and slot (own fields), read now. */
const bitsOf = (s: ReturnType<typeof svi>): number[][] => {
  const own = Object.values(s.optimizer).flatMap((v: unknown): tf.Tensor[] =>
    v instanceof tf.Variable ? [v] : Array.isArray(v) ? v.flatMap((slot: { variable?: tf.Variable } | undefined) => (slot?.variable === undefined ? [] : [slot.variable])) : [])
  return [...s.params.variables(), ...own].map((t) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer)))
}

describe('svi.step when the update overflows a parameter', () => {
  it('sgd(1e38) with a gradient of 10: a NonFiniteError; w, the optimizer and the step counter are those of the last good step', () => {
    const s = svi({ optimizer: tf.train.sgd(1e38), loss: elbo(), seed: 1 })
    const [near, far] = [tf.scalar(1 - 1e-38), tf.scalar(-9)]
    s.step(model(1, 1), guide, near)   // w − 1e38 · (1 − (1 − 1e-38)) ≈ w: a good step
    const good = bitsOf(s)
    expect(Number.isFinite(s.params.value('w')!.dataSync()[0])).toBe(true)
    expect(() => s.step(model(1, 1), guide, far)).toThrow(NonFiniteError)   // w − 1e38 · 10 = −∞
    expect(() => s.step(model(1, 1), guide, far)).toThrow(/the update was not applied and the parameters are those of the last good step/)
    expect(bitsOf(s)).toEqual(good)
    expect([s.state.step, s.optimizer.iterations]).toEqual([1, 1])
    s.params.dispose(); s.optimizer.dispose(); tf.dispose([near, far])
  })

  it('adam(1e38) with w at 3e38 pulled upwards: a NonFiniteError on the first step; w unchanged and no optimizer state created', () => {
    const s = svi({ optimizer: tf.train.adam(1e38), loss: elbo(), seed: 1 })
    const x = tf.scalar(3.4e38)   // loss (x − w)²/(2·1e40) and its gradient are finite; Adam's first step is ≈ lr: 3e38 + 1e38 = +∞
    s.init(model(3e38, 1e20), guide, x)
    const before = bitsOf(s)
    const tensors = tf.memory().numTensors
    expect(() => s.step(model(3e38, 1e20), guide, x)).toThrow(NonFiniteError)
    expect(bitsOf(s)).toEqual(before)
    expect(before).toHaveLength(3)   // w, β₁ᵗ, β₂ᵗ: no moment slots were created
    expect([s.state.step, s.optimizer.iterations]).toEqual([0, 0])
    expect(tf.memory().numTensors).toBe(tensors)
    s.params.dispose(); s.optimizer.dispose(); x.dispose()
  })

  it('adam: after good steps, an overflowing one leaves w, both moments, β-powers and iterations bit for bit', () => {
    const s = svi({ optimizer: tf.train.adam(1e38), loss: elbo(), seed: 1 })
    const [here, up] = [tf.scalar(3e38), tf.scalar(3.4e38)]
    s.step(model(3e38, 1e20), guide, here)   // gradient 0: Adam's step is 0, the moment slots are created
    s.step(model(3e38, 1e20), guide, here)
    const good = bitsOf(s)
    expect(good).toHaveLength(5)
    expect(() => s.step(model(3e38, 1e20), guide, up)).toThrow(NonFiniteError)
    expect(bitsOf(s)).toEqual(good)
    expect([s.state.step, s.optimizer.iterations]).toEqual([2, 2])
    s.params.dispose(); s.optimizer.dispose(); tf.dispose([here, up])
  })
})
