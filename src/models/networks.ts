/**
 * Small networks for the model families, as `Network`s (a forward pass plus
 * trainable variables): MLPs and the 28×28 conv encoder/decoder pair. Weights
 * are created at construction, Glorot-uniform from a seed; `dispose()` frees them.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { dense } from '../backend/dense.js'
import type { DenseActivation } from '../backend/dense.js'
import { subSeed } from '../backend/seed.js'
import { convLayer } from '../backend/conv-layer.js'
import { reshapeTo } from '../backend/numerics.js'
import type { Network } from '../dsl/messages.js'

/** A network that owns its variables. */
export interface OwnedNetwork<I = tf.Tensor, O = tf.Tensor> extends Network<I, O> {
  readonly dispose: () => void
}

/** Hidden-unit nonlinearities. */
export type Activation = DenseActivation

/** A trainable U(−limit, limit) variable of `shape` (its initial tensor freed). */
const uniformVariable = (shape: number[], limit: number, seed: number | undefined): tf.Variable =>
  tf.tidy(() => tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', seed), true))

/** A Glorot-uniform variable of `shape` (fan-in/out from the last two dims and the receptive field). */
export const glorot = (shape: number[], seed: number | undefined, fanIn: number, fanOut: number): tf.Variable =>
  uniformVariable(shape, Math.sqrt(6 / (fanIn + fanOut)), seed)

/** A U(−1/√fanIn, 1/√fanIn) variable of `shape` (PyTorch's default for `nn.Linear` weights and biases). @example const w = fanInUniform([784, 400], 1, 784) */
export const fanInUniform = (shape: number[], seed: number | undefined, fanIn: number): tf.Variable =>
  uniformVariable(shape, 1 / Math.sqrt(fanIn), seed)

/** How dense layers are initialised: Glorot-uniform weights with zero biases, or PyTorch's U(±1/√fan_in) for both. */
export type DenseInit = 'glorot' | 'fanIn'

/** A zero-initialised trainable variable (its initial tensor freed). @example const b = zerosVariable(10) */
export const zerosVariable = (n: number): tf.Variable => tf.tidy(() => tf.variable(tf.zeros([n]), true))

const ownedBy = <I, O>(variables: tf.Variable[], apply: (x: I) => O): OwnedNetwork<I, O> =>
  ({ apply, variables, dispose: () => { for (const v of variables) v.dispose() } })

/**
 * A fully connected network: sizes [in, h1, …, out], `activation` after every layer but the last;
 * `init` 'glorot' (default) or 'fanIn' (PyTorch's `nn.Linear` default).
 *
 * @example const enc = mlp({ sizes: [784, 400, 100], activation: 'softplus', seed: 1 })
 */
export const mlp = (opts: { readonly sizes: readonly number[]; readonly activation?: Activation; readonly seed?: number; readonly init?: DenseInit }): OwnedNetwork => {
  const { sizes } = opts
  if (sizes.length < 2 || sizes.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new InvalidArgumentError(`mlp: sizes must be at least two positive integers (input, …, output); got ${JSON.stringify(sizes)}`)
  }
  const fanIn = opts.init === 'fanIn'
  const layers = sizes.slice(1).map((out, i) => ({
    w: fanIn ? fanInUniform([sizes[i]!, out], subSeed(opts.seed, 2 * i), sizes[i]!) : glorot([sizes[i]!, out], subSeed(opts.seed, 2 * i), sizes[i]!, out),
    b: fanIn ? fanInUniform([out], subSeed(opts.seed, 2 * i + 1), sizes[i]!) : zerosVariable(out),
  }))
  const activation = opts.activation ?? 'softplus'
  return ownedBy(layers.flatMap((l) => [l.w, l.b]), (x: tf.Tensor) =>
    layers.reduce((h, l, i) => dense(h, l.w, l.b, i === layers.length - 1 ? 'linear' : activation), x))
}

/**
 * The conv encoder for 28×28×c images: two stride-2 3×3 convolutions (32, 64 channels, ReLU), then a dense layer to `outDim`.
 *
 * @example const enc = convEncoder({ channels: 1, outDim: 2 * 16, seed: 1 })
 */
export const convEncoder = (opts: { readonly channels: number; readonly outDim: number; readonly seed?: number }): OwnedNetwork => {
  const c = opts.channels
  const k1 = glorot([3, 3, c, 32], subSeed(opts.seed, 0), 9 * c, 9 * 32), b1 = zerosVariable(32)
  const k2 = glorot([3, 3, 32, 64], subSeed(opts.seed, 1), 9 * 32, 9 * 64), b2 = zerosVariable(64)
  const head = mlp({ sizes: [7 * 7 * 64, opts.outDim], seed: subSeed(opts.seed, 2) })
  return ownedBy([k1, b1, k2, b2, ...head.variables], (x: tf.Tensor) => {
    const images = reshapeTo<tf.Tensor4D>(x, [-1, ...x.shape.slice(-3)])   // leading dims (particles, plates) folded into the batch
    const h1 = convLayer(images, k1 as tf.Tensor4D, b1 as tf.Tensor1D, { strides: 2, pad: 'same', activation: 'relu' })
    const h2 = convLayer(h1, k2 as tf.Tensor4D, b2 as tf.Tensor1D, { strides: 2, pad: 'same', activation: 'relu' })
    return reshapeTo(head.apply(tf.reshape(h2, [images.shape[0], 7 * 7 * 64])), [...x.shape.slice(0, -3), opts.outDim])
  })
}

/**
 * The conv decoder to 28×28×`channels` outputs: dense to 7×7×64 (ReLU), two stride-2 transposed convolutions (32, then `channels`).
 *
 * @example const dec = convDecoder({ inDim: 16, channels: 1, seed: 2 })
 */
export const convDecoder = (opts: { readonly inDim: number; readonly channels: number; readonly seed?: number }): OwnedNetwork => {
  const c = opts.channels
  const head = mlp({ sizes: [opts.inDim, 7 * 7 * 64], seed: subSeed(opts.seed, 0) })
  const [w0, b0] = head.variables as [tf.Variable, tf.Variable]   // its one layer, applied below with its ReLU fused
  const k1 = glorot([3, 3, 32, 64], subSeed(opts.seed, 1), 9 * 64, 9 * 32), b1 = zerosVariable(32)
  const k2 = glorot([3, 3, c, 32], subSeed(opts.seed, 2), 9 * 32, 9 * c), b2 = zerosVariable(c)
  return ownedBy([...head.variables, k1, b1, k2, b2], (z: tf.Tensor) => {
    const lead = z.shape.slice(0, -1)   // (particles, plates,) batch: folded into one batch dim
    const n = lead.reduce((a, b) => a * b, 1)
    const h = tf.reshape(dense(z, w0, b0, 'relu'), [n, 7, 7, 64]) as tf.Tensor4D
    const h1 = convLayer(h, k1 as tf.Tensor4D, b1 as tf.Tensor1D, { strides: 2, pad: 'same', activation: 'relu', transpose: [n, 14, 14, 32] })
    return reshapeTo(convLayer(h1, k2 as tf.Tensor4D, b2 as tf.Tensor1D, { strides: 2, pad: 'same', transpose: [n, 28, 28, c] }), [...lead, 28, 28, c])
  })
}
