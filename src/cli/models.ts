/**
 * The model registry of the `tfppl` command: how each model kind is built
 * from the run's settings, and what the command must know about it (whether
 * it takes binarised pixels, whether it is class-conditional).
 *
 * To register a model family, import its factory and add one entry to
 * {@link REGISTRY} at the marked place; nothing else in the command changes.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { ImageModel, ModelKind } from '../models/image-model.js'
import { vae } from '../models/vae.js'
import { cvae } from '../models/cvae.js'
import { ladderVae } from '../models/ladder-vae.js'
import { vqVae } from '../models/vq-vae.js'
import { ssvae } from '../models/ssvae.js'
import { MODEL_KINDS } from './codecs.js'
import { SSVAE_LEARNING_RATE, ssvaeLoss } from './semi-supervised.js'
import type { SemiSupervisedEntry } from './semi-supervised.js'

/** What every factory is given: the data's image shape and classes, and the command-line settings. */
export interface ModelSettings {
  readonly imageShape: readonly [number, number, number]
  readonly numClasses: number
  readonly zDim: number
  readonly hidden: readonly number[]
  readonly seed: number
  /** Steps per training epoch, when training (schedules such as KL warm-up advance per step). */
  readonly stepsPerEpoch?: number
}

/** One registered model family. */
export interface ModelEntry {
  /** Builds the model (fresh weights from `seed`). */
  readonly create: (s: ModelSettings) => ImageModel
  /** Bernoulli pixel likelihood: the data is binarised with `binarize.fixed(0.5)`; otherwise pixels stay in [0, 1]. */
  readonly binary: boolean
  /** Class-conditional: `sample(n, seed, cls)` honours `cls`, and the report shows one row per class. */
  readonly conditional: boolean
  /** Epochs of KL warm-up at the start of training: their train ELBO is the β-weighted objective (β < 1), not the ELBO. */
  readonly warmupEpochs?: number
  /**
   * Moves the model's training schedules to their end (the ladder's β to 1), so that what is evaluated
   * next is the ELBO itself, as `tfppl eval` computes it; the next epoch's `beforeEpoch` resumes the schedule.
   */
  readonly toScheduleEnd?: (model: ImageModel) => void
  /** Trained on a labelled and an unlabelled stream (`--labels-per-class`), with its own estimator and learning rate; the report shows its classifier's test accuracy. */
  readonly semiSupervised?: SemiSupervisedEntry
}

/** The ladder's KL warm-up: β rises from 0 to 1 over these epochs (per step), and is 1 from epoch LADDER_WARMUP + 1 on. */
const LADDER_WARMUP = 5

/**
 * The registered families. The VAE is an MLP (`hidden` layers, mirrored in the
 * decoder) with a Bernoulli likelihood.
 *
 * @example REGISTRY.vae?.create({ imageShape: [28, 28, 1], numClasses: 10, zDim: 16, hidden: [400], seed: 0 })
 */
export const REGISTRY: Readonly<Partial<Record<ModelKind, ModelEntry>>> = {
  vae: {
    create: (s) => vae({ imageShape: s.imageShape, zDim: s.zDim, hidden: s.hidden, seed: s.seed }),
    binary: true,
    conditional: false,
  },
  cvae: {
    create: (s) => cvae({ imageShape: s.imageShape, numClasses: s.numClasses, zDim: s.zDim, hidden: s.hidden, prior: 'conditional', seed: s.seed }),
    binary: true,
    conditional: true,
  },
  // Two latent layers: z₁ of zDim units under z₂ of half as many; KL warm-up over the first 5 epochs, per step.
  ladder: {
    create: (s) => ladderVae({
      imageShape: s.imageShape, latentDims: [s.zDim, Math.max(2, Math.floor(s.zDim / 2))], hidden: s.hidden[0] ?? 256, warmup: LADDER_WARMUP, seed: s.seed,
      ...(s.stepsPerEpoch === undefined ? {} : { stepsPerEpoch: s.stepsPerEpoch }),
    }),
    binary: true,
    conditional: false,
    warmupEpochs: LADDER_WARMUP,
    // β = min(1, (epoch − 1 + step/stepsPerEpoch) / warmup): the first epoch past the warm-up starts at β = 1.
    toScheduleEnd: (m) => m.beforeEpoch?.(LADDER_WARMUP + 1),
  },
  // zDim is the code size; 64 codes on a 7×7 grid, codebook learned by its loss term.
  vqvae: {
    create: (s) => vqVae({ imageShape: s.imageShape, numCodes: 64, codeDim: s.zDim, seed: s.seed }),
    binary: true,
    conditional: false,
  },
  // M2 of Kingma et al. 2014 on grey pixels (as Pyro's ss_vae_M2): α = 46 per labelled point; y fixed per row in the class samples.
  ssvae: {
    create: (s) => ssvae({ imageShape: s.imageShape, numClasses: s.numClasses, zDim: s.zDim, hidden: s.hidden, seed: s.seed }),
    binary: false,
    conditional: true,
    semiSupervised: { loss: ssvaeLoss, learningRate: SSVAE_LEARNING_RATE },
  },
}

/**
 * The registry entry of `kind`, or Left(message) when that family is not in this build yet.
 *
 * @example const entry = modelEntry('vae')   // Right({ create, binary: true, conditional: false })
 */
export const modelEntry = (kind: ModelKind): E.Either<string, ModelEntry> => {
  const entry = REGISTRY[kind]
  if (entry !== undefined) return E.right(entry)
  const available = MODEL_KINDS.filter((k) => REGISTRY[k] !== undefined).join(', ')
  return E.left(`tfppl: model '${kind}' is not available in this build yet; available: ${available}`)
}
