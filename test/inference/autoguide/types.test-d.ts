/** An autoguide's type carries the model's latent sites: svi's compile-time model/guide check holds for it. */
import type * as tf from '@tensorflow/tfjs-core'
import { describe, expectTypeOf, it } from 'vitest'
import { normal } from '../../../src/distributions/normal.js'
import { observe, sample } from '../../../src/dsl/primitives.js'
import { gen } from '../../../src/dsl/program.js'
import type { LatentSites, MissingSites } from '../../../src/dsl/sites.js'
import { autoLowRankMultivariateNormal, autoMultivariateNormal } from '../../../src/inference/autoguide/continuous.js'
import { autoDelta, autoNormal, guideList } from '../../../src/inference/autoguide/mean-field.js'
import { elbo } from '../../../src/inference/elbo.js'
import { svi } from '../../../src/inference/svi.js'

declare const x: tf.Tensor
declare const opt: tf.Optimizer
const s = svi({ optimizer: opt, loss: elbo() })

const model = (data: tf.Tensor) => gen(function* () {
  const mu = yield* sample('mu', normal(0, 1))
  const z = yield* sample('z', normal(mu, 1))
  yield* observe('x', normal(z, 1), data)
})
const other = (data: tf.Tensor) => gen(function* () {
  const w = yield* sample('w', normal(0, 1))
  yield* observe('x', normal(w, 1), data)
})

describe('autoguide types', () => {
  it('sample exactly the model\'s latent sites', () => {
    const guide = autoNormal(model)
    expectTypeOf<keyof LatentSites<ReturnType<typeof guide>>>().toEqualTypeOf<'mu' | 'z'>()
    expectTypeOf<MissingSites<ReturnType<typeof model>, ReturnType<typeof guide>>>().toEqualTypeOf<never>()
  })

  it('pass svi\'s model/guide check for their own model, and fail it for another model', () => {
    void s.fit(model, autoNormal(model), x)
    void s.fit(model, autoDelta(model), x)
    // @ts-expect-error the guide of `other` samples 'w', not the model's 'mu' and 'z'
    void s.fit(model, autoNormal(other), x)
  })
})

describe('autoguide site selection', () => {
  it('hide removes sites from the guide\'s type, expose keeps only those; a guide list has the union', () => {
    const noZ = autoNormal(model, { sites: { hide: ['z'] } })
    expectTypeOf<keyof LatentSites<ReturnType<typeof noZ>>>().toEqualTypeOf<'mu'>()
    const onlyZ = autoDelta(model, { sites: { expose: ['z'] } })
    expectTypeOf<keyof LatentSites<ReturnType<typeof onlyZ>>>().toEqualTypeOf<'z'>()
    void s.fit(model, guideList(noZ, onlyZ), x)
    // @ts-expect-error 'z' is hidden and nothing else samples it
    void s.fit(model, noZ, x)
  })
})

describe('continuous autoguide types', () => {
  it('sample the model\'s latent sites and their auxiliary site <prefix>.latent', () => {
    const guide = autoMultivariateNormal(model)
    expectTypeOf<keyof LatentSites<ReturnType<typeof guide>>>().toEqualTypeOf<'mu' | 'z' | 'auto.latent'>()
    expectTypeOf<MissingSites<ReturnType<typeof model>, ReturnType<typeof guide>>>().toEqualTypeOf<never>()
    const named = autoLowRankMultivariateNormal(model, { rank: 1, prefix: 'q' })
    expectTypeOf<keyof LatentSites<ReturnType<typeof named>>>().toEqualTypeOf<'mu' | 'z' | 'q.latent'>()
  })

  it('pass svi\'s model/guide check for their own model, and fail it for another model', () => {
    void s.fit(model, autoMultivariateNormal(model), x)
    void s.fit(model, autoLowRankMultivariateNormal(model, { rank: 2 }), x)
    // @ts-expect-error the guide of `other` samples 'w' (and its auxiliary site), not the model's 'mu' and 'z'
    void s.fit(model, autoMultivariateNormal(other), x)
  })

  it('site selection and guide lists, as for the mean-field guides', () => {
    const noZ = autoMultivariateNormal(model, { sites: { hide: ['z'] } })
    expectTypeOf<keyof LatentSites<ReturnType<typeof noZ>>>().toEqualTypeOf<'mu' | 'auto.latent'>()
    void s.fit(model, guideList(noZ, autoNormal(model, { sites: { expose: ['z'] } })), x)
    // @ts-expect-error 'z' is hidden and nothing else samples it
    void s.fit(model, noZ, x)
    // @ts-expect-error rank is a number
    autoLowRankMultivariateNormal(model, { rank: 'full' })
  })
})
