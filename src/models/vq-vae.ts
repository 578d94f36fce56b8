/**
 * The VQ-VAE (van den Oord et al. 2017) written with the DSL. A conv encoder maps
 * x to z_e [B, 7, 7, D]; each position is quantised to its nearest code of a
 * codebook e [K, D]; a conv decoder maps z_q back to pixels.
 *
 *   model:  codes ~ Uniform(codebook) at each of the 49 positions, x ~ p(x | decoder(codes))
 *   guide:  codes ~ Delta(z_q(x))   (one-hot posterior on the nearest codes: log q = 0)
 *
 * so ELBO = log p(x | z_q) − 49 log K per image, the paper's bound. The auxiliary terms
 * enter as model `factor`s (the ELBO adds model factors and ignores guide ones):
 * −‖sg(z_e) − z_q‖² (codebook, 'loss' mode only) and −β ‖z_e − sg(z_q)‖² (commitment).
 * The encoder and the code search run once per step, in the guide: the model reads z_e and
 * the codes from the guide's trace, and the after-step codebook update from the step's.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { subSeed } from '../backend/seed.js'
import { convLayer } from '../backend/conv-layer.js'
import { reshapeTo } from '../backend/numerics.js'
import * as constraints from '../distributions/constraints.js'
import { delta } from '../distributions/delta.js'
import { deterministic, factor, module, observe, param, plate, sample } from '../dsl/primitives.js'
import { gen } from '../dsl/program.js'
import type { NetworkWithBuffers } from '../inference/params.js'
import { pixelLikelihood, pixelMean } from './heads.js'
import type { Likelihood } from './heads.js'
import type { Extra, ImageModel } from './image-model.js'
import { glorot, zerosVariable } from './networks.js'
import type { OwnedNetwork } from './networks.js'
import { codebookState } from './codebook-state.js'
import type { CodebookState } from './codebook-state.js'
import { VQ_SITES, codebookHeatmaps, codeIndices, lookupCodes, perplexity, quantizeAt, uniformCodes, vectorQuantize, vqLosses } from './vector-quantize.js'

/** Options of {@link vqVae}. */
export interface VqVaeOptions {
  /** [28, 28, c]: the encoder halves the size twice, to the 7 × 7 latent grid. */
  readonly imageShape: readonly [number, number, number]
  /** K, the codebook size (default 64). */
  readonly numCodes?: number
  /** D, the size of a code vector (default 16). */
  readonly codeDim?: number
  /** β, the commitment weight (default 0.25). */
  readonly beta?: number
  /** 'loss' (default): the codebook is trained by the codebook loss; 'ema': by moving averages in `afterStep`. */
  readonly codebookUpdate?: 'loss' | 'ema'
  /** γ, the EMA decay (default 0.99). */
  readonly decay?: number
  /** Steps per dead-code window (default 50). */
  readonly restartEvery?: number
  /** Codes used less than this fraction of a uniform share in a window restart from encoder outputs (default 0.3). */
  readonly restartBelow?: number
  readonly likelihood?: Likelihood
  readonly seed?: number
}

/** A VQ-VAE over images x [B, 28, 28, c]. */
export interface VqVae extends ImageModel {
  readonly kind: 'vqvae'
  readonly model: ReturnType<typeof vqModel>
  readonly guide: ReturnType<typeof vqGuide>
  readonly numCodes: number
  readonly codeDim: number
  readonly networks: { readonly encoder: OwnedNetwork; readonly decoder: OwnedNetwork }
  /** The codebook [K, D] (trainable in 'loss' mode; updated by `afterStep` in 'ema' mode). */
  readonly codebook: tf.Variable
  /** z_e(x) [B, 7, 7, D]. */
  readonly encode: (x: tf.Tensor) => tf.Tensor
  /** Mean images of p(x | z_q) for quantised latents [B, 7, 7, D]. */
  readonly decode: (zq: tf.Tensor) => tf.Tensor4D
  /**
   * What the hooks keep between steps, by name (see `CodebookState.buffers`): usage windows and step
   * counts, and in 'ema' mode the codebook with its EMA statistics. They are the buffers of the
   * `codebook` module, so checkpoints save and restore them and a resumed run trains exactly like an
   * uninterrupted one. Checkpoints written before they were saved still load: the buffers then keep
   * their initial values (an EMA codebook is re-initialised from the first batch, as in a new run).
   */
  readonly buffers: Readonly<Record<string, tf.Variable>>
  /** The step's sites `afterStep` reads ({@link VQ_SITES}: the guide's z_e and codes): give them to `svi({ keep })`. */
  readonly keep: readonly string[]
  /** The codebook's after-step update (see {@link vqVae}), on the step's kept sites when given. */
  readonly afterStep: CodebookState['afterStep']
  /** Closes the previous epoch's usage. */
  readonly beforeEpoch: CodebookState['beforeEpoch']
  /** Code assignments counted over the last full epoch (the current one before the first ends). */
  readonly usage: () => number[]
  /** exp(H(usage)), in [1, K]. */
  readonly perplexity: () => number
}

