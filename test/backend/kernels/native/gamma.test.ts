/**
 * The accelerator's Gamma kernels (`kernels/native/gamma.ts`, `native/gamma.c`): the sampler's draws
 * against the Gamma CDF (Kolmogorov–Smirnov, float64 incomplete gamma), seeded repetition, special
 * concentrations; the gradient kernel against float64 differences of the incomplete gamma and
 * against the composite ops, alone and as the sampler's backward pass; that the kernels really
 * run; wasm memory growth; the argument checks in TypeScript and in C; no leaked tensors.
 * Skipped where the accelerator is inactive (`TFPPL_NATIVE=0`, the cpu backend): there the
 * composite path runs, and `test/backend/gamma-sampler.test.ts` holds it to the same references.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src/backend/init.js'
import { loadNative } from '../../../../src/backend/native.js'
import { composedLogGammaGradient, logGammaGradient, logGammaSample } from '../../../../src/backend/gamma-sampler.js'
import { heapBuffer } from '../../../../src/backend/kernels/heap.js'
import type { WasmHeapBackend } from '../../../../src/backend/kernels/heap.js'
import { LOG_GAMMA_GRAD_KERNEL, LOG_GAMMA_SAMPLE_KERNEL } from '../../../../src/backend/kernels/native/gamma.js'
import { BackendError } from '../../../../src/errors.js'
import { expectNoLeak, FC, read } from '../../../helpers.js'
import { implicitGrad64, incompleteGamma64, logGammaDerivative64 } from '../../special-reference.js'

const info = await initBackend()

/** The largest gap between the empirical CDF of `xs` and `cdf`. */
const ksStatistic = (xs: readonly number[], cdf: (x: number) => number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted.reduce((worst, x, i) => {
    const f = cdf(x)
    return Math.max(worst, Math.abs(f - i / sorted.length), Math.abs((i + 1) / sorted.length - f))
  }, 0)
}

/**
 * d log z/dα in doubles: differences of the incomplete gamma where z is a double; below 1e-30 the
 * small-z limit (ψ(α + 1) − log z)/α of F ≈ z^α/Γ(α + 1) (error O(z)), for the log-draws of tiny α.
 */
const reference64 = (a: number, logZ: number): number =>
  logZ > Math.log(1e-30) ? implicitGrad64(a, Math.exp(logZ)) / Math.exp(logZ) : (logGammaDerivative64(1, a + 1) - logZ) / a

const heapBytes = (): number => (tf.backend() as unknown as WasmHeapBackend).wasm.HEAPU8.buffer.byteLength
const kernelsOf = async (f: () => tf.TensorContainer): Promise<string[]> =>
  (await tf.profile(() => { tf.dispose(f()) })).kernels.map((k) => k.name)

/** |a − b| ≤ rel·|b| for every pair, else a failure naming α, log z and both values. */
const expectRelClose = (got: readonly number[], want: readonly number[], rel: number, alphas: readonly number[], logZs: readonly number[]): void =>
  got.forEach((g, i) => {
    if (!(Math.abs(g - want[i]!) <= rel * Math.abs(want[i]!))) expect.fail(`α = ${alphas[i]}, log z = ${logZs[i]}: got ${g}, expected ${want[i]}`)
  })

