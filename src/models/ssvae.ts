/**
 * The semi-supervised VAE (M2 of Kingma, Rezende, Mohamed & Welling 2014) written with the DSL:
 * p(y) = Cat(1/K), p(z) = N(0, I), p(x | y, z) = Bernoulli(decoder(z, y)); guide q(y | x) = Cat(classifier(x))
 * (enumerated for unlabelled points) and q(z | x, y) = N(encoder(x, y)). Labelled points observe y (the
 * guide does not sample it) and add α·log q(y | x) to the model through `factor`, reading the guide's
 * classifier under the same module name, so the classifier also learns from the labels.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { broadcastTo, softplus } from '../backend/numerics.js'
import { subSeed } from '../backend/seed.js'
import { bernoulli } from '../distributions/bernoulli.js'
import { normal } from '../distributions/normal.js'
import { oneHotCategorical } from '../distributions/one-hot-categorical.js'
import { broadcastShapes } from '../distributions/shape.js'
import { factor, module, observe, plate, sample } from '../dsl/primitives.js'
import { gen } from '../dsl/program.js'
import { oneHot } from '../data/labels.js'
import { gaussianHead } from './heads.js'
import type { ScaleLink } from './heads.js'
import type { ImageModel } from './image-model.js'
import { asImages, priorDraws, traversalLatents } from './latent-grid.js'
import { mlp } from './networks.js'
import type { Activation, DenseInit, OwnedNetwork } from './networks.js'

// ---------------------------------------------------------------------------
// model

/** Options of {@link ssvae}. */
export interface SsvaeOptions {
  /** Image shape [h, w, c] (default [28, 28, 1]); the networks see it flattened. */
  readonly imageShape?: readonly [number, number, number]
  /** K, the classes (default 10). */
  readonly numClasses?: number
  /** Size of z (default 50, as Pyro's ss_vae_M2). */
  readonly zDim?: number
  /** Hidden layers of the three MLPs (default [500], as Pyro's ss_vae_M2). */
  readonly hidden?: readonly number[]
  readonly activation?: Activation
  /** Dense initialisation: 'fanIn' (default, PyTorch's U(±1/√fan_in)) or 'glorot'. */
  readonly init?: DenseInit
  /** How q(z | x, y)'s raw output becomes its scale: 'softplus' (default) or 'exp' (Pyro's example). */
  readonly scaleLink?: ScaleLink
  /**
   * α, the weight of log q(y | x) per labelled point (default 46: Pyro's `aux_loss_multiplier` in
   * `examples/vae/ss_vae_M2.py`). Kingma et al. weight the mean over labelled points by α = 0.1·N,
   * which is 0.1·N/N_l per labelled point when every point is seen once an epoch (5 for N = 50,000
   * training images, N_l = 1,000 labelled).
   */
  readonly alpha?: number
  /**
   * 'grey' (default, as Pyro's example): pixels in [0, 1] scored by the Bernoulli log-density
   * Σ x·ℓ − softplus(ℓ) (a cross-entropy, outside Bernoulli's support for grey x, so it enters as
   * `factor('x', …)`); 'binary': {0, 1} pixels, `observe('x', bernoulli({ logits: ℓ }).toEvent(1), x)`.
   */
  readonly pixels?: 'grey' | 'binary'
  readonly seed?: number
}

/** The networks: the classifier of q(y | x), the encoder of q(z | x, y), the decoder of p(x | y, z). */
export interface SsvaeNetworks {
  readonly classifier: OwnedNetwork
  readonly encoder: OwnedNetwork
  readonly decoder: OwnedNetwork
}

/** A semi-supervised VAE over flat images x [B, D] and, for labelled batches, one-hot labels y [B, K]. */
export interface Ssvae extends ImageModel {
  readonly kind: 'ssvae'
  readonly model: ReturnType<typeof ssvaeModel>
  readonly guide: ReturnType<typeof ssvaeGuide>
  readonly networks: SsvaeNetworks
  readonly numClasses: number
  readonly zDim: number
  readonly alpha: number
  /** [x flat, one-hot y]: the arguments of a labelled batch (`inputs` gives the unlabelled [x]); the caller disposes them. */
  readonly labelledInputs: (images: tf.Tensor4D, labels: tf.Tensor1D) => tf.Tensor[]
  /** q(y | x): class probabilities [n, K] of flat images x [n, D]. */
  readonly classify: (x: tf.Tensor) => tf.Tensor
}

