import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { subSeed } from '../../src/backend/seed.js'
import { normal } from '../../src/distributions/normal.js'
import { BackendError, InvalidArgumentError } from '../../src/errors.js'
import { observe, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { SiteError } from '../../src/inference/interpreter.js'
import type { Handler } from '../../src/inference/interpreter.js'
import { particleLogWeights } from '../../src/inference/iwae.js'
import { logMarginal } from '../../src/inference/log-marginal.js'
import { expectClose, expectNoLeak, logSumExp64, read } from '../helpers.js'
import { LOG_EVIDENCE, POST_LOC, POST_SCALE, data, fixedGuide, model } from './conjugate.js'

/** WebAssembly's trap error (the tests' types carry no WebAssembly). */
const WasmTrap = (globalThis as unknown as { WebAssembly: { RuntimeError: new (message: string) => Error } }).WebAssembly.RuntimeError

/** Reads a result and frees it. */
const take = (x: tf.Tensor): number[] => { const v = read(x); x.dispose(); return v }

describe('logMarginal on the Normal–Normal conjugate model', () => {
  const poor = () => fixedGuide(tf.scalar(POST_LOC + 1), tf.scalar(2 * POST_SCALE))

  it('with a poor guide: the log-mean of the traced weights, within 5 SE of log p(x)', () => tf.tidy(() => {
    const S = 1000, seed = 3, x = data(), g = poor()
    const est = take(logMarginal(model, g, [x] as const, { samples: S, seed }))
    expect(est.length).toBe(1)
    // The same draws one by one (draw j is seeded with subSeed(seed, j)), in doubles.
    const lw = Array.from({ length: S }, (_, j) => read(particleLogWeights(model, g, [x] as const, [], subSeed(seed, j)).logWeights)[0]!)
    const ref = logSumExp64(lw) - Math.log(S)
    expectClose(est, [ref], 1e-5, 1e-4)
    // Delta method: SE[log mean w] ≈ sd(w) / (√S · mean w), with w scaled by e^−max.
    const m = Math.max(...lw), w = lw.map((l) => Math.exp(l - m))
    const mean = w.reduce((a, b) => a + b, 0) / S
    const sd = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / (S - 1))
    const se = sd / (Math.sqrt(S) * mean)
    expect(se).toBeGreaterThan(0)
    expect(Math.abs(est[0]! - LOG_EVIDENCE)).toBeLessThan(5 * se)
  }))

  it('with the exact posterior as guide it is log p(x) to 1e-4', () => tf.tidy(() => {
    const est = take(logMarginal(model, fixedGuide(tf.scalar(POST_LOC), tf.scalar(POST_SCALE)), [data()] as const, { numParticles: 50, batch: 16, seed: 1 }))
    expect(Math.abs(est[0]! - LOG_EVIDENCE)).toBeLessThan(1e-4 * Math.abs(LOG_EVIDENCE))
  }))

  it('chunking does not change the answer for the same seed', () => tf.tidy(() => {
    const x = data(), g = poor()
    const one = take(logMarginal(model, g, [x] as const, { numParticles: 300, batch: 300, seed: 9 }))
    for (const batch of [7, 100]) expectClose(take(logMarginal(model, g, [x] as const, { samples: 300, batch, seed: 9 })), one, 1e-6, 1e-5)
  }))

  it('leaks nothing: numTensors is unchanged once the result is disposed', () => {
    const x = data(), loc = tf.scalar(POST_LOC + 1), scale = tf.scalar(2 * POST_SCALE)
    expectNoLeak(() => logMarginal(model, fixedGuide(loc, scale), [x] as const, { samples: 40, batch: 15, seed: 0 }))
    const bad = (_x: tf.Tensor) => gen(function* () { yield* sample('w', normal(0, 1)) })
    expectNoLeak(() => { expect(() => logMarginal(model, bad, [x] as const, { samples: 40, batch: 15 })).toThrow(SiteError); return [] })
    tf.dispose([x, loc, scale])
  })

  it('a WebAssembly fault in a chunk (the wasm heap full) becomes a BackendError naming the draws and what to lower, leaking nothing', () => {
    const x = data(), loc = tf.scalar(POST_LOC), scale = tf.scalar(POST_SCALE)
    // What tfjs-wasm throws when an allocation failed and a kernel wrote through the null pointer: from the guide's
    // `faultAt`-th run on (run 1 traces the plates, runs 2–5 are draws 0–3, the first chunk, runs 6–9 draws 4–7).
    let runs = 0, faultAt = 7
    const faulting = (_x: tf.Tensor) => gen(function* () {
      if (++runs >= faultAt) throw new WasmTrap('memory access out of bounds')
      return yield* sample('z', normal(loc, scale))
    })
    expectNoLeak(() => {
      expect(() => logMarginal(model, faulting, [x] as const, { numParticles: 12, batch: 4, seed: 0 }))
        .toThrow(new RegExp('logMarginal: the \\w+ backend failed with "memory access out of bounds" in draws 4–7 \\(batch: 4 draws per chunk.*Lower `batch` \\(e\\.g\\. 1\\)'))
      return []
    })
    runs = 0; faultAt = 3
    expect(() => logMarginal(model, faulting, [x] as const, { numParticles: 12, batch: 4, seed: 0 })).toThrow(BackendError)
    runs = 0; faultAt = 3
    expect(() => logMarginal(model, faulting, [x] as const, { numParticles: 12, batch: 4, seed: 0 })).toThrow(/in draws 0–3 /)
    tf.dispose([x, loc, scale])
  })
})

