import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { elbo } from '../../src/inference/elbo.js'
import { replay } from '../../src/inference/handlers.js'
import { factorTerm, sampleLogProb, siteTerm } from '../../src/inference/log-joint.js'
import { paramStore } from '../../src/inference/params.js'
import { svi } from '../../src/inference/svi.js'
import type { Svi } from '../../src/inference/svi.js'
import { traceProgram } from '../../src/inference/trace.js'
import type { FactorSite, SampleSite } from '../../src/inference/trace.js'
import { lookupCodes, perplexity, uniformCodes, vectorQuantize } from '../../src/models/vector-quantize.js'
import { vqVae } from '../../src/models/vq-vae.js'
import type { VqVae } from '../../src/models/vq-vae.js'
import { expectClose, expectNoLeak, read } from '../helpers.js'
import { binaryImages } from './fixtures.js'

/** Squared distances (float64) from each row of z [N·D] to each code of e [K·D]. */
const sqDists = (z: number[], e: number[], d: number): number[][] =>
  Array.from({ length: z.length / d }, (_, i) => Array.from({ length: e.length / d }, (_, k) =>
    Array.from({ length: d }, (_, j) => (z[i * d + j]! - e[k * d + j]!) ** 2).reduce((a, b) => a + b, 0)))

const named = (m: tf.NamedTensorMap, v: tf.Variable): tf.Tensor | undefined => m[v.name] ?? undefined

/** The after-step update as `tfppl train` runs it: on the values of the sites the step kept (then freed). */
const afterStep = (m: VqVae, s: Svi, batch: readonly tf.Tensor[]): void => {
  const kept = s.takeKept()
  m.afterStep(batch, kept)
  tf.dispose(Object.values(kept))
}

describe('vectorQuantize', () => {
  it('picks the nearest code (float64 brute force) and returns its value and the per-image losses', () => tf.tidy(() => {
    const ze = tf.randomNormal([2, 7, 7, 4], 0, 1, 'float32', 1), book = tf.randomNormal([10, 4], 0, 1, 'float32', 2)
    const { indices, zq, codebookLoss, commitmentLoss } = vectorQuantize(ze, book)
    expect(indices.shape).toEqual([2, 7, 7]); expect(indices.dtype).toBe('int32'); expect(zq.shape).toEqual([2, 7, 7, 4])
    const dists = sqDists(read(ze), read(book), 4), idx = read(indices), e = read(book), q = read(zq)
    dists.forEach((row, i) => {
      expect(row[idx[i]!]!).toBeLessThanOrEqual(Math.min(...row) + 1e-5)
      expectClose(q.slice(4 * i, 4 * i + 4), e.slice(4 * idx[i]!, 4 * idx[i]! + 4), 0, 0)
    })
    const perImage = [0, 1].map((b) => dists.slice(49 * b, 49 * b + 49).reduce((s, row, i) => s + row[idx[49 * b + i]!]!, 0))
    expectClose(read(codebookLoss), perImage, 1e-4)
    expectClose(read(commitmentLoss), perImage, 1e-4)
  }))

  it('passes the upstream gradient of zq straight to ze; the codebook learns only from the codebook loss', () => tf.tidy(() => {
    const ze = tf.variable(tf.randomNormal([2, 7, 7, 4], 0, 1, 'float32', 3)), book = tf.variable(tf.randomNormal([6, 4], 0, 1, 'float32', 4))
    const upstream = tf.randomNormal([2, 7, 7, 4], 0, 1, 'float32', 5)
    const g = (f: (q: ReturnType<typeof vectorQuantize>) => tf.Tensor) => tf.variableGrads(() => tf.sum(f(vectorQuantize(ze, book))) as tf.Scalar, [ze, book]).grads
    const viaZq = g((q) => tf.mul(q.zq, upstream))
    expectClose(read(named(viaZq, ze)!), read(upstream), 0, 0)
    const bookFromZq = named(viaZq, book)
    expect(bookFromZq === undefined || read(tf.abs(bookFromZq)).every((v) => v === 0)).toBe(true)
    const { zq } = vectorQuantize(ze, book)
    const viaCodebook = g((q) => q.codebookLoss), viaCommit = g((q) => q.commitmentLoss)
    expect(named(viaCodebook, ze)).toBeUndefined()
    expect(tf.max(tf.abs(named(viaCodebook, book)!)).dataSync()[0]).toBeGreaterThan(0)
    expectClose(read(named(viaCommit, ze)!), read(tf.mul(2, tf.sub(ze, zq))), 1e-4, 1e-5)
    expect(named(viaCommit, book)).toBeUndefined()
    ze.dispose(); book.dispose()
  }))
})

