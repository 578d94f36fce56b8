/**
 * The composite Gamma sampler where tensors cannot be read back synchronously (webgpu, webgl),
 * emulated on the test's backend with the accelerator off: the accept/reject rounds run masked on
 * the device, with no read-back, and the draws — and their gradients — are still Gamma's.
 */
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { backendInfo, initBackend, setNative } from '../../src/backend/init.js'
import { gammaSample, logGammaSample, standardGammaGrad } from '../../src/backend/gamma-sampler.js'
import { digamma, trigamma } from '../../src/backend/special.js'
import { asWebgpuInNode, emulable } from '../fixtures/no-sync-reads.js'
import { expectMomentsMatch, read } from '../helpers.js'

const gpu = vi.hoisted(() => ({ sync: true }))
vi.mock('../../src/backend/gpu.js', async (importOriginal) => ({ ...await importOriginal<typeof import('../../src/backend/gpu.js')>(), readsSync: () => gpu.sync }))

const wasNative = (await initBackend()).native
beforeAll(() => { if (wasNative) setNative(false) })
afterAll(() => { if (wasNative) setNative(true) })

describe.skipIf(!emulable())('gamma sampler without synchronous reads (accelerator off)', () => {
  it('draws with no read-back: E[log X] = ψ(α), Var[log X] = ψ′(α), finite, α from 1e-3 to 500', async () => {
    expect(backendInfo().native).toBe(false)
    const alphas = [1e-3, 0.1, 1, 7, 500]
    const l = await asWebgpuInNode(gpu, () => logGammaSample(tf.tensor1d(alphas), [20000, 5], 5))
    read(l).forEach((v) => expect(Number.isFinite(v)).toBe(true))
    expectMomentsMatch(l, read(digamma(tf.tensor1d(alphas))), read(trigamma(tf.tensor1d(alphas))))
    l.dispose()
  })

  it('the same seed repeats; elements accepted in the first round match the read-back sampler\'s draws', async () => {
    const alpha = tf.tensor1d([0.05, 1, 2.5, 80])
    const [a, b] = await asWebgpuInNode(gpu, () => [logGammaSample(alpha, [5000, 4], 17), logGammaSample(alpha, [5000, 4], 17)])
    const readBack = logGammaSample(alpha, [5000, 4], 17)
    expect(read(a!)).toEqual(read(b!))
    const [x, y] = [read(a!), read(readBack)]
    const same = x.filter((v, i) => v === y[i]).length / x.length
    expect(same).toBeGreaterThan(0.9)   // ≈ 95–98% accepted at once; the rest drew again from other streams
    expect(same).toBeLessThan(1)
    tf.dispose([alpha, a!, b!, readBack])
  })

  it('gradients without read-back: ∂E[x]/∂α = 1 for Gamma(α, 1), within 5 standard errors of the per-draw gradients', async () => {
    const n = 20000, alpha = tf.scalar(3)
    const g = await asWebgpuInNode(gpu, () => tf.grad((al: tf.Tensor) => tf.mean(gammaSample(al, [n], 11)))(alpha))
    const perDraw = read(standardGammaGrad(tf.fill([n], 3), gammaSample(alpha, [n], 11)))
    const mean = perDraw.reduce((a, b) => a + b, 0) / n
    const se = Math.sqrt(perDraw.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) / n)
    expect(Math.abs(read(g)[0]! - 1)).toBeLessThan(5 * se)
    tf.dispose([g, alpha])
  })
})
