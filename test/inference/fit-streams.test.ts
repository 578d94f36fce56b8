import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import { observe, param, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import { elbo } from '../../src/inference/elbo.js'
import { streamPlan } from '../../src/inference/fit-batches.js'
import { fitLoop } from '../../src/inference/fit.js'
import type { Trainer } from '../../src/inference/fit-types.js'
import { paramStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'

/** Programs over (x, y?) the recording trainer never runs. */
const noop = (_x: tf.Tensor, _y?: tf.Tensor) => gen(function* () { /* nothing */ })

/** A trainer that runs no program: it records each step's batch as `arity:values of the first tensor`. */
const recordingTrainer = (calls: string[], loss: (batch: readonly tf.Tensor[]) => number = () => 1): Trainer => {
  const state = { step: 0, baselines: {} }
  return {
    init: (_m, _g, ...batch) => { calls.push(`init ${batch.length}:${[...batch[0]!.dataSync()].join(',')}`) },
    step: (_m, _g, ...batch) => { calls.push(`${batch.length}:${[...batch[0]!.dataSync()].join(',')}`); state.step += 1; return loss(batch) },
    evaluate: async (_m, _g, ...batch) => { calls.push(`evaluate ${batch.length}:${batch[0]!.shape[0]}`); return 2 },
    state,
    restore: (s) => { state.step = s.step },
    params: paramStore(),
    optimizer: tf.train.sgd(0.1),
  }
}

/** Labelled points 100…103 with labels, unlabelled points 0…5. */
const streamsData = () => ({ xl: tf.tensor1d([100, 101, 102, 103]), yl: tf.tensor1d([0, 1, 0, 1]), xu: tf.tensor1d([0, 1, 2, 3, 4, 5]) })

describe('streamPlan', () => {
  it("'spread' places batch j of a stream with m batches at (j + ½)/m, ties to the earlier stream", () => {
    expect(streamPlan([3, 1], 'spread')).toEqual([[0, 0], [0, 1], [1, 0], [0, 2]])
    expect(streamPlan([1, 3], 'spread')).toEqual([[1, 0], [0, 0], [1, 1], [1, 2]])
  })

  it("'spread' on Pyro's protocol (49,000 unlabelled and 1,000 labelled images, batch 200) puts one labelled batch in every 50", () => {
    const plan = streamPlan([245, 5], 'spread')
    expect(plan).toHaveLength(250)
    const labelled = plan.flatMap(([s], t) => (s === 1 ? [t] : []))
    expect(labelled).toEqual([25, 75, 125, 175, 225])
    expect(plan.filter(([s]) => s === 0).map(([, j]) => j)).toEqual(Array.from({ length: 245 }, (_, j) => j))
  })

  it("'alternate' takes one batch of each stream in turn until the longest stream is done", () => {
    expect(streamPlan([3, 1], 'alternate')).toEqual([[0, 0], [1, 0], [0, 1], [1, 1], [0, 2], [1, 2]])
  })
})

describe('fit with streams', () => {
  it("'spread' (the default) feeds each stream's batches once per epoch, in plan order, with their own arity", async () => {
    const calls: string[] = []
    const { xl, yl, xu } = streamsData()
    const h = await fitLoop(recordingTrainer(calls), noop, noop, { streams: [{ data: [xl, yl] }, { data: [xu] }] }, { batchSize: 2, shuffle: false, progress: false })
    // Labelled batches at 1/4 and 3/4 of the epoch, unlabelled at 1/6, 3/6, 5/6.
    expect(calls).toEqual(['1:0,1', '2:100,101', '1:2,3', '2:102,103', '1:4,5'])
    expect(h.steps).toBe(5)
    tf.dispose([xl, yl, xu])
  })

  it("'alternate' cycles the shorter stream, reshuffled on each pass, and each stream keeps its own batch size", async () => {
    const calls: string[] = []
    const { xl, yl, xu } = streamsData()
    await fitLoop(recordingTrainer(calls), noop, noop, { streams: [{ data: [xl, yl], batchSize: 4 }, { data: [xu], batchSize: 2 }], schedule: 'alternate' }, { seed: 3, progress: false })
    expect(calls.map((c) => c.split(':')[0])).toEqual(['2', '1', '2', '1', '2', '1'])
    const labelled = calls.filter((c) => c.startsWith('2:')).map((c) => c.slice(2).split(',').map(Number))
    for (const pass of labelled) expect([...pass].sort((a, b) => a - b)).toEqual([100, 101, 102, 103])
    expect(new Set(labelled.map((p) => p.join(','))).size).toBeGreaterThan(1)   // reshuffled between passes
    const unlabelled = calls.filter((c) => c.startsWith('1:')).flatMap((c) => c.slice(2).split(',').map(Number))
    expect([...unlabelled].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5])
    tf.dispose([xl, yl, xu])
  })

  it('is seeded: the same seed gives the same order, another seed another', async () => {
    const run = async (seed: number) => {
      const calls: string[] = []
      const { xl, yl, xu } = streamsData()
      await fitLoop(recordingTrainer(calls), noop, noop, { streams: [{ data: [xl, yl] }, { data: [xu] }] }, { batchSize: 2, seed, epochs: 2, progress: false })
      tf.dispose([xl, yl, xu])
      return calls.join(' ')
    }
    expect(await run(1)).toBe(await run(1))
    expect(await run(1)).not.toBe(await run(2))
  })

  it('averages the epoch loss over every data point of every stream, validates on the stream of the same arity, frees every batch', async () => {
    const calls: string[] = []
    const { xl, yl, xu } = streamsData()
    const xv = tf.tensor1d([7, 8, 9])
    const t = recordingTrainer(calls, (b) => (b.length === 2 ? 10 : 1))
    const before = tf.memory().numTensors
    const h = await fitLoop(t, noop, noop,
      { streams: [{ data: [xl, yl] }, { data: [xu] }] }, { batchSize: 2, validation: xv, progress: false })
    expect(h.epochs[0]!.trainLoss).toBeCloseTo((4 * 10 + 6 * 1) / 10, 6)
    expect(h.epochs[0]!.validationLoss).toBe(2)
    expect(calls.slice(-2)).toEqual(['evaluate 1:2', 'evaluate 1:1'])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([xl, yl, xu, xv])
  })

  it('an abort mid-epoch stops after the current step and reports it', async () => {
    const calls: string[] = []
    const { xl, yl, xu } = streamsData()
    const abort = new AbortController()
    const t = recordingTrainer(calls, () => { if (calls.length === 2) abort.abort(); return 1 })
    const h = await fitLoop(t, noop, noop, { streams: [{ data: [xl, yl] }, { data: [xu] }] }, { batchSize: 2, shuffle: false, signal: abort.signal, progress: false })
    expect(calls).toHaveLength(2)
    expect(h).toMatchObject({ aborted: true, epochs: [] })
    tf.dispose([xl, yl, xu])
  })

  it('refuses malformed streams with a message naming the stream and what was expected', async () => {
    const { xl, yl, xu } = streamsData()
    const t = recordingTrainer([])
    await expect(fitLoop(t, noop, noop, { streams: [] }, {})).rejects.toThrow(/streams must be a non-empty array/)
    await expect(fitLoop(t, noop, noop, { streams: [{ data: [xu] }], schedule: 'random' as 'spread' }, {})).rejects.toThrow(/schedule must be 'spread' or 'alternate'; got "random"/)
    await expect(fitLoop(t, noop, noop, { streams: [{ data: [xu] }, { data: [xl, yl], batchSize: 5 }] }, {})).rejects.toThrow(/streams\[1\]\.batchSize must be an integer between 1 and the number of data points \(4\); got 5/)
    await expect(fitLoop(t, noop, noop, { streams: [{ data: [xl, tf.tensor1d([1])] }] }, {})).rejects.toThrow(/streams\[0\]\.data: argument 1 has 1 data points but argument 0 has 4/)
    await expect(fitLoop(t, noop, noop, { streams: [{ data: [xl, yl] }, { data: [xu] }] }, { validation: [xu, xu, xu] })).rejects.toThrow(/validation has 3 tensor\(s\) but the streams have 2, 1/)
    tf.dispose([xl, yl, xu])
  })

  it('svi.fit trains a program over (x, y?) on a labelled and an unlabelled stream', async () => {
    // y ~ N(μ, 1) observed when given, latent (guide N(q, 1)) otherwise; x ~ N(y, 1).
    const prog = (x: tf.Tensor, y?: tf.Tensor) => gen(function* () {
      return yield* plate('data', x.shape[0]!, {}, () => gen(function* () {
        const prior = normal(tf.zeros([x.shape[0]!]), 1)
        const v = y === undefined ? yield* sample('y', prior) : yield* observe('y', prior, y)
        yield* observe('x', normal(v, 1), x)
      }))
    })
    const q = (x: tf.Tensor, y?: tf.Tensor) => gen(function* () {
      const a = yield* param('a', () => tf.scalar(0.5))
      if (y !== undefined) return
      yield* plate('data', x.shape[0]!, {}, () => gen(function* () { yield* sample('y', normal(tf.mul(a, x), 1)) }))
    })
    const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 1 })
    const [xl, yl, xu] = [tf.ones([8]), tf.ones([8]), tf.ones([16])]
    const h = await s.fit(prog, q, { streams: [{ data: [xl, yl] }, { data: [xu] }], schedule: 'alternate' }, { epochs: 2, batchSize: 4, progress: false })
    expect(h.steps).toBe(2 * 8)
    expect(h.epochs.every((r) => Number.isFinite(r.trainLoss))).toBe(true)
    s.params.dispose(); tf.dispose([xl, yl, xu])
  })
})