describe('uniformCodes', () => {
  it('gives −log K to codebook rows (also of large norm, next to a near twin) and −∞ elsewhere', () => tf.tidy(() => {
    // Codes 0 and 1 differ by 1e-3 at norm ≈ 300: float32 distance cancellation cannot tell them apart.
    const book = tf.tensor2d([[300, 0], [300, 1e-3], [0, 1], [-1, -1]])
    const lp = read(uniformCodes(book, [5]).logProb(tf.tensor2d([[300, 0], [300, 1e-3], [0, 1], [0.5, 0.5], [-1, -1.05]])))
    expectClose(lp.slice(0, 3), [-Math.log(4), -Math.log(4), -Math.log(4)], 1e-6)
    expect(lp[3]).toBe(-Infinity)   // far from every code
    expect(lp[4]).toBe(-Infinity)   // 0.05 from code 3 at norm ≈ 1.4: not a code
  }))

  it('knows the rows a lookup copied (and their clones) without searching, and only for that codebook', async () => {
    const book = tf.tensor2d([[300, 0], [300, 1e-3], [0, 1], [-1, -1]]), other = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]])
    const codes = lookupCodes(tf.tensor2d([[0, 1, 2], [3, 3, 0]], [2, 3], 'int32'), book)
    const known = await tf.profile(() => uniformCodes(book, [2, 3]).logProb(tf.clone(codes)))
    const searches = (names: readonly string[]): boolean => names.includes('ArgMin') || names.includes('TfpplNearestCodes')   // composite or fused search
    expect(searches(known.kernelNames)).toBe(false)
    expect(read(known.result as tf.Tensor)).toEqual(new Array<number>(6).fill(Math.fround(-Math.log(4))))
    // The same values, not known as codes: the search finds the same log-mass.
    expect(read(uniformCodes(book, [2, 3]).logProb(tf.add(codes, 0)))).toEqual(read(known.result as tf.Tensor))
    // Rows of another codebook are checked against this one.
    const elsewhere = await tf.profile(() => uniformCodes(other, [2, 3]).logProb(codes))
    expect(searches(elsewhere.kernelNames)).toBe(true)
    expect(read(elsewhere.result as tf.Tensor).every((v) => v === -Infinity)).toBe(true)
    tf.dispose([book, other, codes, known.result as tf.Tensor, elsewhere.result as tf.Tensor])
  })
})

