/**
 * Model factories with bad options (B43–B48): each is an InvalidArgumentError
 * naming the factory, the option, the value and what was expected, thrown
 * before any network weight is created.
 */
import { describe, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { cvae, ladderVae, vae, vqVae } from '../../src/models/index.js'
import { expectNamed } from './expect-named.js'

describe('model factories with bad options', () => {
  it('B43 vae: zDim 0', async () => {
    await expectNamed(() => vae({ xDim: 4, zDim: 0 }), InvalidArgumentError, ['vae: zDim must be a positive integer', 'got 0'])
  })

  it('B44 cvae: numClasses 1', async () => {
    await expectNamed(() => cvae({ imageShape: [2, 2, 1], numClasses: 1, zDim: 2 }), InvalidArgumentError, ['cvae: numClasses must be an integer ≥ 2', 'got 1'])
  })

  it('B45 cvae: zDim 0 names zDim (was: "mlp: sizes must be …", naming neither cvae nor zDim)', async () => {
    await expectNamed(() => cvae({ imageShape: [2, 2, 1], numClasses: 3, zDim: 0 }), InvalidArgumentError, ['cvae: zDim must be a positive integer', 'got 0'])
  })

  it('B46 ladderVae: latentDims empty', async () => {
    await expectNamed(() => ladderVae({ imageShape: [2, 2, 1], latentDims: [] }), InvalidArgumentError, ['ladderVae: latentDims must be positive integers', 'got []'])
  })

  it('B47 vqVae: numCodes 0', async () => {
    await expectNamed(() => vqVae({ imageShape: [28, 28, 1], numCodes: 0 }), InvalidArgumentError, ['vqVae: numCodes must be a positive integer', 'got 0'])
  })

  it('B48 a conv vae on 32×32 images names the image shape it takes', async () => {
    await expectNamed(() => vae({ imageShape: [32, 32, 1], conv: true, zDim: 2 }), InvalidArgumentError, ['vae: the conv networks take 28×28 images', 'got imageShape [32,32,1]'])
  })
})
