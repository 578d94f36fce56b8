import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { categorical } from '../../src/distributions/categorical.js'
import { normal } from '../../src/distributions/normal.js'
import { markov } from '../../src/dsl/markov.js'
import { observe, param, plate, sample, scaled } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { enumElbo } from '../../src/inference/enum-elbo.js'
import { SiteError } from '../../src/inference/interpreter.js'
import type { LossContext, ProgramFn } from '../../src/inference/loss.js'
import { svi } from '../../src/inference/svi.js'
import type { TfpplWarning } from '../../src/inference/warnings.js'

const ctx = (warn?: (w: TfpplWarning) => void): LossContext => ({ seed: 0, handlers: [], baselines: new Map(), ...(warn && { warn }) })
const empty = () => gen(function* () { /* no latents */ })
const estimate = (model: ProgramFn<readonly []>, guide: ProgramFn<readonly []> = empty) =>
  tf.tidy(() => enumElbo().estimate(model, guide, [] as const, ctx()).bound)

describe('enumElbo: errors that name the site and the fix', () => {
  it('enumerating a continuous site', () => {
    const model = () => gen(function* () { yield* sample('z', normal(0, 1), { enumerate: 'parallel' }) })
    expect(() => estimate(model)).toThrow(SiteError)
    expect(() => estimate(model)).toThrow(/site 'z' asks for enumerate: 'parallel' but its normal has no finite support/)
  })

  it("an enumerated guide site whose model site is not discrete", () => {
    const model = () => gen(function* () { yield* sample('z', normal(0, 1)) })
    const guide = () => gen(function* () { yield* sample('z', bernoulli({ probs: 0.5 }), { enumerate: 'parallel' }) })
    expect(() => estimate(model, guide)).toThrow(/site 'z' is enumerated in the guide, but the model's normal at that site is not discrete/)
  })

  it('a batched enumerated site outside any plate', () => {
    const model = () => gen(function* () { yield* sample('z', bernoulli({ probs: tf.fill([4], 0.5) }), { enumerate: 'parallel' }) })
    expect(() => estimate(model)).toThrow(/site 'z' is enumerated but its bernoulli has batch shape \[4\], whose dim -1 \(size 4\) no plate around the site holds/)
  })

  it('a value read beyond its markov history (an enumeration dim conflict)', () => {
    const logA = tf.log(tf.tensor2d([[0.9, 0.1], [0.2, 0.8]]))
    const model = () => gen(function* () {
      const xs: tf.Tensor[] = []
      yield* markov(4, { history: 1 }, (t) => gen(function* () {
        const prev = t >= 2 ? xs[t - 2]! : undefined   // reads two steps back with history 1
        const x = yield* sample(`x_${t}`, categorical({ logits: prev === undefined ? tf.zeros([2]) : tf.gather(logA, prev) }), { enumerate: 'parallel' })
        xs.push(x)
      }))
    })
    expect(() => estimate(model)).toThrow(/site 'x_2' is enumerated but .* beyond its markov history/)
  })

  it('enumerated sites under different scales', () => {
    const model = () => gen(function* () {
      const z = yield* sample('z', bernoulli({ probs: 0.5 }), { enumerate: 'parallel' })
      yield* scaled(0.5, () => gen(function* () { yield* observe('x', normal(z, 1), tf.scalar(0.3)) }))
    })
    expect(() => estimate(model)).toThrow(/sites 'z' and 'x' share a model-enumerated variable but have different scales \(1 and 0.5/)
  })

  it('a plate structure that is not a tree', () => {
    const model = () => gen(function* () {
      const u = yield* plate('a', 2, { dim: -1 }, () => gen(function* () { return yield* sample('u', bernoulli({ probs: 0.5 }), { enumerate: 'parallel' }) }))
      const v = yield* plate('b', 3, { dim: -2 }, () => gen(function* () { return yield* sample('v', bernoulli({ probs: 0.5 }), { enumerate: 'parallel' }) }))
      yield* plate('a', 2, { dim: -1 }, () => plate('b', 3, { dim: -2 }, () => gen(function* () { yield* observe('x', normal(tf.add(u, v), 1), tf.zeros([3, 2])) })))
    })
    expect(() => estimate(model)).toThrow(/the plate structure is not a tree/)
  })

  it('unknown options, a sequential site in the model, a batched sequential site in the guide', () => {
    expect(() => enumElbo({ particles: 2 } as never)).toThrow(InvalidArgumentError)
    const model = () => gen(function* () { yield* sample('z', bernoulli({ probs: 0.5 }), { enumerate: 'sequential' }) })
    expect(() => estimate(model)).toThrow(/site 'z' of the model asks for enumerate: 'sequential'; a model's site is enumerated in parallel only/)
    const batched = () => plate('data', 3, {}, () => gen(function* () { yield* sample('z', bernoulli({ probs: 0.5 }), { enumerate: 'sequential' }) }))
    const plain = () => plate('data', 3, {}, () => gen(function* () { yield* sample('z', bernoulli({ probs: 0.5 })) }))
    expect(() => estimate(plain, batched)).toThrow(/site 'z' asks for enumerate: 'sequential' but has batch shape \[3\]/)
  })
})

describe('enumElbo: warnings', () => {
  it('no enumerated site at all', () => {
    const seen: TfpplWarning[] = []
    const model = () => gen(function* () { yield* observe('x', normal(0, 1), tf.scalar(0.1)) })
    tf.tidy(() => enumElbo().estimate(model, empty, [] as const, ctx((w) => seen.push(w))).bound)
    expect(seen.map((w) => w.cause)).toEqual(['no-enumerated-site'])
  })

  it("strictEnumerationWarning: false silences only that warning (Pyro's strict_enumeration_warning); a non-boolean is an error", () => {
    const seen: TfpplWarning[] = []
    const model = () => gen(function* () { yield* observe('x', normal(0, 1), tf.scalar(0.1)) })
    tf.tidy(() => enumElbo({ strictEnumerationWarning: false }).estimate(model, empty, [] as const, ctx((w) => seen.push(w))).bound)
    expect(seen).toEqual([])
    expect(() => enumElbo({ strictEnumerationWarning: 'no' as unknown as boolean })).toThrow(/enumElbo: strictEnumerationWarning must be true or false; got "no"/)
  })
})

describe('enumElbo under svi', () => {
  it('fits mixture locations by maximum likelihood with flat memory', async () => {
    const x = tf.tensor1d([-2.1, -1.9, -2.3, 2.8, 3.1, 3.0, 2.9, -2.0])
    const model = (data: tf.Tensor) => gen(function* () {
      const locs = yield* param('locs', () => tf.tensor1d([-0.5, 0.5]))
      yield* plate('data', 8, {}, () => gen(function* () {
        const z = yield* sample('z', categorical({ probs: [0.5, 0.5] }), { enumerate: 'parallel' })
        yield* observe('x', normal(tf.gather(locs, z), 0.5), data)
      }))
    })
    const guide = (_: tf.Tensor) => gen(function* () { /* z is summed out */ })
    const before = tf.memory().numTensors
    const s = svi({ optimizer: tf.train.adam(0.1), loss: enumElbo(), seed: 0 })
    const counts: number[] = []
    for (let i = 0; i < 150; i++) {
      s.step(model, guide, x)
      if (i >= 140) counts.push(tf.memory().numTensors)
    }
    expect(new Set(counts).size).toBe(1)
    const value = s.params.value('locs')!
    const locs = Array.from(value.dataSync()).sort((a, b) => a - b)
    value.dispose()
    expect(locs[0]).toBeCloseTo(-2.075, 1)
    expect(locs[1]).toBeCloseTo(2.95, 1)
    s.params.dispose(); s.optimizer.dispose()
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })
})
