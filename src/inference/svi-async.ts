/**
 * The SVI step without synchronous read-backs, for the GPU backends (`svi.stepAsync` there; on cpu and
 * wasm `stepAsync` is the synchronous step). tfjs's `tidy` cannot span an `await`, so the step runs its
 * forward and backward pass in one `tidy` that returns the loss, the gradients and the baselines' costs,
 * reads them with one asynchronous read — after the deferred validation checks (`validation-deferred.ts`)
 * — applies the update only when all are finite, and frees every tensor it made itself.
 */
import * as tf from '@tensorflow/tfjs-core'
import { applyGradientsAsync } from '../backend/fused-adam.js'
import { deferChecks, settleChecks } from '../distributions/validation-deferred.js'
import { NonFiniteArgumentError } from '../errors.js'
import type { BaselineSeen } from './score-function.js'
import { clip } from './svi-parts.js'

/** What one forward and backward pass gives the step (inside a tidy: `value` and `grads` are its results, `costs` kept). */
export interface AsyncPass {
  readonly value: tf.Scalar
  readonly grads: tf.NamedTensorMap
  readonly costs: ReadonlyArray<readonly [BaselineSeen, tf.Scalar]>
}

/** What {@link updateAsync} needs of its `svi`. */
export interface AsyncStepContext {
  /** The pass, run inside a tidy (costs kept with `tf.keep`). */
  readonly pass: () => AsyncPass
  readonly optimizer: tf.Optimizer
  readonly clipNorm: number | undefined
  /** The step's NonFiniteError for `what` (the site is not traced: that needs synchronous reads). */
  readonly nonFinite: (what: string) => Error
}

/** A NonFiniteArgumentError met by a deferred check, as the synchronous step reports it. */
const asStepError = (c: AsyncStepContext, e: unknown): unknown =>
  e instanceof NonFiniteArgumentError ? c.nonFinite(`a distribution argument is not finite (${e.message})`) : e

/** [loss, 1 if the loss and every gradient are finite, each baseline's cost] as one float32 vector. */
const summary = (p: AsyncPass): tf.Tensor1D => tf.tidy(() => {
  const grads = Object.values(p.grads).filter((g): g is tf.Tensor => g !== undefined && g !== null)
  const finite = tf.all(tf.stack([tf.isFinite(p.value), ...grads.map((g) => tf.all(tf.isFinite(g)))]))
  return tf.concat([tf.reshape(p.value, [1]), tf.reshape(tf.cast(finite, 'float32'), [1]), ...p.costs.map(([, c]) => tf.reshape(c, [1]))]) as tf.Tensor1D
})

/**
 * One step: pass, settle the deferred checks, read the summary, apply the (clipped) gradients if finite;
 * returns the loss and the baselines' costs. Throws the step's errors after freeing what it made.
 *
 * @example const { loss } = await updateAsync({ pass, optimizer, clipNorm: undefined, nonFinite })
 */
export const updateAsync = async (c: AsyncStepContext): Promise<{ loss: number; costs: Array<readonly [BaselineSeen, number]> }> => {
  let costs: AsyncPass['costs'] = []
  const { result, checks } = deferChecks(() => tf.tidy(() => { const r = c.pass(); costs = r.costs; return { value: r.value, grads: r.grads } }))
  const p: AsyncPass = { ...result, costs }
  try {
    await settleChecks(checks).catch((e: unknown) => { throw asStepError(c, e) })
    const s = summary(p)
    const read = await s.data()
    s.dispose()
    const loss = read[0]!
    if (read[1] !== 1) throw c.nonFinite(`the loss or a gradient is ${Number.isNaN(loss) ? 'NaN' : 'not finite'} (loss ${loss})`)
    if (Object.keys(p.grads).length > 0) {
      const clipped = c.clipNorm === undefined ? p.grads : tf.tidy(() => clip(p.grads, c.clipNorm))
      try {
        if (!(await applyGradientsAsync(c.optimizer, clipped))) throw c.nonFinite(`an updated parameter is not finite (loss ${loss})`)
      } finally {
        if (clipped !== p.grads) tf.dispose(Object.values(clipped))
      }
    }
    return { loss, costs: p.costs.map(([b], i) => [b, read[2 + i]!] as const) }
  } finally {
    tf.dispose([p.value, ...Object.values(p.grads), ...p.costs.map(([, t]) => t)])
  }
}

/**
 * The value of a scalar loss computed by `f` (inside a tidy, with deferred checks), read asynchronously.
 *
 * @example const loss = await readAsync(() => tf.neg(bound))
 */
export const readAsync = async (f: () => tf.Scalar): Promise<number> => {
  const { result, checks } = deferChecks(() => tf.tidy(f))
  try {
    await settleChecks(checks)
    return (await result.data())[0]!
  } finally {
    result.dispose()
  }
}
