/**
 * Numerical faults mid-training: a scale that overflows after some good steps, and a
 * near-divergent run. The NaN guard must stop with a NonFiniteError naming the step and
 * the site, leave the params (and the optimizer's state) bitwise as the last good step left
 * them, and leave on disk the checkpoint of the last good epoch; gradient clipping must keep
 * the near-divergent run finite where the unclipped one diverges.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { factor, observe, param, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { loadCheckpoint } from '../../src/inference/checkpoint.js'
import { elbo } from '../../src/inference/elbo.js'
import type { History } from '../../src/inference/fit.js'
import { NonFiniteError, svi } from '../../src/inference/svi.js'
import type { Svi } from '../../src/inference/svi.js'

let root = ''
beforeEach(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-nan-')) })
afterEach(async () => { await fs.rm(root, { recursive: true, force: true }) })

/**
 * x ~ N(z, exp(logScale)) with a factor rewarding a large logScale: Adam(10) moves logScale by
 * ≈ 10 a step, so after 9 good steps (logScale ≈ 89.7) exp overflows float32 and the scale is ∞.
 */
const exploding = (x: tf.Tensor) => gen(function* () {
  const logScale = yield* param('logScale', () => tf.scalar(0))
  const z = yield* sample('z', normal(0, 1))
  yield* factor('push', tf.mul(logScale, 100))
  yield* observe('x', normal(tf.broadcastTo(z, x.shape), tf.exp(logScale)).toEvent(1), x)
})
const explodingGuide = (_x: tf.Tensor) => gen(function* () {
  const loc = yield* param('loc', () => tf.scalar(0))
  yield* sample('z', normal(loc, 1))
})
const GOOD_STEPS = 9
const STEP_ERROR = new RegExp(`^svi step ${GOOD_STEPS}: a distribution argument is not finite \\(normal: argument 'scale' must satisfy x > 0; got Infinity at index \\[\\] of shape \\[\\] \\(scalar\\)\\), from site 'x' in the model \\(its log-density is not finite\\); the update was not applied and the parameters are those of the last good step$`)

/** The exact bits of every param and all optimizer state (slots, step counter, Adam's β powers), by name. */
const bitsOf = async (s: Svi): Promise<Record<string, number[]>> => {
  const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer))
  const params = s.params.entries().flatMap((e) => e.kind === 'param' ? [[`param ${e.name}`, bits(e.variable)] as const] : [])
  const weights = await s.optimizer.getWeights()
  const opt = weights.map((w, i) => [`optimizer weight ${i}`, bits(w.tensor)] as const)
  tf.dispose(weights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor))   // getWeights' fresh `iter` scalar
  const internals = Object.entries(s.optimizer).flatMap(([k, v]) => v instanceof tf.Variable ? [[`optimizer.${k}`, bits(v)] as const] : [])
  expect(internals.map(([k]) => k)).toEqual(['optimizer.accBeta1', 'optimizer.accBeta2'])
  return Object.fromEntries([...params, ...opt, ...internals])
}

/** Runs `p`, which must reject with a NonFiniteError; returns it. */
const nonFiniteOf = async (p: Promise<unknown>): Promise<NonFiniteError> => {
  try { await p } catch (e) { if (e instanceof NonFiniteError) return e; throw e }
  throw new Error('expected a NonFiniteError, but training finished')
}

const XS = [0.5, -1, 2, 0.3]

