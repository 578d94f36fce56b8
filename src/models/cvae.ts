/**
 * The conditional VAE (Sohn et al. 2015) written with the DSL: p(z | c) p(x | z, c)
 * with q(z | x, c). `prior: 'independent'` takes p(z | c) = N(0, I);
 * `prior: 'conditional'` learns p(z | c) = N(μ(c), σ(c)) with a prior network.
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo } from '../backend/numerics.js'
import { InvalidArgumentError } from '../errors.js'
import { subSeed } from '../backend/seed.js'
import { normal } from '../distributions/normal.js'
import { module, observe, plate, sample } from '../dsl/primitives.js'
import { gen } from '../dsl/program.js'
import { oneHot } from '../data/labels.js'
import { gaussianHead, pixelLikelihood, pixelMean } from './heads.js'
import type { Likelihood } from './heads.js'
import type { ImageModel } from './image-model.js'
import { asImages, priorDraws, traversalLatents } from './latent-grid.js'
import { mlp } from './networks.js'
import type { Activation, DenseInit, OwnedNetwork } from './networks.js'

/** Options of {@link cvae}. */
export interface CvaeOptions {
  readonly imageShape: readonly [number, number, number]
  readonly numClasses: number
  readonly zDim: number
  readonly hidden?: readonly number[]
  readonly activation?: Activation
  /** Dense initialisation: 'fanIn' (default, as {@link vae}: PyTorch's U(±1/√fan_in)) or 'glorot'. */
  readonly init?: DenseInit
  readonly likelihood?: Likelihood
  readonly prior?: 'independent' | 'conditional'
  readonly seed?: number
}

/** A conditional VAE over flat images x [B, h·w·c] and one-hot classes c [B, K]. */
export interface Cvae extends ImageModel {
  readonly kind: 'cvae'
  readonly model: (x: tf.Tensor, c: tf.Tensor) => ReturnType<typeof gen>
  readonly guide: (x: tf.Tensor, c: tf.Tensor) => ReturnType<typeof gen>
  readonly networks: { readonly encoder: OwnedNetwork; readonly decoder: OwnedNetwork; readonly prior?: OwnedNetwork }
}

interface Nets { encoder: OwnedNetwork; decoder: OwnedNetwork; prior?: OwnedNetwork }

const makeNets = (o: CvaeOptions, xDim: number): Nets => {
  const hidden = o.hidden ?? [400], activation = o.activation ?? 'softplus', init = o.init ?? 'fanIn', k = o.numClasses
  return {
    encoder: mlp({ sizes: [xDim + k, ...hidden, 2 * o.zDim], activation, init, seed: subSeed(o.seed, 0) }),
    decoder: mlp({ sizes: [o.zDim + k, ...[...hidden].reverse(), xDim], activation, init, seed: subSeed(o.seed, 1) }),
    ...(o.prior === 'conditional' ? { prior: mlp({ sizes: [k, hidden[0] ?? 64, 2 * o.zDim], activation, init, seed: subSeed(o.seed, 2) }) } : {}),
  }
}

/** [z, c] on the last axis, c broadcast over z's leading (particle) dims: the decoder's input. */
const withClass = (z: tf.Tensor, c: tf.Tensor): tf.Tensor =>
  tf.concat([z, z.rank === c.rank ? c : broadcastTo(c, [...z.shape.slice(0, -1), c.shape[c.rank - 1]!])], -1)

/** p(z | c): N(0, I), or the prior network's Gaussian. */
const priorOf = (nets: Nets, zDim: number) => (c: tf.Tensor) => gen(function* () {
  if (nets.prior === undefined) return normal(tf.zeros([c.shape[0]!, zDim]), 1).toEvent(1)
  const net = yield* module('prior', nets.prior)
  const { loc, scale } = gaussianHead(net(c), zDim)
  return normal(loc, scale).toEvent(1)
})

/**
 * A conditional VAE; `inputs` turns a batch into [x flat, one-hot c].
 *
 * @example
 * const m = cvae({ imageShape: [28, 28, 1], numClasses: 10, zDim: 16, prior: 'conditional' })
 * await svi({ optimizer: tf.train.adam(1e-3), loss: elbo() }).fit(m.model, m.guide, [x, c], { epochs: 10 })
 */
export const cvae = (o: CvaeOptions): Cvae => {
  if (!Number.isInteger(o.numClasses) || o.numClasses < 2) throw new InvalidArgumentError(`cvae: numClasses must be an integer ≥ 2; got ${o.numClasses}`)
  if (!Number.isInteger(o.zDim) || o.zDim < 1) throw new InvalidArgumentError(`cvae: zDim must be a positive integer; got ${o.zDim}`)
  const xDim = o.imageShape.reduce((a, b) => a * b, 1)
  const nets = makeNets(o, xDim), lik = o.likelihood ?? 'bernoulli'
  const prior = priorOf(nets, o.zDim)
  const model = (x: tf.Tensor, c: tf.Tensor) => gen(function* () {
    const decode = yield* module('decoder', nets.decoder)
    const pz = yield* prior(c)
    yield* plate('data', x.shape[0]!, {}, () => gen(function* () {
      const z = yield* sample('z', pz)
      yield* observe('x', pixelLikelihood(lik, decode(withClass(z, c)), 1), x)
    }))
  })
  const guide = (x: tf.Tensor, c: tf.Tensor) => gen(function* () {
    const encode = yield* module('encoder', nets.encoder)
    const { loc, scale } = gaussianHead(encode(tf.concat([x, c], 1)), o.zDim)
    yield* plate('data', x.shape[0]!, {}, () => gen(function* () { yield* sample('z', normal(loc, scale).toEvent(1)) }))
  })
  const classes = (n: number, cls?: number) => oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => cls ?? i % o.numClasses), 'int32'), o.numClasses)
  const latents = (c: tf.Tensor, seed: number) => nets.prior === undefined ? priorDraws(c.shape[0]!, o.zDim, seed)
    : (() => { const { loc, scale } = gaussianHead(nets.prior.apply(c), o.zDim); return tf.add(loc, tf.mul(scale, priorDraws(c.shape[0]!, o.zDim, seed))) })()
  const images = (z: tf.Tensor, c: tf.Tensor) => asImages(pixelMean(lik, nets.decoder.apply(tf.concat([z, c], 1))), o.imageShape)
  return {
    kind: 'cvae', imageShape: o.imageShape, model, guide, networks: nets,
    inputs: (x, labels) => [tf.reshape(x, [x.shape[0], xDim]), oneHot(labels, o.numClasses)],
    sample: (n, seed, cls) => tf.tidy(() => { const c = classes(n, cls); return images(latents(c, seed), c) }),
    reconstruct: (x, labels) => tf.tidy(() => {
      const c = oneHot(labels, o.numClasses)
      return images(gaussianHead(nets.encoder.apply(tf.concat([tf.reshape(x, [x.shape[0], xDim]), c], 1)), o.zDim).loc, c)
    }),
    traverse: (rows, cols) => tf.tidy(() => {
      const c = oneHot(tf.tensor1d(Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols) % o.numClasses), 'int32'), o.numClasses)
      return images(traversalLatents(rows, cols, o.zDim), c)
    }),
    dispose: () => { for (const n of Object.values(nets)) (n as OwnedNetwork).dispose() },
  }
}
