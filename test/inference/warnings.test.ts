/**
 * The warnings channel (issue 17, points 8, 9, 14): what Pyro runs but is likely a mistake is
 * reported through `onWarning` (default: console.warn once per message), and is an error under
 * `strict: true`. Also the option checks and semantics fixed beside it: elbo's options, a guide's
 * observation, analytic KL under unequal scales, predictive on fresh params.
 */
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import { normal } from '../../src/distributions/normal.js'
import { observe, param, plate, sample, scaled } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { elbo } from '../../src/inference/elbo.js'
import { condition } from '../../src/inference/handlers.js'
import { predictive } from '../../src/inference/predictive.js'
import { svi } from '../../src/inference/svi.js'
import { StrictWarningError } from '../../src/inference/warnings.js'
import type { TfpplWarning } from '../../src/inference/warnings.js'
import { read } from '../helpers.js'

const model = (x: tf.Tensor) => gen(function* () {
  const z = yield* sample('z', normal(0, 1))
  yield* observe('x', normal(z, 1), x)
})
const guide = (_x: tf.Tensor) => gen(function* () {
  const loc = yield* param('loc', () => tf.scalar(0.2))
  const s = yield* param('scale', () => tf.scalar(0.9), { constraint: constraints.positive })
  yield* sample('z', normal(loc, s))
})
const collect = () => {
  const seen: TfpplWarning[] = []
  return { seen, onWarning: (w: TfpplWarning) => { seen.push(w) } }
}
const ctx = (seed: number) => ({ seed, handlers: [], baselines: new Map<string, number>() })

afterEach(() => { vi.restoreAllMocks() })

describe('warnings channel', () => {
  it('condition data naming no site: a warning listing the unknown names and the sites; an error under strict', () => tf.tidy(() => {
    const { seen, onWarning } = collect()
    predictive(model, { numSamples: 2, seed: 0, handlers: [condition({ Z: tf.scalar(1) })], onWarning })(tf.scalar(0.5))
    expect(seen).toHaveLength(1)
    expect(seen[0]!.cause).toBe('unknown-names')
    expect(seen[0]!.message).toMatch(/condition\(…\) names 'Z', which no site of the program has.*the sites are 'x', 'z'/)
    expect(() => predictive(model, { numSamples: 2, handlers: [condition({ Z: tf.scalar(1) })], strict: true })(tf.scalar(0.5))).toThrow(StrictWarningError)
    const quiet = collect()
    predictive(model, { numSamples: 2, handlers: [condition({ z: tf.scalar(1) })], onWarning: quiet.onWarning })(tf.scalar(0.5))
    expect(quiet.seen).toEqual([])
  }))

  it('a plate the guide has and the model lacks: a warning naming the plate', () => {
    const m = () => gen(function* () {
      const z = yield* sample('z', normal(tf.zeros([3]), 1))
      yield* observe('x', normal(z, 1), tf.tensor1d([0.1, 0.2, 0.3]))
    })
    const g = () => plate('data', 3, {}, () => gen(function* () {
      const loc = yield* param('loc', () => tf.zeros([3]))
      yield* sample('z', normal(loc, 1))
    }))
    const { seen, onWarning } = collect()
    const s = svi({ optimizer: tf.train.sgd(0.01), loss: elbo(), onWarning })
    s.step(m, g)
    expect(seen.map((w) => w.cause)).toContain('guide-only-plate')
    expect(seen.find((w) => w.cause === 'guide-only-plate')!.message).toMatch(/plate 'data' is in the guide but in no site of the model/)
    s.params.dispose()
  })

  it("kl: 'auto' with the guide's sites in another order than the model's: a warning; the same order: none", () => {
    const m = () => gen(function* () {
      const a = yield* sample('a', normal(0, 1))
      const b = yield* sample('b', normal(a, 1))
      yield* observe('x', normal(b, 1), tf.scalar(0.4))
    })
    const inOrder = () => gen(function* () { yield* sample('a', normal(0, 1)); yield* sample('b', normal(0, 1)) })
    const reversed = () => gen(function* () { yield* sample('b', normal(0, 1)); yield* sample('a', normal(0, 1)) })
    const { seen, onWarning } = collect()
    tf.tidy(() => {
      elbo({ kl: 'auto' }).estimate(m, inOrder, [] as const, { ...ctx(0), warn: onWarning })
      expect(seen).toEqual([])
      elbo({ kl: 'auto' }).estimate(m, reversed, [] as const, { ...ctx(0), warn: onWarning })
      expect(seen.map((w) => w.cause)).toEqual(['kl-site-order'])
      expect(seen[0]!.message).toMatch(/order 'b', 'a' but the model in the order 'a', 'b'/)
      elbo().estimate(m, reversed, [] as const, { ...ctx(0), warn: onWarning })   // Monte Carlo: no assumption, no warning
      expect(seen).toHaveLength(1)
    })
  })

  it('evaluate on an empty store warns that the params are fresh; under strict it is an error', async () => {
    const x = tf.scalar(0.5)
    const { seen, onWarning } = collect()
    const fresh = svi({ optimizer: tf.train.sgd(0), loss: elbo(), onWarning })
    await fresh.evaluate(model, guide, x)
    expect(seen.map((w) => w.cause)).toEqual(['fresh-params'])
    expect(seen[0]!.message).toMatch(/svi\.evaluate: .*params: fitted\.params/)
    const strict = svi({ optimizer: tf.train.sgd(0), loss: elbo(), strict: true })
    await expect(strict.evaluate(model, guide, x)).rejects.toThrow(StrictWarningError)
    expect(strict.params.entries()).toEqual([])   // the failed call created nothing
    const fitted = svi({ optimizer: tf.train.adam(0.05), loss: elbo() })
    fitted.step(model, guide, x)
    const shared = collect()
    await svi({ optimizer: tf.train.sgd(0), loss: elbo(), params: fitted.params, onWarning: shared.onWarning }).evaluate(model, guide, x)
    expect(shared.seen).toEqual([])
    fresh.params.dispose(); fitted.params.dispose(); x.dispose()
  })

  it('the default sink prints each message once with console.warn', async () => {
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const s = svi({ optimizer: tf.train.sgd(0), loss: elbo() })
    const x = tf.scalar(0.5)
    await s.evaluate(model, guide, x)
    s.params.dispose()
    await s.evaluate(model, guide, x)
    expect(spy).toHaveBeenCalledTimes(1)
    expect(String(spy.mock.calls[0]![0])).toMatch(/^tfppl warning \(fresh-params\)/)
    s.params.dispose(); x.dispose()
  })
})