/** Latent grid side: 28 → 14 → 7. */
const GRID = 7

/** A 2-D convolution layer's kernel and bias. */
const convWeights = (k: number, cin: number, cout: number, seed: number | undefined) =>
  ({ w: glorot([k, k, cin, cout], seed, k * k * cin, k * k * cout) as tf.Variable, b: zerosVariable(cout) })

const owned = (vars: tf.Variable[], apply: (x: tf.Tensor) => tf.Tensor): OwnedNetwork =>
  ({ apply, variables: vars, dispose: () => { for (const v of vars) v.dispose() } })

/**
 * The VQ-VAE encoder for 28×28×c images: two stride-2 3×3 convolutions (32, 64 channels, ReLU),
 * then a 1×1 convolution to `codeDim` channels: z_e [B, 7, 7, codeDim].
 *
 * @example const enc = vqEncoder({ channels: 1, codeDim: 16, seed: 1 })
 */
export const vqEncoder = (o: { readonly channels: number; readonly codeDim: number; readonly seed?: number }): OwnedNetwork => {
  const l1 = convWeights(3, o.channels, 32, subSeed(o.seed, 0)), l2 = convWeights(3, 32, 64, subSeed(o.seed, 1))
  const l3 = convWeights(1, 64, o.codeDim, subSeed(o.seed, 2))
  return owned([l1.w, l1.b, l2.w, l2.b, l3.w, l3.b], (x) => {
    const h1 = convLayer(x as tf.Tensor4D, l1.w as tf.Tensor4D, l1.b as tf.Tensor1D, { strides: 2, pad: 'same', activation: 'relu' })
    const h2 = convLayer(h1, l2.w as tf.Tensor4D, l2.b as tf.Tensor1D, { strides: 2, pad: 'same', activation: 'relu' })
    return convLayer(h2, l3.w as tf.Tensor4D, l3.b as tf.Tensor1D, { strides: 1, pad: 'same' })
  })
}

/**
 * The mirror decoder from z_q [B, 7, 7, codeDim]: a 1×1 convolution to 64 channels (ReLU), then two
 * stride-2 3×3 transposed convolutions (32 channels with ReLU, then `channels`): logits [B, 28, 28, c].
 *
 * @example const dec = vqDecoder({ channels: 1, codeDim: 16, seed: 2 })
 */
export const vqDecoder = (o: { readonly channels: number; readonly codeDim: number; readonly seed?: number }): OwnedNetwork => {
  const c = o.channels
  const l0 = convWeights(1, o.codeDim, 64, subSeed(o.seed, 0))
  const k1 = glorot([3, 3, 32, 64], subSeed(o.seed, 1), 9 * 64, 9 * 32), b1 = zerosVariable(32)
  const k2 = glorot([3, 3, c, 32], subSeed(o.seed, 2), 9 * 32, 9 * c), b2 = zerosVariable(c)
  return owned([l0.w, l0.b, k1, b1, k2, b2], (z) => {
    const grids = reshapeTo<tf.Tensor4D>(z, [-1, ...z.shape.slice(-3)])   // leading (particle) dims folded into the batch
    const n = grids.shape[0]
    const h = convLayer(grids, l0.w as tf.Tensor4D, l0.b as tf.Tensor1D, { strides: 1, pad: 'same', activation: 'relu' })
    const h1 = convLayer(h, k1 as tf.Tensor4D, b1 as tf.Tensor1D, { strides: 2, pad: 'same', activation: 'relu', transpose: [n, 14, 14, 32] })
    return reshapeTo(convLayer(h1, k2 as tf.Tensor4D, b2 as tf.Tensor1D, { strides: 2, pad: 'same', transpose: [n, 28, 28, c] }), [...z.shape.slice(0, -3), 28, 28, c])
  })
}

type Resolved = Required<Omit<VqVaeOptions, 'seed'>> & { readonly seed: number | undefined }
interface Nets { readonly encoder: OwnedNetwork; readonly decoder: OwnedNetwork; readonly book: NetworkWithBuffers<undefined, tf.Tensor> }

/**
 * The model: p(codes) p(x | codes). `codes` are code *vectors* (z_q), not indices, so the guide's
 * straight-through z_q is the value the decoder sees and its gradient reaches the encoder; an index
 * site (categorical) would cut that path. The VQ terms are model factors because the ELBO adds the
 * model's factors and ignores the guide's; they need z_e and its codes, which the model reads from
 * the guide's trace (deterministic sites of the same names) and computes only when run without one.
 */
