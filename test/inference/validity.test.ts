/**
 * Model/guide validity, after Pyro's test_valid_models: small pairs that must
 * train under every estimator that applies, and pairs that must fail with a
 * given message.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import * as constraints from '../../src/distributions/constraints.js'
import { delta } from '../../src/distributions/delta.js'
import { normal } from '../../src/distributions/normal.js'
import { oneHotCategorical } from '../../src/distributions/one-hot-categorical.js'
import { relaxedOneHotCategorical } from '../../src/distributions/relaxed-one-hot-categorical.js'
import { straightThrough } from '../../src/distributions/straight-through.js'
import { factor, observe, param, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { Message } from '../../src/dsl/messages.js'
import { elbo } from '../../src/inference/elbo.js'
import { iwae } from '../../src/inference/iwae.js'
import type { Loss, ProgramFn } from '../../src/inference/loss.js'
import { svi } from '../../src/inference/svi.js'

type Fn = ProgramFn<readonly [tf.Tensor], Message>
const loc = (name: string, init = 0) => param(name, () => tf.scalar(init))
const pos = (name: string) => param(name, () => tf.scalar(1), { constraint: constraints.positive })

interface Case { readonly name: string; readonly model: Fn; readonly guide: Fn; readonly data: () => tf.Tensor; readonly reparameterized: boolean }

const VALID: Case[] = [
  { name: 'one Gaussian latent', reparameterized: true, data: () => tf.tensor1d([0.5, 1.5]),
    model: (x) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(tf.broadcastTo(z, x.shape), 1).toEvent(1), x) }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m'), yield* pos('s'))) }) },
  { name: 'a hierarchical chain, guide in another order', reparameterized: true, data: () => tf.tensor1d([1, 2]),
    model: (x) => gen(function* () {
      const z1 = yield* sample('z1', normal(0, 1)); const z2 = yield* sample('z2', normal(z1, 1))
      yield* observe('x', normal(tf.broadcastTo(z2, x.shape), 1).toEvent(1), x)
    }),
    guide: () => gen(function* () { const z2 = yield* sample('z2', normal(yield* loc('m2'), 1)); yield* sample('z1', normal(tf.mul(z2, yield* loc('a')), 1)) }) },
  { name: 'a subsampled plate with a global latent', reparameterized: true, data: () => tf.linspace(-1, 1, 8),
    model: (x) => gen(function* () {
      const mu = yield* sample('mu', normal(0, 1))
      yield* plate('data', 8, { subsampleSize: 4 }, (idx) => gen(function* () { yield* observe('x', normal(tf.broadcastTo(mu, [4]), 1), tf.gather(x, idx)) }))
    }),
    guide: () => gen(function* () { yield* sample('mu', normal(yield* loc('m'), yield* pos('s'))) }) },
  { name: 'a factor term', reparameterized: true, data: () => tf.tensor1d([0.3]),
    model: (x) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* factor('pull', tf.neg(tf.square(z))); yield* observe('x', normal(tf.broadcastTo(z, x.shape), 1).toEvent(1), x) }),
    guide: () => gen(function* () { yield* sample('z', normal(yield* loc('m'), 1)) }) },
  { name: 'a MAP (delta) guide', reparameterized: true, data: () => tf.tensor1d([2]),
    model: (x) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(tf.broadcastTo(z, x.shape), 1).toEvent(1), x) }),
    guide: () => gen(function* () { yield* sample('z', delta(yield* loc('z_map'))) }) },
  { name: 'a discrete latent with the score function', reparameterized: false, data: () => tf.tensor1d([1.7]),
    model: (x) => gen(function* () { const z = yield* sample('z', bernoulli({ probs: 0.5 })); yield* observe('x', normal(tf.broadcastTo(tf.mul(z, 2), x.shape), 1).toEvent(1), x) }),
    guide: () => gen(function* () { yield* sample('z', bernoulli({ logits: yield* loc('l') })) }) },
  { name: 'a straight-through one-hot latent', reparameterized: true, data: () => tf.tensor1d([1]),
    model: (x) => gen(function* () {
      const c = yield* sample('c', oneHotCategorical({ logits: tf.zeros([3]) }))
      yield* observe('x', normal(tf.broadcastTo(tf.sum(tf.mul(c, tf.tensor1d([-1, 0, 1]))), x.shape), 1).toEvent(1), x)
    }),
    guide: () => gen(function* () { yield* sample('c', straightThrough(relaxedOneHotCategorical(0.5, { logits: yield* param('cl', () => tf.zeros([3])) }))) }) },
]

const LOSSES: ReadonlyArray<readonly [string, Loss]> = [['elbo', elbo()], ['elbo kl auto', elbo({ kl: 'auto' })], ['iwae(3)', iwae({ numParticles: 3, vectorizeParticles: false })]]   // these programs broadcast to x.shape themselves: one run per particle

describe.each(VALID)('valid: $name', (c) => {
  it.each(LOSSES)('trains under %s', (lossName, loss) => {
    const x = c.data()
    const s = svi({ optimizer: tf.train.adam(0.05), loss, seed: 3 })
    if (lossName.startsWith('iwae') && !c.reparameterized) {
      expect(() => s.step(c.model, c.guide, x)).toThrow(/not reparameterised/)
    } else {
      const first = s.step(c.model, c.guide, x)
      const snapshot = s.params.variables().map((v) => Array.from(v.dataSync()))
      const losses = [first, ...Array.from({ length: 4 }, () => s.step(c.model, c.guide, x))]
      losses.forEach((l) => expect(Number.isFinite(l)).toBe(true))
      // the steps moved the parameters
      expect(s.params.variables().map((v) => Array.from(v.dataSync()))).not.toEqual(snapshot)
    }
    s.params.dispose(); x.dispose()
  })
})

const z = () => gen(function* () { yield* sample('z', normal(0, 1)) })
const INVALID: ReadonlyArray<readonly [string, Fn, Fn, RegExp]> = [
  ['the guide misses a latent site',
    (x) => gen(function* () { yield* sample('z', normal(0, 1)); yield* sample('w', normal(0, 1)); yield* observe('x', normal(0, 1), x) }), () => z(),
    /the model's latent site 'w' is not sampled by the guide; the guide samples 'z'/],
  ['the guide samples a site the model lacks',
    (x) => gen(function* () { yield* observe('x', normal(0, 1), x) }), () => z(),
    /the guide samples site 'z', which the model does not have/],
  ['the guide samples an observed site',
    (x) => gen(function* () { yield* observe('z', normal(0, 1), x) }), () => z(),
    /the guide samples site 'z', which is observed in the model/],
  ['a site name is used twice',
    (x) => gen(function* () { yield* sample('z', normal(0, 1)); yield* observe('z', normal(0, 1), x) }), () => z(),
    /duplicate site name 'z'/],
  ['an observation has the wrong shape',
    (x) => gen(function* () { yield* sample('z', normal(0, 1)); yield* observe('x', normal(tf.zeros([3]), 1).toEvent(1), x) }), () => z(),
    /site 'x' \(observed\): normal.logProb: value of shape \[\] \(scalar\) does not fit/],
  ['the guide gives a latent a value outside the model’s support',
    (x) => gen(function* () { yield* sample('z', bernoulli({ probs: 0.5 })); yield* observe('x', normal(0, 1), x) }), () => z(),
    /site 'z' \(latent\): bernoulli.logProb: value outside the support \(x ∈ \{0, 1\}\)/],
]

describe('invalid pairs fail with a message naming the site', () => {
  it.each(INVALID)('%s', (_, model, guide, message) => {
    const x = tf.scalar(0.5)
    const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 1 })
    const g: Fn = (a) => gen(function* () { yield* loc('unused'); yield* guide(a) })
    expect(() => s.step(model, g, x)).toThrow(message)
    s.params.dispose(); x.dispose()
  })
})
