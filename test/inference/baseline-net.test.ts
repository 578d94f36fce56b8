/**
 * Network baselines (Pyro's `nn_baseline`): `sample(name, d, { baseline: { net, input } })`
 * subtracts b = net(input) from the site's cost in its score-function term and trains the
 * network by regressing the cost, −Σ (b − ⟂cost)² in the surrogate. The gradient stays
 * unbiased whatever b is; trained, b approaches each element's expected cost.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import type { Distribution } from '../../src/distributions/distribution.js'
import { normal } from '../../src/distributions/normal.js'
import type { Network } from '../../src/dsl/messages.js'
import { module, observe, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { elbo } from '../../src/inference/elbo.js'
import { SiteError } from '../../src/inference/interpreter.js'
import { svi } from '../../src/inference/svi.js'
import { read } from '../helpers.js'

/** `d` with its draws cut from the gradient, also once expanded: the score function carries it. */
const nonReparameterized = (d: Distribution): Distribution => ({
  ...d, reparameterized: false, rsample: undefined,
  expand: (b) => nonReparameterized(d.expand(b)), toEvent: (n) => nonReparameterized(d.toEvent(n)),
})

const X = [-0.5, 2.0, 0.7, 1.4]
const x = () => tf.tensor1d(X)
const model = () => plate('data', 4, {}, () => gen(function* () {
  const z = yield* sample('z', normal(0, 1))
  yield* observe('x', normal(z, 1), x())
}))
/** q(z_i) = N(loc_i, 1), not reparameterised, with a network baseline (registered as a module, as with Pyro's pyro.module). */
const guideWith = (loc: tf.Tensor, net: Network<tf.Tensor, tf.Tensor>) => () => gen(function* () {
  yield* module('baseline', net)
  yield* plate('data', 4, {}, () => gen(function* () {
    yield* sample('z', nonReparameterized(normal(loc, 1)), { baseline: { net, input: x() } })
  }))
})
/** A baseline of one free value per point (its input ignored). */
const perPoint = (init: number) => {
  const v = tf.variable(tf.fill([4], init))
  return { net: { apply: () => v, variables: [v] } as Network<tf.Tensor, tf.Tensor>, v }
}
const ctx = (seed: number) => ({ seed, handlers: [], baselines: new Map<string, number>() })

describe('network baselines', () => {
  it('leave the score-function gradient unbiased: a far-off baseline gives the exact gradient (20 000 particles)', () => {
    const { net, v } = perPoint(25)
    const g = tf.tidy(() => read(tf.grad((loc: tf.Tensor) => elbo({ numParticles: 20000 }).estimate(model, guideWith(loc, net), [] as const, ctx(3)).surrogate)(tf.zeros([4]))))
    // Exact d ELBO / d loc_i at loc = 0: x_i − 2·loc_i = x_i. Tolerance: Pyro's 0.06 at 20k particles; the baseline 25 adds
    // variance (sd of log q' · (cost − 25) ≈ 30 per particle → SE ≈ 0.21), so 5 SE here: 1.1.
    g.forEach((gi, i) => expect(Math.abs(gi - X[i]!)).toBeLessThan(1.1))
    v.dispose()
  })

  it('are trained by svi to each point\'s expected cost (the per-point ELBO, closed form)', () => {
    const { net, v } = perPoint(0)
    const loc = tf.tensor1d([0.3, 0.8, 0.1, 0.6])
    const s = svi({ optimizer: tf.train.adam(0.1), loss: elbo({ numParticles: 64 }), seed: 2 })
    for (let i = 0; i < 400; i++) s.step(model, guideWith(loc, net))
    // E_q[log N(z; 0, 1) + log N(x; z, 1) − log N(z; m, 1)] with q = N(m, 1).
    const m = read(loc)
    const expected = X.map((xi, i) => -Math.log(2 * Math.PI) - 0.5 * (m[i]! ** 2 + 1) - 0.5 * ((xi - m[i]!) ** 2 + 1) + 0.5 * Math.log(2 * Math.PI * Math.E))
    // The cost's sd per point is ≈ 1.3; averaged over 64 particles and Adam's last steps, ±0.25 holds (measured spread ≈ 0.1).
    read(v).forEach((b, i) => expect(Math.abs(b - expected[i]!)).toBeLessThan(0.25))
    s.params.dispose(); loc.dispose(); v.dispose()
  })

  it('a network the guide does not register is registered by the store as module \'<site>.baseline\' and trained', () => {
    const { net, v } = perPoint(0)
    const unregistered = () => plate('data', 4, {}, () => gen(function* () {
      yield* sample('z', nonReparameterized(normal(tf.zeros([4]), 1)), { baseline: { net, input: x() } })
    }))
    const s = svi({ optimizer: tf.train.adam(0.1), loss: elbo(), seed: 1 })
    for (let i = 0; i < 5; i++) s.step(model, unregistered)
    expect(s.params.entries().map((e) => e.name)).toEqual(['z.baseline'])
    expect(read(v).every((b) => b < -0.2)).toBe(true)   // moved towards the (negative) expected costs
    s.params.dispose(); v.dispose()
  })

  it('a network output that does not broadcast to the site\'s plates is a SiteError naming the site and both shapes', () => tf.tidy(() => {
    const wide = { apply: () => tf.zeros([4, 3]), variables: [] } as Network<tf.Tensor, tf.Tensor>
    expect(() => elbo().estimate(model, guideWith(tf.zeros([4]), wide), [] as const, ctx(0))).toThrow(SiteError)
    expect(() => elbo().estimate(model, guideWith(tf.zeros([4]), wide), [] as const, ctx(0))).toThrow(/site 'z': the baseline network's output has shape \[4, 3\].*cost of shape \[4\]/)
  }))

  it('the option names its three forms when malformed', () => {
    expect(() => sample('z', normal(0, 1), { baseline: { net: { apply: (t: tf.Tensor) => t, variables: [] } } as never })).toThrow(InvalidArgumentError)
    expect(() => sample('z', normal(0, 1), { baseline: { net: 3 } as never })).toThrow(/\{ net: a network, input: its input tensor \}/)
  })
})
