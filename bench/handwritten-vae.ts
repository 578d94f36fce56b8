/**
 * The benchmark's reference: the VAE of bench/vae-step.ts written as a plain
 * tfjs training loop — the same network (784-400-50 softplus MLPs, weights
 * copied from the DSL model), the same loss (Bernoulli on logits, Monte Carlo
 * KL, softplus scale + 1e-4, mean over the batch), `optimizer.minimize` — or,
 * with `fusedAdam`, the update `svi` makes (`applyFiniteGradients`: one fused
 * kernel per variable when the accelerator is on), to compare at equal optimizer.
 */
import * as tf from '@tensorflow/tfjs-core'
import { applyFiniteGradients } from 'tfppl/internals'

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI)

/** A hand-written VAE step over copies of `weights` ([W1, b1, W2, b2] encoder, then decoder). */
export const handwrittenVae = (weights: readonly tf.Tensor[], zDim: number, seed: number, fusedAdam = false) => {
  const vars = weights.map((w) => tf.tidy(() => tf.variable(tf.clone(w), true)))
  const [w1, b1, w2, b2, w3, b3, w4, b4] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable]
  const optimizer = tf.train.adam(1e-3)
  let step = 0
  const loss = (x: tf.Tensor2D): tf.Scalar => {
    const out = tf.add(tf.matMul(tf.softplus(tf.add(tf.matMul(x, w1), b1)), w2), b2)
    const [loc, raw] = tf.split(out, [zDim, zDim], -1) as [tf.Tensor2D, tf.Tensor2D]
    const scale = tf.add(tf.softplus(raw), 1e-4)
    const eps = tf.randomNormal(loc.shape, 0, 1, 'float32', seed + step)
    const z = tf.add(loc, tf.mul(scale, eps))
    const logits = tf.add(tf.matMul(tf.softplus(tf.add(tf.matMul(z, w3), b3)), w4), b4)
    const logLik = tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)))
    const logPrior = tf.sum(tf.sub(tf.mul(-0.5, tf.square(z)), LOG_SQRT_2PI))
    const logQ = tf.sum(tf.sub(tf.sub(tf.mul(-0.5, tf.square(eps)), tf.log(scale)), LOG_SQRT_2PI))
    return tf.div(tf.neg(tf.add(logLik, tf.sub(logPrior, logQ))), x.shape[0]) as tf.Scalar
  }
  return {
    /** One Adam step; returns the loss (−ELBO per image). */
    step: (x: tf.Tensor2D): number => {
      const value = tf.tidy(() => {
        if (!fusedAdam) return optimizer.minimize(() => loss(x), true, vars)!.dataSync()[0]!
        const { value: v, grads } = tf.variableGrads(() => loss(x), vars)
        applyFiniteGradients(optimizer, v, grads)
        return v.dataSync()[0]!
      })
      step += 1
      return value
    },
    dispose: () => { for (const v of vars) v.dispose(); optimizer.dispose() },
  }
}
