/**
 * The convolutional training steps the benchmarks time, in one place: the conv VAE (`vae({ conv: true })`,
 * z = 16, Bernoulli) and the VQ-VAE (`vqVae`, 64 codes of 16 dims on a 7×7 grid, codebook loss + 0.25
 * commitment, with its after-step code bookkeeping fed the step's kept sites as `tfppl train` does),
 * Adam 1e-3 through `svi.step`. The library is a parameter so that `bench/conv-step.ts` can time the
 * working tree (src/) and `npm run bench` the built package.
 */
import * as tf from '@tensorflow/tfjs-core'
import type * as Tfppl from 'tfppl'

/** The conv models of the benchmarks. */
export type ConvModel = 'conv-vae' | 'vq-vae'

/** One training step of a conv model: `train(x)` returns the loss; `dispose()` frees the model and optimizer. */
export interface ConvStep { readonly train: (x: tf.Tensor4D) => number; readonly dispose: () => void }

/**
 * A fresh conv VAE or VQ-VAE (seed 0) and its `svi` step, built with `lib` (the package or its sources).
 *
 * @example const { train, dispose } = convStep(await import('tfppl'), 'vq-vae'); train(batch); dispose()
 */
export const convStep = (lib: Pick<typeof Tfppl, 'elbo' | 'svi' | 'vae' | 'vqVae'>, model: ConvModel): ConvStep => {
  const vqm = model === 'vq-vae' ? lib.vqVae({ imageShape: [28, 28, 1], numCodes: 64, codeDim: 16, seed: 0 }) : undefined
  // The VQ-VAE's step keeps the guide's encoder outputs and codes, which its codebook update reads.
  const s = lib.svi({ optimizer: tf.train.adam(1e-3), loss: lib.elbo(), seed: 0, ...(vqm !== undefined && { keep: vqm.keep }) })
  const free = (): void => { s.params.dispose(); s.optimizer.dispose() }
  if (vqm === undefined) {
    const m = lib.vae({ imageShape: [28, 28, 1], conv: true, zDim: 16, seed: 0 })
    return { train: (x) => s.step(m.model, m.guide, x), dispose: () => { m.dispose(); free() } }
  }
  const train = (x: tf.Tensor4D): number => {
    const loss = s.step(vqm.model, vqm.guide, x), kept = s.takeKept()
    vqm.afterStep([x], kept)
    tf.dispose(Object.values(kept))
    return loss
  }
  return { train, dispose: () => { vqm.dispose(); free() } }
}
