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
import { MODEL_KINDS } from './codecs.js'

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
}

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
      imageShape: s.imageShape, latentDims: [s.zDim, Math.max(2, Math.floor(s.zDim / 2))], hidden: s.hidden[0] ?? 256, warmup: 5, seed: s.seed,
      ...(s.stepsPerEpoch === undefined ? {} : { stepsPerEpoch: s.stepsPerEpoch }),
    }),
    binary: true,
    conditional: false,
  },
  // zDim is the code size; 64 codes on a 7×7 grid, codebook learned by its loss term.
  vqvae: {
    create: (s) => vqVae({ imageShape: s.imageShape, numCodes: 64, codeDim: s.zDim, seed: s.seed }),
    binary: true,
    conditional: false,
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
