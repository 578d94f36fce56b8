import type * as tf from '@tensorflow/tfjs-core'
import { describe, expectTypeOf, it } from 'vitest'
import { categorical } from '../../src/distributions/categorical.js'
import { normal } from '../../src/distributions/normal.js'
import { observe, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { LatentSites, MissingSites, ObservedSites } from '../../src/dsl/sites.js'
import { elbo } from '../../src/inference/elbo.js'
import { svi } from '../../src/inference/svi.js'

declare const x: tf.Tensor
declare const opt: tf.Optimizer
const s = svi({ optimizer: opt, loss: elbo() })

const model = (data: tf.Tensor) => gen(function* () {
  const z1 = yield* sample('z1', normal(0, 1))
  const z2 = yield* sample('z2', normal(z1, 1))
  yield* observe('x', normal(z2, 1), data)
})
const fullGuide = (_data: tf.Tensor) => gen(function* () {
  yield* sample('z1', normal(0, 1))
  yield* sample('z2', normal(0, 1))
})
const partialGuide = (_data: tf.Tensor) => gen(function* () {
  yield* sample('z1', normal(0, 1))
})

describe('site types', () => {
  it('records latent and observed sites by name', () => {
    expectTypeOf<keyof LatentSites<ReturnType<typeof model>>>().toEqualTypeOf<'z1' | 'z2'>()
    expectTypeOf<keyof ObservedSites<ReturnType<typeof model>>>().toEqualTypeOf<'x'>()
    expectTypeOf<MissingSites<ReturnType<typeof model>, ReturnType<typeof partialGuide>>>().toEqualTypeOf<'z2'>()
  })

  it('yield* returns the value type of the distribution', () => {
    gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      expectTypeOf(z).toEqualTypeOf<tf.Tensor>()
    })
  })
})

describe('svi rejects, at compile time, a guide that does not cover the model', () => {
  it('accepts a guide sampling every latent site', () => {
    void s.fit(model, fullGuide, x)
    s.step(model, fullGuide, x)
  })

  it('rejects a guide missing a latent site', () => {
    // @ts-expect-error: the guide does not sample 'z2'
    void s.fit(model, partialGuide, x)
    // @ts-expect-error: the guide does not sample 'z2'
    s.step(model, partialGuide, x)
  })

  it('names built at run time fall back to run-time checks', () => {
    const dynamicName: string = ['z', '1'].join('')
    const dynamicGuide = (_data: tf.Tensor) => gen(function* () { yield* sample(dynamicName, normal(0, 1)) })
    void s.fit(model, dynamicGuide, x)
  })

  it('rejects a guide sampling a site with another value type', () => {
    // Value types differ when distributions carry different tensor types.
    const ranked = (data: tf.Tensor) => gen(function* () {
      yield* sample('c', categorical({ logits: [0, 0] }) as unknown as import('../../src/distributions/distribution.js').Distribution<tf.Tensor1D>)
      yield* observe('x', normal(0, 1), data)
    })
    const scalarGuide = (_data: tf.Tensor) => gen(function* () {
      yield* sample('c', normal(0, 1) as unknown as import('../../src/distributions/distribution.js').Distribution<tf.Scalar>)
    })
    // @ts-expect-error: 'c' is a Tensor1D in the model and a Scalar in the guide
    void s.fit(ranked, scalarGuide, x)
  })
})

describe('enumerated sites at the type level', () => {
  const mixture = (data: tf.Tensor) => gen(function* () {
    const z = yield* sample('z', categorical({ logits: [0, 0] }), { enumerate: 'parallel' })
    const w = yield* sample('w', normal(0, 1))
    yield* observe('x', normal(tf_add(z, w), 1), data)
  })
  const wGuide = (_data: tf.Tensor) => gen(function* () { yield* sample('w', normal(0, 1)) })
  const noGuide = (_data: tf.Tensor) => gen(function* () { /* nothing */ })

  it("a model's enumerated site need not be in the guide; its other latents must", () => {
    expectTypeOf<MissingSites<ReturnType<typeof mixture>, ReturnType<typeof wGuide>>>().toEqualTypeOf<never>()
    expectTypeOf<MissingSites<ReturnType<typeof mixture>, ReturnType<typeof noGuide>>>().toEqualTypeOf<'w'>()
    s.step(mixture, wGuide, x)
    // @ts-expect-error the guide does not sample 'w'
    s.step(mixture, noGuide, x)
  })
})

declare function tf_add(a: tf.Tensor, b: tf.Tensor): tf.Tensor