describe.skipIf(!info.native)('native Gamma kernels', () => {
  it('draws follow Gamma(α, 1): Kolmogorov–Smirnov against the float64 CDF below the 0.1% critical value, α from 0.02 to 1000', () => tf.tidy(() => {
    const alphas = [0.02, 0.3, 1, 2.5, 40, 1000], n = 4000
    const logs = tf.transpose(logGammaSample(tf.tensor1d(alphas), [n, alphas.length], 123)).arraySync() as number[][]
    alphas.forEach((a, k) => {
      const d = ksStatistic(logs[k]!, (l) => incompleteGamma64(a, Math.exp(l))[0])
      if (!(d < 1.95 / Math.sqrt(n))) expect.fail(`α = ${a}: KS statistic ${d.toFixed(4)} ≥ ${(1.95 / Math.sqrt(n)).toFixed(4)}`)
    })
  }))

  it('the same seed repeats the draws (also after the wasm memory grows); another seed differs; unseeded calls differ', () => {
    const alpha = tf.tensor1d([0.05, 1, 7, 300])
    const once = read(tf.tidy(() => logGammaSample(alpha, [500, 4], 9)))
    tf.dispose(tf.zeros([heapBytes()]))   // four times the heap: memory.grow detaches the old buffer
    expect(read(tf.tidy(() => logGammaSample(alpha, [500, 4], 9)))).toEqual(once)
    expect(read(tf.tidy(() => logGammaSample(alpha, [500, 4], 10)))).not.toEqual(once)
    expect(read(tf.tidy(() => logGammaSample(alpha, [3, 4])))).not.toEqual(read(tf.tidy(() => logGammaSample(alpha, [3, 4]))))
    alpha.dispose()
  })

  it('α = 0 gives −∞, NaN gives NaN, tiny α stays finite in log space', () => tf.tidy(() => {
    const l = read(logGammaSample(tf.tensor1d([0, NaN, 1e-30, 1e-6]), [4], 1))
    expect(l[0]).toBe(-Infinity)
    expect(l[1]).toBeNaN()
    expect(Number.isFinite(l[2]!) && Number.isFinite(l[3]!)).toBe(true)
  }))

  it('the gradient kernel equals −(∂F/∂α)/(z p) (float64 differences of the incomplete gamma) to 5e-5, and the composite ops to 1e-4', () => tf.tidy(() => {
    const alphas: number[] = [], logZs: number[] = []
    for (const a of [1e-3, 0.07, 0.5, 1, 2.4, 2.6, 6, 9.99, 19.9, 20, 75, 1e3, 1e4]) {
      const draws = read(logGammaSample(tf.scalar(a), [40], 4))
      const [centre, sd] = [Math.log(a), a >= 1 ? 1 / Math.sqrt(a) : 2]   // sd ≈ that of log z
      for (const l of [...draws, centre - 5 * sd, centre + 3 * sd, Math.log(a + 1e-3), ...(a < 20 ? [Math.log(2.5), Math.log(2.4999)] : [])]) { alphas.push(a); logZs.push(Math.fround(l)) }
    }
    const [a, l] = [tf.tensor1d(alphas), tf.tensor1d(logZs)]
    const native = read(logGammaGradient(a, l))
    expectRelClose(native, alphas.map((v, i) => reference64(v, logZs[i]!)), 5e-5, alphas, logZs)
    expectRelClose(native, read(composedLogGammaGradient(a, l)), 1e-4, alphas, logZs)
  }))

  it('as the sampler\'s backward pass: ∂/∂α Σ u ⊙ log X = Σ u ⊙ d log z/dα (composite) for random shapes and cotangents', () => {
    const shapes = fc.tuple(fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 2 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1e6 }))
    fc.assert(fc.property(shapes, ([batch, k, seed]) => tf.tidy(() => {
      const alpha = tf.add(0.01, tf.mul(30, tf.randomUniform([k], 0, 1, 'float32', seed)))
      const shape = [...batch, k], u = tf.randomNormal(shape, 0, 1, 'float32', seed + 1)
      const g = tf.grad((al: tf.Tensor) => tf.sum(tf.mul(logGammaSample(al, shape, seed), u)))(alpha)
      const l = logGammaSample(alpha, shape, seed)
      const want = tf.sum(tf.mul(u, composedLogGammaGradient(tf.broadcastTo(alpha, shape), l)), Array.from(batch, (_, i) => i))
      const [got, exp] = [read(g), read(want)]
      got.forEach((v, i) => expect(Math.abs(v - exp[i]!)).toBeLessThanOrEqual(1e-4 * (Math.abs(exp[i]!) + read(tf.sum(tf.abs(u)))[0]!)))
    })), FC)
  })

  it('launches one native kernel each way and none of the composite\'s', async () => {
    const alpha = tf.tensor1d([0.5, 3, 40])
    const names = await kernelsOf(() => tf.grad((a: tf.Tensor) => tf.sum(logGammaSample(a, [100, 3], 2)))(alpha))
    expect(names.filter((k) => k === LOG_GAMMA_SAMPLE_KERNEL).length).toBe(1)
    expect(names.filter((k) => k === LOG_GAMMA_GRAD_KERNEL).length).toBe(1)
    expect(names.filter((k) => ['Pow', 'Log1p', 'Log', 'Exp', 'Select', 'Less', 'GatherNd', 'TensorScatterUpdate', 'Expm1'].includes(k))).toEqual([])
    alpha.dispose()
  })

  it('refuses bad operands and seeds with a BackendError naming the kernel and the input', () => {
    const a = tf.tensor1d([1, 2], 'int32'), f = tf.tensor1d([1, 2]), g = tf.tensor1d([1, 2, 3])
    expect(() => tf.engine().runKernel(LOG_GAMMA_SAMPLE_KERNEL, { alpha: a }, { seed: 1 })).toThrow(/TfpplLogGammaSample: input 'alpha' is int32/)
    for (const seed of [-1, 2 ** 32, 0.5, undefined]) {
      expect(() => tf.engine().runKernel(LOG_GAMMA_SAMPLE_KERNEL, { alpha: f }, { seed } as unknown as tf.NamedAttrMap)).toThrow(BackendError)
    }
    expect(() => tf.engine().runKernel(LOG_GAMMA_GRAD_KERNEL, { alpha: f, logZ: g })).toThrow(/TfpplLogGammaGrad: input 'logZ' is float32 \[3\]; expected float32 with 2 values/)
    tf.dispose([a, f, g])
  })

  it('rejects bad arguments in C with a RangeError (code TFPPL_NATIVE)', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const addon = n.addon, heap = heapBuffer(tf.backend() as unknown as WasmHeapBackend), end = heap.byteLength
    const q = new Float64Array(24)
    const cases: [() => void, RegExp][] = [
      [() => addon.gammaLogSample(heap, 4, end - 8, 0, 1), /gammaLogSample: an operand lies outside/],
      [() => addon.gammaLogSample(heap, 4, 0, 0, 2 ** 32), /gammaLogSample: expected/],
      [() => addon.gammaLogSample(heap, -1, 0, 0, 1), /gammaLogSample: expected/],
      [() => addon.gammaLogGrad(heap, 4, 0, 0, end, 1, 0, q), /gammaLogGrad: an operand lies outside/],
      [() => addon.gammaLogGrad(heap, 4, 0, end - 4, 0, 0, 0, q), /gammaLogGrad: an operand lies outside/],
      [() => addon.gammaLogGrad(heap, 4, 0, 0, 0, 0, 0, new Float64Array(3)), /gammaLogGrad: expected/],
      [() => addon.gammaLogGrad(heap, 4, 0, 0, 0, 0, 0, new Float32Array(24) as unknown as Float64Array), /gammaLogGrad: expected/],
    ]
    for (const [call, message] of cases) {
      expect(call).toThrow(message)
      try { call() } catch (e) { expect((e as { code?: unknown }).code).toBe('TFPPL_NATIVE') }
    }
  })

  it('leaves numTensors unchanged (draws, gradients)', () => {
    const alpha = tf.tensor1d([0.5, 2, 30])
    expectNoLeak(() => logGammaSample(alpha, [50, 3], 1))
    expectNoLeak(() => tf.grad((a: tf.Tensor) => tf.sum(logGammaSample(a, [50, 3], 2)))(alpha))
    alpha.dispose()
  })
})
