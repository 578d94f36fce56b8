/**
 * Latent points for pictures: seeded prior draws, and traversals (each row
 * varies one latent dim over [−3, 3]; for a 2-D latent, the whole manifold).
 */
import * as tf from '@tensorflow/tfjs-core'

/** n standard-normal latents [n, d]. @example priorDraws(64, 50, 1) */
export const priorDraws = (n: number, d: number, seed: number): tf.Tensor2D => tf.randomNormal([n, d], 0, 1, 'float32', seed)

const steps = (k: number): number[] => Array.from({ length: k }, (_, i) => (k === 1 ? 0 : -3 + (6 * i) / (k - 1)))

/**
 * rows × cols latents [rows·cols, d]: a d = 2 grid over [−3, 3]², otherwise row r varies
 * dim (r mod d) over [−3, 3] with the other dims at 0.
 *
 * @example traversalLatents(8, 8, 50)
 */
export const traversalLatents = (rows: number, cols: number, d: number): tf.Tensor2D => {
  const values: number[] = []
  for (let r = 0; r < rows; r++) {
    for (const v of steps(cols)) {
      const z = new Array<number>(d).fill(0)
      if (d === 2) { z[0] = v; z[1] = steps(rows)[rows - 1 - r]! } else z[r % d] = v
      values.push(...z)
    }
  }
  return tf.tensor2d(values, [rows * cols, d])
}

/** Reshapes flat images [n, h·w·c] to [n, h, w, c]. @example asImages(x, [28, 28, 1]) */
export const asImages = (x: tf.Tensor, shape: readonly [number, number, number]): tf.Tensor4D =>
  tf.reshape(x, [x.shape[0]!, ...shape]) as tf.Tensor4D