const vqModel = (o: Resolved, nets: Nets) => (x: tf.Tensor) => gen(function* () {
  const decode = yield* module('decoder', nets.decoder)
  const encode = yield* module('encoder', nets.encoder)
  const codebook = (yield* module('codebook', nets.book))(undefined)
  const obsScale = o.likelihood === 'gaussian' ? yield* param('x_scale', () => tf.scalar(0.1), { constraint: constraints.positive }) : undefined
  const codes = yield* plate('data', x.shape[0]!, {}, () => gen(function* () {
    const drawn = yield* sample('codes', uniformCodes(codebook, [x.shape[0]!, GRID, GRID]).toEvent(2))
    yield* observe('x', pixelLikelihood(o.likelihood, decode(drawn), 3, obsScale), x)
    return drawn
  }))
  // The VQ terms are sums over the batch already: outside the data plate, so they count once.
  const ze = yield* deterministic(VQ_SITES.encoded, () => encode(x))
  const vq = vqLosses(ze, yield* deterministic(VQ_SITES.codes, () => codeIndices(ze, codebook)), codebook)
  if (o.codebookUpdate === 'loss') yield* factor('vq_codebook', tf.neg(vq.codebookLoss))
  yield* factor('vq_commitment', tf.mul(-o.beta, vq.commitmentLoss))
  return codes
})

/** The guide: a point mass on the quantised latents, carrying the straight-through gradient; z_e and its codes are recorded for the model. */
const vqGuide = (nets: Nets) => (x: tf.Tensor) => gen(function* () {
  const encode = yield* module('encoder', nets.encoder)
  const codebook = (yield* module('codebook', nets.book))(undefined)
  const ze = yield* deterministic(VQ_SITES.encoded, encode(x))
  const zq = quantizeAt(ze, yield* deterministic(VQ_SITES.codes, codeIndices(ze, codebook)), codebook)
  return yield* plate('data', x.shape[0]!, {}, () => gen(function* () { return yield* sample('codes', delta(zq, { eventDims: 3 })) }))
})

