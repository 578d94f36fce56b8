/**
 * The variational autoencoder (Kingma & Welling 2014) written with the DSL:
 * p(z) = N(0, I), p(x | z) = a pixel likelihood on a decoder network,
 * q(z | x) = N(μ(x), σ(x)) from an encoder network. `beta` ≠ 1 gives the β-VAE
 * (Higgins et al. 2017): the latent site is scaled by β in model and guide.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { subSeed } from '../backend/seed.js'
import * as constraints from '../distributions/constraints.js'
import { normal } from '../distributions/normal.js'
import { module, observe, param, plate, sample, scaled } from '../dsl/primitives.js'
import { gen } from '../dsl/program.js'
import { convDecoder, convEncoder, mlp } from './networks.js'
import type { Activation, DenseInit, OwnedNetwork } from './networks.js'
import { gaussianHead, pixelLikelihood, pixelMean } from './heads.js'
import type { Likelihood, ScaleLink } from './heads.js'
import type { ImageModel } from './image-model.js'
import { asImages, priorDraws, traversalLatents } from './latent-grid.js'

/** Options of {@link vae}. */
export interface VaeOptions {
  /** Flat input size (MLP); or give `imageShape` [h, w, c] with `conv: true`. */
  readonly xDim?: number
  readonly imageShape?: readonly [number, number, number]
  readonly conv?: boolean
  readonly zDim: number
  /** Hidden layer sizes of the MLP encoder (the decoder mirrors them). Default [400]. */
  readonly hidden?: readonly number[]
  readonly activation?: Activation
  /** MLP initialisation: 'fanIn' (default; PyTorch's `nn.Linear` U(±1/√fan_in): better than 'glorot' on the Fashion protocol, bench/RESULTS.md) or 'glorot'. */
  readonly init?: DenseInit
  /** How the encoder's raw output becomes σ of q(z | x): 'softplus' (default) or 'exp'. */
  readonly scaleLink?: ScaleLink
  readonly likelihood?: Likelihood
  /** KL weight β (default 1). */
  readonly beta?: number
  readonly seed?: number
}

/** A VAE: model and guide programs over a batch `x`, its networks, and helpers. */
export interface Vae extends ImageModel {
  readonly kind: 'vae'
  readonly model: ReturnType<typeof vaeModel>
  readonly guide: ReturnType<typeof vaeGuide>
  readonly networks: { readonly encoder: OwnedNetwork; readonly decoder: OwnedNetwork }
  readonly zDim: number
  readonly likelihood: Likelihood
  /** q(z | x): loc and scale. */
  readonly encode: (x: tf.Tensor) => { loc: tf.Tensor; scale: tf.Tensor }
  /** The mean image of p(x | z), in the networks' layout (flat for an MLP). */
  readonly decode: (z: tf.Tensor) => tf.Tensor
}


const prior = (n: number, zDim: number) => normal(tf.zeros([n, zDim]), 1).toEvent(1)

const vaeModel = (o: Required<Pick<VaeOptions, 'zDim' | 'likelihood' | 'beta'>>, decoder: OwnedNetwork) => (x: tf.Tensor) => gen(function* () {
  const decode = yield* module('decoder', decoder)
  return yield* plate('data', x.shape[0]!, {}, () => gen(function* () {
    const z = yield* scaled(o.beta, () => gen(function* () { return yield* sample('z', prior(x.shape[0]!, o.zDim)) }))
    const obsScale = o.likelihood === 'gaussian' ? yield* param('x_scale', () => tf.scalar(0.1), { constraint: constraints.positive }) : undefined
    yield* observe('x', pixelLikelihood(o.likelihood, decode(z), x.rank - 1, obsScale), x)
    return z
  }))
})

