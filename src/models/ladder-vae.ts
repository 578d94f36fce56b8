/**
 * The ladder VAE (Sønderby et al. 2016) written with the DSL: a hierarchical
 * chain p(z_L) ∏ p(z_l | z_{l+1}) p(x | z_1), with top-down inference — a
 * deterministic bottom-up pass gives (μ̂_l, σ̂_l) at every layer, and the guide
 * merges them with the generative top-down (μ_p, σ_p) by precision weighting:
 *   σ_q² = 1 / (σ̂⁻² + σ_p⁻²),  μ_q = σ_q² (μ̂ σ̂⁻² + μ_p σ_p⁻²).
 * KL warm-up: every latent site is `scaled` by β, rising 0 → 1 over `warmup` epochs.
 * (The paper's batch normalisation is left out.)
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { softplus } from '../backend/numerics.js'
import { subSeed } from '../backend/seed.js'
import { normal } from '../distributions/normal.js'
import { module, observe, plate, sample, scaled } from '../dsl/primitives.js'
import { gen } from '../dsl/program.js'
import { gaussianHead, pixelLikelihood, pixelMean } from './heads.js'
import type { Likelihood } from './heads.js'
import type { ImageModel } from './image-model.js'
import { asImages, priorDraws, traversalLatents } from './latent-grid.js'
import { mlp } from './networks.js'
import type { OwnedNetwork } from './networks.js'

/** Options of {@link ladderVae}. */
export interface LadderVaeOptions {
  readonly imageShape: readonly [number, number, number]
  /** Latent sizes from the bottom (z_1, next to x) to the top (z_L), e.g. [64, 32]. */
  readonly latentDims: readonly number[]
  /** Width of every deterministic layer (default 256). */
  readonly hidden?: number
  readonly likelihood?: Likelihood
  /** Epochs over which β rises linearly from 0 to 1 (0: no warm-up; default 0). */
  readonly warmup?: number
  /** Steps per epoch: when given, β rises after every step instead of once per epoch. */
  readonly stepsPerEpoch?: number
  /** Floor on every Gaussian scale of the ladder, bottom-up and top-down (default 1e-4). */
  readonly minScale?: number
  readonly seed?: number
}

/** A ladder VAE over flat images x [B, h·w·c]. */
export interface LadderVae extends ImageModel {
  readonly kind: 'ladder'
  /** The current KL weight β. */
  readonly beta: () => number
}

interface Nets { up: OwnedNetwork[]; heads: OwnedNetwork[]; topDown: OwnedNetwork[]; decoder: OwnedNetwork }

const makeNets = (o: LadderVaeOptions, xDim: number): Nets => {
  const h = o.hidden ?? 256, dims = o.latentDims, L = dims.length
  return {
    up: dims.map((_, l) => mlp({ sizes: [l === 0 ? xDim : h, h], seed: subSeed(o.seed, 10 + l) })),
    heads: dims.map((d, l) => mlp({ sizes: [h, 2 * d], seed: subSeed(o.seed, 20 + l) })),
    topDown: dims.slice(0, L - 1).map((d, l) => mlp({ sizes: [dims[l + 1]!, h, 2 * d], seed: subSeed(o.seed, 30 + l) })),
    decoder: mlp({ sizes: [dims[0]!, h, xDim], seed: subSeed(o.seed, 40) }),
  }
}

/** Precision-weighted merge of two Gaussians' parameters. */
export const precisionMerge = (loc1: tf.Tensor, scale1: tf.Tensor, loc2: tf.Tensor, scale2: tf.Tensor): { loc: tf.Tensor; scale: tf.Tensor } => {
  const p1 = tf.reciprocal(tf.square(scale1)), p2 = tf.reciprocal(tf.square(scale2))
  const variance = tf.reciprocal(tf.add(p1, p2))
  return { loc: tf.mul(variance, tf.add(tf.mul(loc1, p1), tf.mul(loc2, p2))), scale: tf.sqrt(variance) }
}

const checkOptions = (o: LadderVaeOptions): void => {
  if (o.latentDims.length < 1 || o.latentDims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new InvalidArgumentError(`ladderVae: latentDims must be positive integers, bottom (z_1) first; got ${JSON.stringify(o.latentDims)}`)
  }
  if (o.warmup !== undefined && !(o.warmup >= 0)) throw new InvalidArgumentError(`ladderVae: warmup must be ≥ 0 epochs; got ${o.warmup}`)
  if (o.stepsPerEpoch !== undefined && !(Number.isInteger(o.stepsPerEpoch) && o.stepsPerEpoch >= 1)) {
    throw new InvalidArgumentError(`ladderVae: stepsPerEpoch must be a positive integer; got ${o.stepsPerEpoch}`)
  }
  if (o.minScale !== undefined && !(o.minScale > 0)) throw new InvalidArgumentError(`ladderVae: minScale must be > 0; got ${o.minScale}`)
}

/**
 * A ladder VAE.
 *
 * @example
 * const m = ladderVae({ imageShape: [28, 28, 1], latentDims: [64, 32], warmup: 5 })
 * await svi({ optimizer: tf.train.adam(1e-3), loss: elbo() }).fit(m.model, m.guide, x, { epochs: 10, onEpochStart: m.beforeEpoch })
 */