describe('logMarginal per data point', () => {
  // z_i ~ N(0, 1), x_i ~ N(z_i, 1): p(x_i) = N(x_i; 0, √2), posterior z_i | x_i = N(x_i / 2, √½).
  const X = [0.8, -1.1, 2.3]
  const local = (x: tf.Tensor) => plate('data', 3, {}, () => gen(function* () {
    const z = yield* sample('z', normal(0, 1))
    yield* observe('x', normal(z, 1), x)
  }))
  const exactGuide = (x: tf.Tensor) => plate('data', 3, {}, () => gen(function* () { yield* sample('z', normal(tf.div(x, 2), Math.SQRT1_2)) }))

  it('returns one estimate per data point, exact with the exact posterior guide', () => tf.tidy(() => {
    const est = take(logMarginal(local, exactGuide, [tf.tensor1d(X)] as const, { numParticles: 20, batch: 8, seed: 4 }))
    expectClose(est, X.map((x) => -0.5 * Math.log(2 * Math.PI * 2) - (x * x) / 4), 1e-5, 1e-4)
  }))

  it('a subsampled plate: every draw weighs the same points (the first draw\'s subsample), across chunks, leaking nothing', () => {
    const x = tf.tensor1d([0.8, -1.1, 2.3, 0.4, -0.2, 1.7])
    const seen: string[] = []
    const spy: Handler = (msg, next) => { const r = next(msg); if (r.msg._tag === 'PlateEnter') seen.push(Array.from((r.value as tf.Tensor).dataSync()).join(',')); return r }
    const sub = (xs: tf.Tensor) => plate('data', 6, { subsampleSize: 2 }, (idx) => gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      yield* observe('x', normal(z, 1), tf.gather(xs, idx))
    }))
    const subGuide = (xs: tf.Tensor) => plate('data', 6, { subsampleSize: 2 }, (idx) => gen(function* () { yield* sample('z', normal(tf.div(tf.gather(xs, idx), 2), Math.SQRT1_2)) }))
    expectNoLeak(() => logMarginal(sub, subGuide, [x] as const, { numParticles: 7, batch: 3, seed: 2, handlers: [spy] }))
    expect(seen.length).toBe(16)   // guide and model of the run that finds the plate depth, then of each of the 7 draws
    expect(new Set(seen).size).toBe(1)
    x.dispose()
  })

  it('rejects non-positive or fractional numParticles (or samples, its old name) and batch', () => tf.tidy(() => {
    const run = (numParticles: number, batch?: number) => () => logMarginal(local, exactGuide, [tf.tensor1d(X)] as const, { numParticles, batch })
    for (const bad of [run(0), run(2.5), run(10, 0), run(10, -3)]) expect(bad).toThrow(/logMarginal: (numParticles|batch) must be a positive integer/)
    expect(() => logMarginal(local, exactGuide, [tf.tensor1d(X)] as const, { samples: 0 })).toThrow(InvalidArgumentError)
  }))
})