describe('an exploding scale mid-training', () => {
  it('svi.step: a NonFiniteError naming the step and the site; params and optimizer state bitwise those of the last good step', async () => {
    const x = tf.tensor1d(XS)
    const s = svi({ optimizer: tf.train.adam(10), loss: elbo(), seed: 1 })
    let last: Record<string, number[]> = {}
    for (let i = 0; i < GOOD_STEPS; i++) {
      expect(Number.isFinite(s.step(exploding, explodingGuide, x))).toBe(true)
      last = await bitsOf(s)
    }
    expect(s.params.value('logScale')!.dataSync()[0]).toBeGreaterThan(80)   // close to exp's float32 overflow (88.7)
    const err = await nonFiniteOf(Promise.resolve().then(() => s.step(exploding, explodingGuide, x)))
    expect(err.message).toMatch(STEP_ERROR)
    expect(await bitsOf(s)).toEqual(last)
    expect(s.state.step).toBe(GOOD_STEPS)
    // Stuck, not corrupted: the same step fails the same way again, and changes nothing.
    expect(() => s.step(exploding, explodingGuide, x)).toThrow(STEP_ERROR)
    expect(await bitsOf(s)).toEqual(last)
    s.params.dispose(); s.optimizer.dispose(); x.dispose()
  })

  it('svi.fit with checkpoints: rejects at the failing epoch, the checkpoint on disk is the last good epoch, and no tensor leaks', async () => {
    const x = tf.tensor1d(XS)
    const dir = path.join(root, 'ckpt')
    const before = tf.memory().numTensors
    const s = svi({ optimizer: tf.train.adam(10), loss: elbo(), seed: 1 })
    const epochs: number[] = []
    // One step per epoch: epoch e ends after step e, so the failing step 9 is in epoch 10.
    const err = await nonFiniteOf(s.fit(exploding, explodingGuide, x, {
      epochs: 50, batchSize: XS.length, progress: false, checkpoint: { dir }, onEpochEnd: (r) => { epochs.push(r.epoch) },
    }))
    expect(err.message).toMatch(STEP_ERROR)
    expect(epochs).toEqual(Array.from({ length: GOOD_STEPS }, (_, i) => i + 1))
    const atFailure = await bitsOf(s)
    s.params.dispose(); s.optimizer.dispose()
    expect(tf.memory().numTensors).toBe(before)   // the failing step's batch is freed too
    expect(await fs.readdir(root)).toEqual(['ckpt'])   // no temporary or backup directory

    const loaded = svi({ optimizer: tf.train.adam(10), loss: elbo(), seed: 1 })
    loaded.init(exploding, explodingGuide, x)
    const { state, extra } = await loadCheckpoint(dir, { store: loaded.params, optimizer: loaded.optimizer })
    expect(state).toEqual({ step: GOOD_STEPS, baselines: {} })
    expect(extra?.['epoch']).toBe(GOOD_STEPS)
    expect((extra?.['history'] as History['epochs']).map((r) => r.epoch)).toEqual(epochs)
    expect(await bitsOf(loaded)).toEqual(atFailure)
    loaded.params.dispose(); loaded.optimizer.dispose(); x.dispose()
  })
})

describe('gradient clipping on a near-divergent run', () => {
  // Maximising −w⁴ by SGD(0.1) from w = 3: the first step overshoots to −7.8, then 182, −2.4e6, 5.6e18, and w⁴ overflows.
  const quartic = (_x: tf.Tensor) => gen(function* () {
    const w = yield* param('w', () => tf.scalar(3))
    yield* factor('f', tf.neg(tf.pow(w, 4)))
  })
  const noLatents = (_x: tf.Tensor) => gen(function* () { /* nothing to infer: only the param */ })
  const train = (clipNorm: number | undefined, losses: number[]) => {
    const s = svi({ optimizer: tf.train.sgd(0.1), loss: elbo(), seed: 1, ...(clipNorm === undefined ? {} : { clipNorm }) })
    const x = tf.zeros([1])
    const done = s.fit(quartic, noLatents, x, { epochs: 40, progress: false, onStep: ({ loss }) => { losses.push(loss) } })
    return { s, done, x }
  }

  it('unclipped, the run diverges: a NonFiniteError at step 4 naming the factor, after losses 81, 3.7e3, 1.1e9, 3.4e25', async () => {
    const losses: number[] = []
    const { s, done, x } = train(undefined, losses)
    const err = await nonFiniteOf(done)
    expect(err.message).toBe("svi step 4: the loss, a gradient or an updated parameter is not finite (loss Infinity), from factor 'f' in the model (its log-weight is not finite); the update was not applied and the parameters are those of the last good step")
    expect(losses.length).toBe(4)
    expect(losses[3]).toBeGreaterThan(1e25)
    expect(Math.abs(s.params.value('w')!.dataSync()[0]!)).toBeGreaterThan(1e18)
    s.params.dispose(); x.dispose()
  })

  it('with clipNorm 1 the same run stays finite and converges towards the optimum w = 0', async () => {
    const losses: number[] = []
    const { s, done, x } = train(1, losses)
    const h = await done
    expect(h.epochs.length).toBe(40)
    expect(losses.every(Number.isFinite)).toBe(true)
    losses.slice(1).forEach((l, i) => { expect(l).toBeLessThanOrEqual(losses[i]!) })   // monotone: every step is ≤ 0.1 long
    const w = s.params.value('w')!.dataSync()[0]!
    expect(Math.abs(w)).toBeLessThan(0.5)
    expect(losses.at(-1)).toBeLessThan(0.1)
    s.params.dispose(); x.dispose()
  })
})