export const ladderVae = (o: LadderVaeOptions): LadderVae => {
  checkOptions(o)
  const xDim = o.imageShape.reduce((a, b) => a * b, 1), dims = o.latentDims, L = dims.length, lik = o.likelihood ?? 'bernoulli'
  const nets = makeNets(o, xDim), floor = o.minScale
  // β = 1 outside training (eval, sampling); beforeEpoch (and afterStep, per step) set the warm-up value.
  const state = { beta: 1, epoch: 1, step: 0 }
  const warm = (): void => {
    const w = o.warmup ?? 0, spe = o.stepsPerEpoch
    state.beta = w > 0 ? Math.min(1, (state.epoch - 1 + (spe === undefined ? 0 : Math.min(state.step, spe) / spe)) / w) : 1
  }
  const name = (l: number) => `z${l + 1}`
  const model = (x: tf.Tensor) => gen(function* () {
    const td = [] as Array<(z: tf.Tensor) => tf.Tensor>
    for (let l = 0; l < L - 1; l++) td.push(yield* module(`topdown${l + 1}`, nets.topDown[l]!))
    const decode = yield* module('decoder', nets.decoder)
    yield* plate('data', x.shape[0]!, {}, () => gen(function* () {
      const z1 = yield* scaled(state.beta, () => gen(function* () {
        let z = yield* sample(name(L - 1), normal(tf.zeros([x.shape[0]!, dims[L - 1]!]), 1).toEvent(1))
        for (let l = L - 2; l >= 0; l--) {
          const { loc, scale } = gaussianHead(td[l]!(z), dims[l]!, floor)
          z = yield* sample(name(l), normal(loc, scale).toEvent(1))
        }
        return z
      }))
      yield* observe('x', pixelLikelihood(lik, decode(z1), 1), x)
    }))
  })
  const guide = (x: tf.Tensor) => gen(function* () {
    const heads: Array<{ loc: tf.Tensor; scale: tf.Tensor }> = []
    let d = x
    for (let l = 0; l < L; l++) {
      d = softplus((yield* module(`up${l + 1}`, nets.up[l]!))(d))
      heads.push(gaussianHead((yield* module(`head${l + 1}`, nets.heads[l]!))(d), dims[l]!, floor))
    }
    const td = [] as Array<(z: tf.Tensor) => tf.Tensor>
    for (let l = 0; l < L - 1; l++) td.push(yield* module(`topdown${l + 1}`, nets.topDown[l]!))
    yield* plate('data', x.shape[0]!, {}, () => scaled(state.beta, () => gen(function* () {
      let z = yield* sample(name(L - 1), normal(heads[L - 1]!.loc, heads[L - 1]!.scale).toEvent(1))
      for (let l = L - 2; l >= 0; l--) {
        const p = gaussianHead(td[l]!(z), dims[l]!, floor)
        const q = precisionMerge(heads[l]!.loc, heads[l]!.scale, p.loc, p.scale)
        z = yield* sample(name(l), normal(q.loc, q.scale).toEvent(1))
      }
    })))
  })
  return { kind: 'ladder', imageShape: o.imageShape, model, guide, beta: () => state.beta, ...pictures(o, nets, xDim, lik),
    beforeEpoch: (epoch) => { state.epoch = epoch; state.step = 0; warm() },
    afterStep: () => { state.step += 1; if (o.stepsPerEpoch !== undefined) warm() },
    dispose: () => { for (const n of [...nets.up, ...nets.heads, ...nets.topDown, nets.decoder]) n.dispose() },
  }
}

/** Sampling, reconstruction and traversal by the networks' means. */
const pictures = (o: LadderVaeOptions, nets: Nets, xDim: number, lik: Likelihood) => {
  const dims = o.latentDims, L = dims.length, floor = o.minScale   // undefined: gaussianHead's default
  /** From z_L down to an image, taking the top-down means (or draws with `noise`). */
  const descend = (zTop: tf.Tensor, seed?: number): tf.Tensor4D => {
    let z = zTop
    for (let l = L - 2; l >= 0; l--) {
      const { loc, scale } = gaussianHead(nets.topDown[l]!.apply(z), dims[l]!, floor)
      z = seed === undefined ? loc : tf.add(loc, tf.mul(scale, priorDraws(z.shape[0]!, dims[l]!, seed + l + 1)))
    }
    return asImages(pixelMean(lik, nets.decoder.apply(z)), o.imageShape)
  }
  const inferMeans = (x: tf.Tensor): tf.Tensor4D => {
    let d = x
    const heads = nets.up.map((up, l) => { d = softplus(up.apply(d)); return gaussianHead(nets.heads[l]!.apply(d), dims[l]!, floor) })
    let z = heads[L - 1]!.loc
    for (let l = L - 2; l >= 0; l--) {
      const p = gaussianHead(nets.topDown[l]!.apply(z), dims[l]!, floor)
      z = precisionMerge(heads[l]!.loc, heads[l]!.scale, p.loc, p.scale).loc
    }
    return asImages(pixelMean(lik, nets.decoder.apply(z)), o.imageShape)
  }
  return {
    inputs: (x: tf.Tensor4D) => [tf.reshape(x, [x.shape[0], xDim])],
    sample: (n: number, seed: number) => tf.tidy(() => descend(priorDraws(n, dims[L - 1]!, seed), seed)),
    reconstruct: (x: tf.Tensor4D) => tf.tidy(() => inferMeans(tf.reshape(x, [x.shape[0], xDim]))),
    traverse: (rows: number, cols: number) => tf.tidy(() => descend(traversalLatents(rows, cols, dims[L - 1]!))),
  }
}
