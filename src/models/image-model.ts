/**
 * What the `tfppl` command (and any training script) needs from an image
 * model: its programs, how a batch becomes program arguments, and the
 * pictures it can draw. Every model family implements it.
 */
import type * as tf from '@tensorflow/tfjs-core'
import type { Message } from '../dsl/messages.js'
import type { ProgramFn } from '../inference/loss.js'

/** The model families. */
export type ModelKind = 'vae' | 'cvae' | 'ladder' | 'vqvae' | 'ssvae'

/** A model-specific picture or chart for the report (VQ-VAE: the codebook and code usage). */
export interface Extra {
  readonly title: string
  /** Images [n, h, w, c] in [0, 1] (drawn as a grid), or counts (drawn as a histogram). */
  readonly images?: tf.Tensor4D
  readonly counts?: readonly number[]
  readonly caption: string
}

/** An image model over batches of images [n, h, w, c] in [0, 1] with integer labels. */
export interface ImageModel {
  readonly kind: ModelKind
  readonly imageShape: readonly [number, number, number]
  readonly model: ProgramFn<readonly tf.Tensor[], Message>
  readonly guide: ProgramFn<readonly tf.Tensor[], Message>
  /** The program arguments for a batch (e.g. [x flattened] or [x, one-hot y]); the caller disposes them. */
  readonly inputs: (images: tf.Tensor4D, labels: tf.Tensor1D) => tf.Tensor[]
  /** n images from the model, in [0, 1]; `cls` picks the class where the model is conditional. */
  readonly sample: (n: number, seed: number, cls?: number) => tf.Tensor4D
  /** Mean reconstructions of a batch. */
  readonly reconstruct: (images: tf.Tensor4D, labels: tf.Tensor1D) => tf.Tensor4D
  /** rows × steps images: each row varies one latent dim over [−3, 3] (2-D latents: the decoded manifold). */
  readonly traverse: (rows: number, steps: number, seed: number) => tf.Tensor4D
  /** Semi-supervised models: the program arguments of a labelled batch (e.g. [x flattened, one-hot y]; `inputs` gives the unlabelled ones); the caller disposes them. */
  readonly labelledInputs?: (images: tf.Tensor4D, labels: tf.Tensor1D) => tf.Tensor[]
  /** A classifier's class probabilities [n, K] for x in `inputs` form (the semi-supervised VAE's q(y | x)); reports show its test accuracy. */
  readonly classify?: (x: tf.Tensor) => tf.Tensor
  /** Report pictures beyond samples/reconstructions/traversal. */
  readonly extras?: () => readonly Extra[]
  /**
   * After each step, with the step's arguments (EMA codebooks, dead-code restarts) and the values the
   * step kept of the sites in `keep` (`svi({ keep })`, then `takeKept()`), so that it need not compute
   * them again. Whatever it (or `beforeEpoch`) keeps between calls that changes training must live in
   * tf.Variables registered as buffers of one of the model's modules (`NetworkWithBuffers` in
   * `inference/params.ts`): checkpoints save and restore them, so a resumed run trains exactly like an
   * uninterrupted one. A plain JS counter would restart from zero on resume.
   */
  readonly afterStep?: (args: readonly tf.Tensor[], kept?: Readonly<Record<string, tf.Tensor>>) => void
  /** The deterministic sites whose values of each step `afterStep` reads (to give `svi({ keep })`). */
  readonly keep?: readonly string[]
  /** Before each epoch (1-based): schedules such as KL warm-up. */
  readonly beforeEpoch?: (epoch: number) => void
  /** Frees the networks' weights. */
  readonly dispose: () => void
}