const vaeGuide = (o: Required<Pick<VaeOptions, 'zDim' | 'beta' | 'scaleLink'>>, encoder: OwnedNetwork) => (x: tf.Tensor) => gen(function* () {
  const encode = yield* module('encoder', encoder)
  const { loc, scale } = gaussianHead(encode(x), o.zDim, undefined, o.scaleLink)
  return yield* plate('data', x.shape[0]!, {}, () => scaled(o.beta, () => gen(function* () { return yield* sample('z', normal(loc, scale).toEvent(1)) })))
})

const networksFor = (o: VaeOptions): { encoder: OwnedNetwork; decoder: OwnedNetwork } => {
  const hidden = o.hidden ?? [400]
  if (o.conv === true) {
    const [h, w, c] = o.imageShape ?? [0, 0, 0]
    if (h !== 28 || w !== 28) throw new InvalidArgumentError(`vae: the conv networks take 28×28 images; got imageShape ${JSON.stringify(o.imageShape)}`)
    return { encoder: convEncoder({ channels: c, outDim: 2 * o.zDim, seed: subSeed(o.seed, 0) }), decoder: convDecoder({ inDim: o.zDim, channels: c, seed: subSeed(o.seed, 1) }) }
  }
  const xDim = o.xDim ?? (o.imageShape === undefined ? undefined : o.imageShape.reduce((a, b) => a * b, 1))
  if (xDim === undefined) throw new InvalidArgumentError('vae: give xDim (flat inputs) or imageShape')
  return {
    encoder: mlp({ sizes: [xDim, ...hidden, 2 * o.zDim], activation: o.activation ?? 'softplus', init: o.init ?? 'fanIn', seed: subSeed(o.seed, 0) }),
    decoder: mlp({ sizes: [o.zDim, ...[...hidden].reverse(), xDim], activation: o.activation ?? 'softplus', init: o.init ?? 'fanIn', seed: subSeed(o.seed, 1) }),
  }
}

/**
 * A VAE (MLP or conv) with a Bernoulli, continuous-Bernoulli or Gaussian likelihood.
 *
 * @example
 * const m = vae({ xDim: 784, zDim: 50, hidden: [400] })
 * await svi({ optimizer: tf.train.adam(1e-3), loss: elbo() }).fit(m.model, m.guide, x, { epochs: 10, batchSize: 128 })
 */
export const vae = (opts: VaeOptions): Vae => {
  if (!Number.isInteger(opts.zDim) || opts.zDim < 1) throw new InvalidArgumentError(`vae: zDim must be a positive integer; got ${opts.zDim}`)
  const o = { zDim: opts.zDim, likelihood: opts.likelihood ?? 'bernoulli', beta: opts.beta ?? 1, scaleLink: opts.scaleLink ?? 'softplus' } as const
  const networks = networksFor(opts)
  const shape = opts.imageShape ?? [opts.xDim ?? 0, 1, 1] as const
  const flat = opts.conv !== true
  const encode = (x: tf.Tensor) => tf.tidy(() => gaussianHead(networks.encoder.apply(x), o.zDim, undefined, o.scaleLink))
  const decode = (z: tf.Tensor) => tf.tidy(() => pixelMean(o.likelihood, networks.decoder.apply(z)))
  const images = (z: tf.Tensor) => tf.tidy(() => asImages(decode(z), shape))
  return {
    kind: 'vae', imageShape: shape,
    model: vaeModel(o, networks.decoder), guide: vaeGuide(o, networks.encoder), networks, zDim: o.zDim, likelihood: o.likelihood,
    inputs: (x) => [flat ? tf.reshape(x, [x.shape[0], -1]) : tf.clone(x)],
    encode, decode,
    sample: (n, seed) => tf.tidy(() => images(priorDraws(n, o.zDim, seed))),
    reconstruct: (x) => tf.tidy(() => images(encode(flat ? tf.reshape(x, [x.shape[0], -1]) : x).loc)),
    traverse: (rows, cols) => tf.tidy(() => images(traversalLatents(rows, cols, o.zDim))),
    dispose: () => { networks.encoder.dispose(); networks.decoder.dispose() },
  }
}