describe('predictive after fit', () => {
  it('a guide with params and no store is an error that says how; s.predictive draws from the fitted guide', async () => {
    const x = tf.scalar(2)
    expect(() => predictive(model, { guide, numSamples: 3 })(x)).toThrow(InvalidArgumentError)
    expect(() => predictive(model, { guide, numSamples: 3 })(x)).toThrow(/guide's param 'loc' has no value here.*s\.predictive\(model, \{ guide, numSamples \}\)/)
    const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 1 })
    for (let i = 0; i < 200; i++) s.step(model, guide, x)
    const draws = s.predictive(model, { guide, numSamples: 2000, seed: 3 })(x)
    const mean = read(tf.mean(draws.z!))[0]!
    expect(Math.abs(mean - 1)).toBeLessThan(0.15)   // the posterior mean x/2 = 1; a fresh guide would give 0.2
    tf.dispose(draws); s.params.dispose(); x.dispose()
  })
})

describe('elbo semantics beside the warnings', () => {
  it('elbo rejects unknown options, a kl other than auto/mc, and non-boolean flags, naming the option', () => {
    expect(() => elbo({ numParticle: 8 } as never)).toThrow(/elbo: unknown option\(s\) 'numParticle'/)
    expect(() => elbo({ kl: 'exact' } as never)).toThrow(/elbo: kl must be 'auto' or 'mc'; got "exact"/)
    expect(() => elbo({ downstream: 'yes' } as never)).toThrow(/elbo: downstream must be true or false/)
  })

  it("a guide's observation is part of log q, as in Pyro: it enters the bound with a minus sign", () => tf.tidy(() => {
    const plain = () => gen(function* () { yield* sample('z', normal(0.3, 1)) })
    const observing = () => gen(function* () {
      yield* sample('z', normal(0.3, 1))
      yield* observe('extra', normal(0, 1), tf.scalar(0.3))
    })
    const m = () => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 1), tf.scalar(0.5))
    })
    const logN = -0.5 * Math.log(2 * Math.PI) - 0.3 ** 2 / 2
    for (const loss of [elbo(), elbo({ kl: 'auto' })]) {
      const a = read(loss.estimate(m, plain, [] as const, ctx(4)).bound)[0]!
      const b = read(loss.estimate(m, observing, [] as const, ctx(4)).bound)[0]!
      expect(b).toBeCloseTo(a - logN, 5)
    }
  }))

  it("kl: 'auto' falls back to Monte Carlo where the model's and the guide's scales differ (else it is no KL)", () => tf.tidy(() => {
    const m = () => gen(function* () {
      const z = yield* scaled(0.5, () => gen(function* () { return yield* sample('z', normal(0, 1)) }))
      yield* observe('x', normal(z, 1), tf.scalar(0.5))
    })
    const g = () => gen(function* () { yield* sample('z', normal(0.3, 1)) })
    const auto = read(elbo({ kl: 'auto' }).estimate(m, g, [] as const, ctx(5)).bound)[0]!
    const mc = read(elbo().estimate(m, g, [] as const, ctx(5)).bound)[0]!
    expect(auto).toBeCloseTo(mc, 5)
  }))
})