describe('vqVae', () => {
  it.each(['loss', 'ema'] as const)('bound = Σ log p(x | z_q) − 49·log K·B + the VQ factors (%s codebook)', (codebookUpdate) => tf.tidy(() => {
    const x = binaryImages(4), K = 8, beta = 0.25
    const m = vqVae({ imageShape: [28, 28, 1], numCodes: K, codeDim: 4, beta, codebookUpdate, seed: 1 })
    const store = paramStore()
    const q = traceProgram(m.guide(x), [store.handler]).trace
    const p = traceProgram(m.model(x), [replay(q), store.handler]).trace
    expectClose(read(sampleLogProb(q.byName.get('codes') as SampleSite)), [0, 0, 0, 0], 0, 0)
    expectClose(read(sampleLogProb(p.byName.get('codes') as SampleSite)), new Array<number>(4).fill(-49 * Math.log(K)), 1e-6)
    const factors = p.sites.filter((s): s is FactorSite => s._tag === 'Factor')
    expect(factors.map((f) => f.name)).toEqual(codebookUpdate === 'loss' ? ['vq_codebook', 'vq_commitment'] : ['vq_commitment'])
    const factorSum = factors.reduce((a, f) => a + factorTerm(f).dataSync()[0]!, 0)
    const logLik = siteTerm(p.byName.get('x') as SampleSite).dataSync()[0]!
    const { bound } = elbo().estimate(m.model, m.guide, [x], { seed: 0, handlers: [store.handler], baselines: new Map() })
    // The bound holds exactly: reconstruction, the uniform prior's −49 log K per image, and the factors.
    expectClose([bound.dataSync()[0]! - logLik - factorSum], [-49 * Math.log(K) * 4], 1e-5, 1e-2)
    if (codebookUpdate === 'loss') expectClose([factorTerm(factors[1]!).dataSync()[0]!], [beta * factorTerm(factors[0]!).dataSync()[0]!], 1e-5)
    store.dispose(); m.dispose()
  }))

  it.each(['loss', 'ema'] as const)('fit with the hooks lowers the loss (%s codebook); only the loss-mode codebook is trained', async (codebookUpdate) => {
    const x = binaryImages(16)
    const m = vqVae({ imageShape: [28, 28, 1], numCodes: 16, codeDim: 8, codebookUpdate, seed: 2 })
    const s = svi({ optimizer: tf.train.adam(1e-2), loss: elbo(), seed: 2, keep: m.keep })   // 12 steps: fast enough to recover from the data-dependent codebook reset after step 1
    // Two steps per epoch, the hooks wired as in training (the after-step update reads the step's kept sites).
    const h = await s.fit(m.model, m.guide, x, { epochs: 6, batchSize: 8, progress: false, onEpochStart: m.beforeEpoch, onStep: ({ batch }) => afterStep(m, s, batch) })
    const losses = h.epochs.map((e) => e.trainLoss)
    losses.forEach((l) => expect(Number.isFinite(l)).toBe(true))
    expect(losses.at(-1)!).toBeLessThan(losses[0]! - 20)
    expect(s.params.variables().includes(m.codebook)).toBe(codebookUpdate === 'loss')
    const p = m.perplexity()
    expect(p).toBeGreaterThanOrEqual(1); expect(p).toBeLessThanOrEqual(16)
    expect(m.usage().reduce((a, b) => a + b)).toBe(2 * 8 * 49)
    s.params.dispose(); m.dispose(); x.dispose()
  }, 300_000)   // 12 conv steps: ~2 s on wasm, over a minute on the pure-JS cpu backend

  it('an EMA update moves every used code toward the mean of its assigned encoder outputs', () => {
    const x = binaryImages(8, 3)
    const m = vqVae({ imageShape: [28, 28, 1], numCodes: 16, codeDim: 4, codebookUpdate: 'ema', decay: 0.5, seed: 3 })
    const first = binaryImages(8, 5)
    m.afterStep!([first])   // the first step sets the codes from encoder outputs; the EMA moves them from then on
    first.dispose()
    const [ze, before, idx] = tf.tidy(() => {
      const z = m.encode(x)
      return [read(z), read(m.codebook), read(vectorQuantize(z, m.codebook).indices)]
    })
    m.afterStep!([x])
    const after = read(m.codebook), d = 4
    const used = [...new Set(idx)]
    expect(used.length).toBeGreaterThan(0)
    for (const k of used) {
      const rows = idx.flatMap((c, i) => (c === k ? [i] : []))
      const mean = Array.from({ length: d }, (_, j) => rows.reduce((a, i) => a + ze[i * d + j]!, 0) / rows.length)
      const dist = (e: number[]) => Math.hypot(...mean.map((v, j) => v - e[k * d + j]!))
      expect(dist(after)).toBeLessThan(dist(before))
    }
    m.dispose(); x.dispose()
  })

  it('initialises every code from encoder outputs after the first step, then restarts rarely used codes at window ends', () => {
    const x = binaryImages(8, 4), K = 32, d = 4
    const m = vqVae({ imageShape: [28, 28, 1], numCodes: K, codeDim: d, restartEvery: 1, seed: 4 })
    const ze = tf.tidy(() => read(m.encode(x)))
    const isEncoderRow = (code: number[]) => Array.from({ length: ze.length / d }, (_, i) => i).some((i) => code.every((v, j) => Math.abs(v - ze[d * i + j]!) < 1e-5))
    m.beforeEpoch!(1); m.afterStep!([x])
    const book = read(m.codebook)
    for (let k = 0; k < K; k++) expect(isEncoderRow(book.slice(d * k, d * k + d)), `code ${k} after the first step`).toBe(true)
    // Send code 3 far away: nothing is assigned to it in the window, so the window's end restarts it.
    tf.tidy(() => { m.codebook.assign(tf.where(tf.equal(tf.range(0, K * d).reshape([K, d]).floorDiv(d), 3), tf.fill([K, d], 1e3), m.codebook)) })
    m.afterStep!([x])
    expect(isEncoderRow(read(m.codebook).slice(3 * d, 4 * d))).toBe(true)
    const p = m.perplexity()
    expect(p).toBeGreaterThanOrEqual(1); expect(p).toBeLessThanOrEqual(K)
    expect(perplexity([5, 5, 0, 0])).toBeCloseTo(2, 10)
    const usage = m.usage()
    expect(usage.reduce((a, c) => a + c)).toBe(2 * 8 * 49)
    m.beforeEpoch!(2)
    expect(m.usage()).toEqual(usage)
    m.dispose(); x.dispose()
  })

  it('implements ImageModel: inputs, sample, reconstruct, traverse and extras, without leaks', () => {
    const x = binaryImages(3)
    const m = vqVae({ imageShape: [28, 28, 1], numCodes: 8, codeDim: 4, seed: 5 })
    tf.tidy(() => {
      expect(m.inputs(x, tf.tensor1d([0, 1, 2], 'int32')).map((t) => t.shape)).toEqual([[3, 28, 28, 1]])
      for (const images of [m.sample(5, 1), m.reconstruct(x, tf.tensor1d([0, 1, 2], 'int32')), m.traverse(4, 6, 1)]) {
        expect(images.shape.slice(1)).toEqual([28, 28, 1])
        expect(tf.min(images).dataSync()[0]).toBeGreaterThanOrEqual(0)
        expect(tf.max(images).dataSync()[0]).toBeLessThanOrEqual(1)
      }
      expect(m.traverse(4, 6, 1).shape[0]).toBe(24)
      expect(m.sample(5, 1).dataSync()).toEqual(m.sample(5, 1).dataSync())
    })
    m.afterStep!([x])
    const [codebook, usage] = m.extras!()
    expect(codebook!.images!.shape).toEqual([8, 2, 2, 1])
    expect(usage!.counts!.reduce((a, b) => a + b)).toBe(3 * 49)
    expect(usage!.caption).toMatch(/perplexity/)
    tf.dispose(codebook!.images!)
    const labels = tf.tensor1d([0, 1, 2], 'int32')
    expectNoLeak(() => m.sample(2, 1)); expectNoLeak(() => m.reconstruct(x, labels)); expectNoLeak(() => m.traverse(2, 3, 1))
    expectNoLeak(() => m.extras!().flatMap((e) => (e.images === undefined ? [] : [e.images])))
    labels.dispose(); m.dispose(); x.dispose()
  })

  it.each([true, false])('svi steps with afterStep and an epoch boundary leak no tensors after the first step (kept sites: %s)', (keeping) => {
    const x = binaryImages(8, 6)
    const m = vqVae({ imageShape: [28, 28, 1], numCodes: 16, codeDim: 4, codebookUpdate: 'ema', seed: 6 })
    const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 6, ...(keeping && { keep: m.keep }) })
    const counts = [1, 2, 3, 4].map((i) => {
      s.step(m.model, m.guide, x)
      if (keeping) afterStep(m, s, [x]); else m.afterStep([x])
      if (i === 2) m.beforeEpoch(2)
      return tf.memory().numTensors
    })
    expect(new Set(counts).size).toBe(1)
    // Values a step kept and nobody took are freed by the next step.
    s.step(m.model, m.guide, x)
    const before = tf.memory().numTensors
    s.step(m.model, m.guide, x)
    expect(tf.memory().numTensors).toBe(before)
    const kept = s.takeKept()
    expect(Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, [v.dtype, v.shape]]))).toEqual(keeping ? { z_e: ['float32', [8, 7, 7, 4]], code_indices: ['int32', [8, 7, 7]] } : {})
    tf.dispose(Object.values(kept))
    s.params.dispose(); m.dispose(); x.dispose()
  })
})
