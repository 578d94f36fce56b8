/**
 * Bad inputs at sites and to `svi.step` / `svi.evaluate` (B13–B28): wrong
 * shapes and values at `observe`, arrays where tensors belong, batches of
 * different lengths, bad site names, guides that do not fit the model. Each is a
 * named error naming the site or argument, and the param store, the SVI state
 * and the tensor count are as before — also on a fresh store, whose first step
 * would otherwise have created params.
 */
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, it } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import { bernoulli, categorical, normal } from '../../src/distributions/index.js'
import { module, observe, param, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { InvalidArgumentError, SupportError } from '../../src/errors.js'
import { elbo } from '../../src/inference/elbo.js'
import { SiteError } from '../../src/inference/interpreter.js'
import { iwae } from '../../src/inference/iwae.js'
import { svi } from '../../src/inference/svi.js'
import type { Svi } from '../../src/inference/svi.js'
import { mlp } from '../../src/models/networks.js'
import { guide, model } from '../inference/conjugate.js'
import { expectNamed } from './expect-named.js'
import type { Watched } from './expect-named.js'

const kept: tf.Tensor[] = []
const keep = <T extends tf.Tensor>(x: T): T => { kept.push(x); return x }
const sessions: Svi[] = []
afterAll(() => { tf.dispose(kept); for (const s of sessions) s.params.dispose() })

let x4: tf.Tensor
beforeAll(() => { x4 = keep(tf.tensor1d([1.2, -0.3, 2.0, 0.7])) })
const g = guide({ loc: 0, scale: 1 })

/** An SVI session; `trained` runs one good step first, so the store holds 'loc' and 'scale'. */
const session = (trained: boolean): Svi => {
  const s = svi({ optimizer: tf.train.sgd(0.1), loss: elbo(), seed: 1 })
  sessions.push(s)
  if (trained) s.step(model, g, x4)
  return s
}
const watch = (s: Svi, ...tensors: tf.Tensor[]): Watched => ({ store: s.params, tensors: [x4, ...tensors], values: () => ({ ...s.state }) })

/** A model whose likelihood at 'x' is `lik(z)`; the data `x` must fit it. */
const modelWith = (lik: (z: tf.Tensor) => Parameters<typeof observe>[1]) => (x: tf.Tensor) => gen(function* () {
  const z = yield* sample('z', normal(0, 1))
  yield* observe('x', lik(z), x)
})

describe('bad observations (the model sees data that does not fit its likelihood)', () => {
  const vec3 = modelWith((z) => normal(tf.broadcastTo(z, [4, 3]), 1).toEvent(1))

  it('B13 observe: data [4] where the likelihood has event shape [3] is a SiteError naming the site and both shapes (fresh store: no params left behind)', async () => {
    for (const trained of [false, true]) {
      const s = session(trained)
      await expectNamed(() => s.step(vec3, g, x4), SiteError, ["site 'x' (observed)", 'value of shape [4]', 'batchShape [4]', 'eventShape [3]'], watch(s))
    }
  })

  it('B14 observe: data of rank 3 [4, 3, 2] for a rank-2 likelihood is a SiteError naming the shapes', async () => {
    const s = session(true), x = keep(tf.zeros([4, 3, 2]))
    await expectNamed(() => s.step(vec3, g, x), SiteError, ["site 'x'", 'value of shape [4, 3, 2]', 'eventShape [3]'], watch(s, x))
  })

  it('B15 observe: a Bernoulli value 2 is a SupportError naming the site, the value and its index', async () => {
    const s = session(true), x = keep(tf.tensor1d([0, 1, 2, 0]))
    const m = modelWith((z) => bernoulli({ logits: tf.broadcastTo(z, [4]) }).toEvent(1))
    await expectNamed(() => s.step(m, g, x), SupportError, ["site 'x' (observed)", 'bernoulli.logProb', 'x ∈ {0, 1}', 'got 2 at index [2]'], watch(s, x))
  })

  it('B16 observe: a negative category index (−1, a negative count of a class) is a SupportError naming the range', async () => {
    const s = session(false), x = keep(tf.tensor1d([0, 1, -1, 0], 'int32'))
    const m = modelWith(() => categorical({ logits: tf.zeros([4, 3]) }).toEvent(1))
    await expectNamed(() => s.step(m, g, x), SupportError, ["site 'x' (observed)", 'integer 0 ≤ x ≤ 2', 'got -1 at index [2]'], watch(s, x))
  })

  it('B17 observe: category index 3 with K = 3 (out of range) is a SupportError', async () => {
    const s = session(true), x = keep(tf.tensor1d([0, 1, 3, 0], 'int32'))
    const m = modelWith(() => categorical({ logits: tf.zeros([4, 3]) }).toEvent(1))
    await expectNamed(() => s.step(m, g, x), SupportError, ["site 'x' (observed)", 'integer 0 ≤ x ≤ 2', 'got 3 at index [2]'], watch(s, x))
  })
})

describe('bad arguments to svi.step and svi.evaluate', () => {
  const pairModel = (x: tf.Tensor, _c: tf.Tensor) => model(x)
  const pairGuide = (x: tf.Tensor, _c: tf.Tensor) => g(x)

  it('B18 svi.step(model, guide, [x]): an array where the tensors belong is an InvalidArgumentError (was a raw TypeError/RangeError)', async () => {
    for (const trained of [false, true]) {
      const s = session(trained)
      const step = s.step as unknown as (...a: unknown[]) => number
      await expectNamed(() => step(model, g, [x4]), InvalidArgumentError, ['svi.step', 'argument 0 is an array', 'expected the batch\'s tensors as separate arguments'], watch(s))
    }
  })

  it('B19 svi.step(model, guide, x, c) with x [4] and c [3] is an InvalidArgumentError naming both arguments (was silently accepted)', async () => {
    const s = session(false), c = keep(tf.zeros([3]))
    await expectNamed(() => s.step(pairModel, pairGuide, x4, c), InvalidArgumentError, ['svi.step', 'argument 1 has 3 data points', 'argument 0 has 4', 'expected every tensor argument of a batch to have the same leading (data) dim'], watch(s, c))
  })

  it('B20 svi.evaluate with mismatched batch lengths is refused the same way', async () => {
    const s = session(true), c = keep(tf.zeros([2, 5]))
    await expectNamed(() => s.evaluate(pairModel, pairGuide, x4, c), InvalidArgumentError, ['svi.evaluate', 'argument 1 has 2 data points (shape [2, 5])', 'argument 0 has 4'], watch(s, c))
  })

  it('B21 iwae(0), elbo({ numParticles: 0 }) and svi({ clipNorm: 0 }) name the option and the expected range', async () => {
    await expectNamed(() => iwae(0), InvalidArgumentError, ['iwae', 'numParticles', 'positive integer', 'got 0'])
    await expectNamed(() => elbo({ numParticles: 0 }), InvalidArgumentError, ['elbo', 'numParticles', 'positive integer', 'got 0'])
    const optimizer = tf.train.sgd(0.1)
    await expectNamed(() => svi({ optimizer, loss: elbo(), clipNorm: 0 }), InvalidArgumentError, ['svi', 'clipNorm', '> 0', 'got 0'])
    optimizer.dispose()
  })
})

describe('bad site names and guides that do not fit the model', () => {
  it('B22 a duplicate site name is a SiteError naming the site', async () => {
    const s = session(false)
    const dup = (x: tf.Tensor) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('z', normal(tf.broadcastTo(z, x.shape), 1).toEvent(1), x)
    })
    await expectNamed(() => s.step(dup, g, x4), SiteError, ["duplicate site name 'z'", 'must be unique within one run'], watch(s))
  })

  it('B23 an empty site name is an InvalidArgumentError naming the primitive', async () => {
    const d = normal(keep(tf.scalar(0)), keep(tf.scalar(1)))
    await expectNamed(() => sample('', d), InvalidArgumentError, ['sample', 'site name must be a non-empty string', 'got ""'])
  })

  it('B24 a guide that samples a site the model does not have is a SiteError naming it and the model\'s sites', async () => {
    const s = session(true)
    const extra = (x: tf.Tensor) => gen(function* () {
      const loc = yield* param('loc', () => tf.scalar(0))
      yield* sample('z', normal(loc, 1))
      yield* sample('w', normal(loc, 1))
    })
    await expectNamed(() => s.step(model, extra, x4), SiteError, ["the guide samples site 'w'", 'which the model does not have', "the model's sites are 'z', 'x'"], watch(s))
  })

  it('B25 a guide missing a latent site whose name is built at run time is a SiteError naming the missing site', async () => {
    const s = session(false)
    const looped = (x: tf.Tensor) => gen(function* () {
      for (let i = 0; i < 2; i++) yield* sample(`z${i}` as string, normal(0, 1))
      yield* observe('x', normal(tf.zeros(x.shape), 1).toEvent(1), x)
    })
    const partial = (_x: tf.Tensor) => gen(function* () {
      const loc = yield* param('loc', () => tf.scalar(0))
      yield* sample('z0' as string, normal(loc, 1))
    })
    await expectNamed(() => s.step(looped, partial, x4), SiteError, ["the model's latent site 'z1' is not sampled by the guide", "the guide samples 'z0'", "Add sample('z1', …)"], watch(s))
  })

  it('B26 a guide that samples an observed site is a SiteError saying only latent sites may be sampled', async () => {
    const s = session(true)
    const sampler = (x: tf.Tensor) => gen(function* () {
      const loc = yield* param('loc', () => tf.scalar(0))
      yield* sample('z', normal(loc, 1))
      yield* sample('x', normal(tf.zeros(x.shape), 1).toEvent(1))
    })
    await expectNamed(() => s.step(model, sampler, x4), SiteError, ["the guide samples site 'x'", 'observed in the model', 'only latent sites'], watch(s))
  })

  it('B27 a param named like a registered module is an InvalidArgumentError naming the clash (no param created)', async () => {
    const s = session(true)
    const net = mlp({ sizes: [1, 2], seed: 1 })
    const clash = (x: tf.Tensor) => gen(function* () {
      yield* module('enc', net)
      const loc = yield* param('enc', () => tf.scalar(0))
      yield* sample('z', normal(loc, 1))
    })
    await expectNamed(() => s.step(model, clash, x4), InvalidArgumentError, ["param 'enc'", 'already used by a module'], { ...watch(s), values: () => s.params.entries().map((e) => e.name) })
    net.dispose()
  })

  it('B28 a param whose init lies outside its constraint is an InvalidArgumentError naming the param and the constraint', async () => {
    const s = session(false)
    const bad = (_x: tf.Tensor) => gen(function* () {
      const loc = yield* param('loc', () => tf.scalar(0))
      const scale = yield* param('scale', () => tf.scalar(-1), { constraint: constraints.positive })
      yield* sample('z', normal(loc, scale))
    })
    await expectNamed(() => s.step(model, bad, x4), InvalidArgumentError, ["param 'scale'", "argument 'init'", 'x > 0', 'got -1'], watch(s))
  })
})