type Settings = Required<Pick<SsvaeOptions, 'numClasses' | 'zDim' | 'alpha' | 'pixels' | 'scaleLink'>>

// ---------------------------------------------------------------------------
// utils

/**
 * [a, b] on the last axis, their leading dims broadcast first: x [B, D] with an enumerated y
 * [K, 1, K] gives [K, B, D + K]; with a sampled y [B, K], [B, D + K].
 *
 * @example joinLast(x, y)   // the input of q(z | x, y)
 */
export const joinLast = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const lead = broadcastShapes('ssvae (joining two network inputs)', [['first', a.shape.slice(0, -1)], ['second', b.shape.slice(0, -1)]])
  const to = (t: tf.Tensor) => t.rank - 1 === lead.length && t.shape.slice(0, -1).every((d, i) => d === lead[i]) ? t : broadcastTo(t, [...lead, t.shape[t.rank - 1]!])
  return tf.concat([to(a), to(b)], -1)
}

/** Σ over the last dim of x·ℓ − softplus(ℓ): the Bernoulli log-density of grey pixels x (shape: ℓ's without its last dim). */
const greyLogLikelihood = (logits: tf.Tensor, x: tf.Tensor): tf.Tensor => tf.sum(tf.sub(tf.mul(x, logits), softplus(logits)), -1)

/** The pixel term of p(x | y, z): a factor for grey pixels, an observation for binary ones. */
const pixelTerm = (pixels: Settings['pixels'], logits: tf.Tensor, x: tf.Tensor) =>
  pixels === 'grey' ? factor('x', greyLogLikelihood(logits, x)) : observe('x', bernoulli({ logits }).toEvent(1), x)

// ---------------------------------------------------------------------------
// programs

const ssvaeModel = (o: Settings, nets: SsvaeNetworks) => (x: tf.Tensor, y?: tf.Tensor) => gen(function* () {
  const decode = yield* module('decoder', nets.decoder)
  const classify = yield* module('classifier', nets.classifier)
  const n = x.shape[0]!
  yield* plate('data', n, {}, () => gen(function* () {
    const z = yield* sample('z', normal(tf.zeros([n, o.zDim]), 1).toEvent(1))
    const prior = oneHotCategorical({ logits: tf.zeros([n, o.numClasses]) })
    const label = y === undefined ? yield* sample('y', prior) : yield* observe('y', prior, y)
    yield* pixelTerm(o.pixels, decode(joinLast(z, label)), x)
    // Labelled points: α·log q(y | x), the guide's classifier read under its module name.
    if (y !== undefined) yield* factor('y_aux', tf.mul(o.alpha, oneHotCategorical({ logits: classify(x) }).logProb(y)))
  }))
})

const ssvaeGuide = (o: Settings, nets: SsvaeNetworks) => (x: tf.Tensor, y?: tf.Tensor) => gen(function* () {
  const encode = yield* module('encoder', nets.encoder)
  const classify = yield* module('classifier', nets.classifier)
  const n = x.shape[0]!
  yield* plate('data', n, {}, () => gen(function* () {
    // Labelled points: y is given, not sampled; unlabelled: q(y | x), summed over its K values under enumElbo.
    const label = y ?? (yield* sample('y', oneHotCategorical({ logits: classify(x) }), { enumerate: 'parallel' }))
    const { loc, scale } = gaussianHead(encode(joinLast(x, label)), o.zDim, undefined, o.scaleLink)
    yield* sample('z', normal(loc, scale).toEvent(1))
  }))
})

// ---------------------------------------------------------------------------
// constructors

const checkOptions = (o: SsvaeOptions): void => {
  const positive = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new InvalidArgumentError(`ssvae: ${name} must be an integer ≥ ${min}; got ${v}`)
  }
  positive('numClasses', o.numClasses, 2)
  positive('zDim', o.zDim, 1)
  if (o.alpha !== undefined && !(Number.isFinite(o.alpha) && o.alpha >= 0)) throw new InvalidArgumentError(`ssvae: alpha must be a finite number ≥ 0 (the weight of log q(y | x) per labelled point); got ${o.alpha}`)
  if (o.pixels !== undefined && o.pixels !== 'grey' && o.pixels !== 'binary') throw new InvalidArgumentError(`ssvae: pixels must be 'grey' or 'binary'; got ${JSON.stringify(o.pixels)}`)
}

