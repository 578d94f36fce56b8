/**
 * Networks for `module`: anything with a forward pass and trainable variables.
 * tfjs-layers models are accepted as they are (their `trainableWeights`).
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { Network } from './messages.js'

/** The part of a tfjs-layers `LayersModel` that `module` uses. */
export interface LayersLike {
  readonly apply: (inputs: tf.Tensor | tf.Tensor[]) => unknown
  /** tfjs-layers types `read()` as a Tensor; it is the layer's Variable. */
  readonly trainableWeights: ReadonlyArray<{ read: () => tf.Tensor }>
}

/** A network, or a tfjs-layers model. */
export type NetworkLike<I = tf.Tensor, O = tf.Tensor> = Network<I, O> | LayersLike

const isLayers = (n: NetworkLike<never, unknown>): n is LayersLike => 'trainableWeights' in n

/**
 * Normalises a tfjs-layers model (or a plain {@link Network}) to a `Network`.
 *
 * @example
 * const net = asNetwork<tf.Tensor, tf.Tensor>(tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] }))
 */
export const asNetwork = <I, O>(n: NetworkLike<I, O>): Network<I, O> =>
  isLayers(n as NetworkLike<never, unknown>)
    ? { apply: (x: I) => (n as LayersLike).apply(x as unknown as tf.Tensor) as O, get variables() { return (n as LayersLike).trainableWeights.map((w) => w.read() as tf.Variable) } }
    : n as Network<I, O>
