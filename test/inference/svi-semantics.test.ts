/**
 * What svi reports and keeps, as a Pyro user expects: a step returns −ELBO (never
 * the score-function surrogate), a model and guide without params still get a
 * loss, decaying-average baselines are kept per site and travel in checkpoints,
 * and a param's value handed out is a copy.
 */
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { bernoulli } from '../../src/distributions/bernoulli.js'
import { normal } from '../../src/distributions/normal.js'
import { observe, param, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { loadCheckpoint, saveCheckpoint } from '../../src/inference/checkpoint.js'
import { elbo } from '../../src/inference/elbo.js'
import { paramStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'
import { read } from '../helpers.js'

// z ~ Bernoulli(0.3), x | z ~ N(2z, 1) for 4 points in a plate; guide q(z_i) = Bernoulli(σ(θ)), score function.
const X = [1.5, -0.2, 0.9, 2.1]
const model = (x: tf.Tensor) => gen(function* () {
  yield* plate('data', 4, {}, () => gen(function* () {
    const z = yield* sample('z', bernoulli({ probs: 0.3 }))
    yield* observe('x', normal(tf.mul(z, 2), 1), x)
  }))
})
const guide = (_x: tf.Tensor) => gen(function* () {
  const theta = yield* param('theta', () => tf.scalar(0.2))
  yield* plate('data', 4, {}, () => gen(function* () {
    yield* sample('z', bernoulli({ logits: theta }), { baseline: { useDecayingAverage: true, beta: 0.5 } })
  }))
})

/** −ELBO per data point, exact, by enumerating each z_i ∈ {0, 1} under q = Bernoulli(σ(θ)). */
const exactLoss = (theta: number): number => {
  const q1 = 1 / (1 + Math.exp(-theta))
  const term = (x: number, z: number) => Math.log(z ? 0.3 : 0.7) - 0.5 * Math.log(2 * Math.PI) - 0.5 * (x - 2 * z) ** 2 - Math.log(z ? q1 : 1 - q1)
  return -X.reduce((a, x) => a + q1 * term(x, 1) + (1 - q1) * term(x, 0), 0) / X.length
}

describe('svi: what a step reports', () => {
  it('with score-function sites a step returns −ELBO per data point: its mean over steps is the exact −ELBO (θ barely moves at lr 1e-6)', () => {
    const s = svi({ optimizer: tf.train.sgd(1e-6), loss: elbo(), seed: 1 })
    const x = tf.tensor1d(X)
    const losses = Array.from({ length: 400 }, () => s.step(model, guide, x))
    const mean = losses.reduce((a, b) => a + b, 0) / losses.length
    const sd = Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / (losses.length - 1))
    expect(Math.abs(mean - exactLoss(0.2))).toBeLessThan(5 * sd / Math.sqrt(losses.length))
    s.params.dispose(); x.dispose()
  })

  it('a model and guide with no params: the loss is computed and nothing is updated (as Pyro)', () => {
    const m = (x: tf.Tensor) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), x) })
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('z', normal(0.5, 1)) })
    const s = svi({ optimizer: tf.train.adam(0.1), loss: elbo() })
    const before = tf.memory().numTensors
    const x = tf.scalar(1)
    const loss = s.step(m, g, x)
    expect(Number.isFinite(loss)).toBe(true)
    expect(s.params.entries()).toHaveLength(0)
    x.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('svi: per-site decaying-average baselines', () => {
  it('are kept per site as b ← β·b + (1 − β)·cost, starting at the first cost, and saved and restored with a checkpoint', async () => {
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo(), seed: 2 })
    const x = tf.tensor1d(X)
    s.step(model, guide, x)
    const first = s.state.baselines['z']!
    expect(Number.isFinite(first)).toBe(true)
    // The mean cost per element is near the per-point ELBO (a few nats below zero), not the whole batch's.
    expect(first).toBeGreaterThan(-12)
    expect(first).toBeLessThan(0)
    for (let i = 0; i < 5; i++) s.step(model, guide, x)
    expect(Object.keys(s.state.baselines)).toEqual(['z'])
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-baselines-'))
    await saveCheckpoint(dir, { store: s.params, state: s.state })
    const other = paramStore()
    const { state } = await loadCheckpoint(dir, { store: other })
    expect(state).toEqual({ step: 6, baselines: { z: s.state.baselines['z'] } })
    other.dispose(); s.params.dispose(); x.dispose()
    await fs.rm(dir, { recursive: true, force: true })
  })

  it('elbo({ baseline }) names the per-site option instead', () => {
    expect(() => elbo({ baseline: 0.9 } as never)).toThrow(/sample\(name, dist, \{ baseline: \{ useDecayingAverage: true/)
  })

  it('sample rejects an unknown option or a malformed baseline, naming the site', () => {
    expect(() => sample('z', normal(0, 1), { baselin: 1 } as never)).toThrow(/sample 'z': unknown option\(s\) 'baselin'/)
    expect(() => sample('z', normal(0, 1), { baseline: { useDecayingAverage: true, beta: 1 } })).toThrow(/sample 'z': baseline must be/)
  })
})

describe('svi: the param store hands out copies', () => {
  it('disposing a value read from the store leaves the param intact (real and constrained params alike)', () => {
    const s = svi({ optimizer: tf.train.adam(0.01), loss: elbo() })
    const m = (x: tf.Tensor) => gen(function* () { const z = yield* sample('z', normal(0, 1)); yield* observe('x', normal(z, 1), x) })
    const g = (_x: tf.Tensor) => gen(function* () { yield* sample('z', normal(yield* param('loc', () => tf.scalar(0.25)), 1)) })
    const x = tf.scalar(1)
    s.init(m, g, x)
    const v = s.params.value('loc')!
    v.dispose()
    expect(read(s.params.value('loc')!)[0]).toBeCloseTo(0.25, 6)
    expect(() => s.step(m, g, x)).not.toThrow()
    s.params.dispose(); x.dispose()
  })
})