const makeNetworks = (o: SsvaeOptions, xDim: number, k: number, zDim: number): SsvaeNetworks => {
  const hidden = o.hidden ?? [500], activation = o.activation ?? 'softplus', init = o.init ?? 'fanIn'
  return {
    classifier: mlp({ sizes: [xDim, ...hidden, k], activation, init, seed: subSeed(o.seed, 0) }),
    encoder: mlp({ sizes: [xDim + k, ...hidden, 2 * zDim], activation, init, seed: subSeed(o.seed, 1) }),
    decoder: mlp({ sizes: [zDim + k, ...[...hidden].reverse(), xDim], activation, init, seed: subSeed(o.seed, 2) }),
  }
}

/**
 * The semi-supervised VAE M2. Train it on a labelled stream [x, y] and an unlabelled stream [x]
 * (`svi.fit` with `{ streams }`); under `enumElbo` the guide's y is summed over its K values, under
 * `elbo()` it is sampled (score function). ELBO of an unlabelled point:
 * Σ_y q(y | x) (E_q(z|x,y)[log p(x | y, z)] + log p(y) − KL(q(z | x, y) ‖ p(z)) − log q(y | x));
 * of a labelled point: E_q(z|x,y)[log p(x | y, z)] + log p(y) − KL(q(z | x, y) ‖ p(z)) + α·log q(y | x).
 *
 * @example
 * const m = ssvae({ zDim: 50, alpha: 46, seed: 0 })
 * const s = svi({ optimizer: tf.train.adam(4.2e-4), loss: elbo() })
 * await s.fit(m.model, m.guide, { streams: [{ data: [xl, yl] }, { data: [xu] }] }, { epochs: 50, batchSize: 200 })
 * const probs = m.classify(xTest)   // [n, 10]
 */
export const ssvae = (opts: SsvaeOptions = {}): Ssvae => {
  checkOptions(opts)
  const imageShape = opts.imageShape ?? [28, 28, 1] as const
  const o: Settings = { numClasses: opts.numClasses ?? 10, zDim: opts.zDim ?? 50, alpha: opts.alpha ?? 46, pixels: opts.pixels ?? 'grey', scaleLink: opts.scaleLink ?? 'softplus' }
  const xDim = imageShape.reduce((a, b) => a * b, 1), k = o.numClasses
  const nets = makeNetworks(opts, xDim, k, o.zDim)
  const flat = (images: tf.Tensor) => tf.reshape(images, [images.shape[0]!, xDim])
  const classes = (n: number, cls?: number) => oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => cls ?? i % k), 'int32'), k)
  const images = (z: tf.Tensor, y: tf.Tensor) => asImages(tf.sigmoid(nets.decoder.apply(joinLast(z, y))), imageShape)
  const classify = (x: tf.Tensor) => tf.tidy(() => tf.softmax(nets.classifier.apply(x)))
  return {
    kind: 'ssvae', imageShape, numClasses: k, zDim: o.zDim, alpha: o.alpha, networks: nets,
    model: ssvaeModel(o, nets), guide: ssvaeGuide(o, nets), classify,
    inputs: (x) => [flat(x)],
    labelledInputs: (x, labels) => [flat(x), oneHot(labels, k)],
    sample: (n, seed, cls) => tf.tidy(() => images(priorDraws(n, o.zDim, seed), classes(n, cls))),
    // y = the classifier's most probable class, z = the mean of q(z | x, y).
    reconstruct: (x) => tf.tidy(() => {
      const xs = flat(x), y = tf.oneHot(tf.argMax(nets.classifier.apply(xs), -1), k).toFloat()
      return images(gaussianHead(nets.encoder.apply(joinLast(xs, y)), o.zDim, undefined, o.scaleLink).loc, y)
    }),
    traverse: (rows, cols) => tf.tidy(() => images(traversalLatents(rows, cols, o.zDim), classes(rows * cols, 0))),
    dispose: () => { for (const net of Object.values(nets)) (net as OwnedNetwork).dispose() },
  }
}