const resolve = (opts: VqVaeOptions): Resolved => {
  const o = { numCodes: 64, codeDim: 16, beta: 0.25, codebookUpdate: 'loss', decay: 0.99, restartEvery: 50, restartBelow: 0.3, likelihood: 'bernoulli', ...opts } as const
  const [h, w] = o.imageShape
  if (h !== 28 || w !== 28) throw new InvalidArgumentError(`vqVae: the conv networks take 28×28 images; got imageShape ${JSON.stringify(o.imageShape)}`)
  for (const key of ['numCodes', 'codeDim'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new InvalidArgumentError(`vqVae: ${key} must be a positive integer; got ${o[key]}`)
  }
  if (!(o.beta >= 0)) throw new InvalidArgumentError(`vqVae: beta must be ≥ 0; got ${o.beta}`)
  if (!Number.isInteger(o.restartEvery) || o.restartEvery < 1) throw new InvalidArgumentError(`vqVae: restartEvery must be a positive integer (steps); got ${o.restartEvery}`)
  if (!(o.restartBelow >= 0 && o.restartBelow <= 1)) throw new InvalidArgumentError(`vqVae: restartBelow must be in [0, 1] (a fraction of a uniform share); got ${o.restartBelow}`)
  if (!(o.decay >= 0 && o.decay < 1)) throw new InvalidArgumentError(`vqVae: decay must be in [0, 1); got ${o.decay}`)
  return { ...o, seed: opts.seed }
}

/** Grid position varied by traversal row r: rows spread over the 49 positions (row-major). */
const traversedPosition = (r: number, rows: number): number => {
  const cells = GRID * GRID, m = Math.min(rows, cells)
  return Math.floor((((r % cells) % m) + 0.5) * cells / m)
}

/** Sampling, reconstruction, traversal and the report's extra pictures. */
const pictures = (o: Resolved, nets: Nets, state: CodebookState) => {
  const k = o.numCodes
  const decode = (zq: tf.Tensor): tf.Tensor4D => tf.tidy(() => pixelMean(o.likelihood, nets.decoder.apply(zq)) as tf.Tensor4D)
  const traverseIndices = (rows: number, steps: number, seed: number): tf.Tensor => {
    const base = Array.from(tf.randomUniform([GRID * GRID], 0, k, 'int32', seed).dataSync())   // freed by the caller's tidy
    const maps = Array.from({ length: rows * steps }, (_, i) => {
      const map = [...base]
      map[traversedPosition(Math.floor(i / steps), rows)] = (i % steps) % k
      return map
    })
    return tf.tensor3d(maps.flat(), [rows * steps, GRID, GRID], 'int32')
  }
  const extras = (): readonly Extra[] => {
    const counts = state.usage()
    return [
      { title: 'Codebook', images: codebookHeatmaps(state.codebook), caption: `The ${k} code vectors (D = ${o.codeDim}) drawn as ${Math.ceil(Math.sqrt(o.codeDim))}² heat maps, row-major, zero-padded; the codebook's min → black, max → white.` },
      { title: 'Code usage', counts, caption: `Assignments per code over the last epoch; perplexity exp(H) = ${perplexity(counts).toFixed(2)} of ${k}.` },
    ]
  }
  return {
    decode,
    sample: (n: number, seed: number) => tf.tidy(() => decode(uniformCodes(state.codebook, [n, GRID, GRID]).sample([], seed))),
    reconstruct: (x: tf.Tensor4D) => tf.tidy(() => decode(vectorQuantize(nets.encoder.apply(x), state.codebook).zq)),
    traverse: (rows: number, steps: number, seed: number) => tf.tidy(() => decode(lookupCodes(traverseIndices(rows, steps, seed), state.codebook))),
    extras,
  }
}

/**
 * A VQ-VAE. The bound its programs give the ELBO, summed over the batch, is
 *   Σ_b [log p(x_b | z_q) − 49 log K − ‖sg(z_e) − z_q‖² − β ‖z_e − sg(z_q)‖²]
 * (the paper's ELBO plus the two VQ factors; 'ema' mode drops the codebook term).
 * `sample` decodes uniformly random code maps; `reconstruct` decodes the quantised
 * encoding; `traverse(rows, steps, seed)` starts every row from one random code map (from `seed`)
 * and, in row r, sets one grid position (rows spread over the 49) to codes 0, 1, …, steps − 1 (mod K).
 * `afterStep` counts code usage (and applies the EMA update in 'ema' mode), sets every code to a
 * random encoder output after the first step, and every `restartEvery` steps restarts the codes used
 * less than `restartBelow` of a uniform share in that window from encoder outputs; `beforeEpoch` closes the epoch's usage.
 * It reads the step's encoder outputs and codes when given the values of the sites `keep` that the step
 * kept (`svi({ keep: m.keep })`, `m.afterStep(batch, s.takeKept())`); without them it encodes the batch again.
 * That state is kept in `buffers`, registered with the `codebook` module, so checkpoints (`fit`'s, `tfppl train`'s)
 * include it and a run resumed after any epoch trains bit for bit like an uninterrupted one.
 * `extras()` returns the codebook heat maps [K, s, s, 1] (the caller disposes them) and the usage counts.
 *
 * @example
 * const m = vqVae({ imageShape: [28, 28, 1], numCodes: 64, codeDim: 16, codebookUpdate: 'ema', seed: 1 })
 * const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), keep: m.keep })
 * await s.fit(m.model, m.guide, x, { epochs: 10, onEpochStart: m.beforeEpoch, onStep: ({ batch }) => {
 *   const kept = s.takeKept(); m.afterStep(batch, kept); tf.dispose(Object.values(kept)) } })
 */
export const vqVae = (opts: VqVaeOptions): VqVae => {
  const o = resolve(opts)
  const encoder = vqEncoder({ channels: o.imageShape[2], codeDim: o.codeDim, seed: subSeed(o.seed, 0) })
  const decoder = vqDecoder({ channels: o.imageShape[2], codeDim: o.codeDim, seed: subSeed(o.seed, 1) })
  const ema = o.codebookUpdate === 'ema'
  const state = codebookState({ numCodes: o.numCodes, codeDim: o.codeDim, ema, decay: o.decay, restartEvery: o.restartEvery, restartBelow: o.restartBelow, seed: subSeed(o.seed, 2) }, encoder)
  // The EMA codebook reaches the programs through this closure only: no optimizer ever sees it. It and the
  // rest of the hooks' state are the module's buffers, which checkpoints save and restore.
  const nets: Nets = { encoder, decoder, book: { apply: () => state.codebook, variables: ema ? [] : [state.codebook], buffers: state.buffers } }
  return {
    kind: 'vqvae', imageShape: o.imageShape, numCodes: o.numCodes, codeDim: o.codeDim,
    model: vqModel(o, nets), guide: vqGuide(nets), networks: { encoder, decoder }, codebook: state.codebook, buffers: state.buffers, keep: Object.values(VQ_SITES),
    inputs: (x) => [tf.clone(x)],
    encode: (x) => tf.tidy(() => encoder.apply(x)),
    ...pictures(o, nets, state), afterStep: state.afterStep, beforeEpoch: state.beforeEpoch,
    usage: state.usage, perplexity: () => perplexity(state.usage()),
    dispose: () => { encoder.dispose(); decoder.dispose(); state.dispose() },
  }
}
