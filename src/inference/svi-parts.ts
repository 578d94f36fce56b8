/**
 * The parts of an SVI step that `svi.ts` and the asynchronous step share: the
 * value a step reports (and `evaluate`'s), gradient clipping, and what a step
 * keeps of its deterministic sites.
 */
import * as tf from '@tensorflow/tfjs-core'
import { stopGradient } from '../backend/gradient.js'
import type { Handler } from './interpreter.js'
import type { LossEstimate } from './loss.js'

/**
 * The estimate's surrogate with the bound's value: surrogate + ⟂(bound − surrogate). Its gradient is
 * the surrogate's (score-function terms included) and its value the bound's, so a step reports −ELBO.
 *
 * @example const reported = reportingBound(est)   // differentiate this; read its value as the bound
 */
export const reportingBound = (est: LossEstimate): tf.Scalar =>
  est.surrogate === est.bound ? est.bound : tf.add(est.surrogate, stopGradient(tf.sub(est.bound, est.surrogate))) as tf.Scalar

/** Data points a batch covers: the plate's size when subsampled, else the first tensor argument's leading dim. */
export const dataPoints = (args: readonly unknown[], est: LossEstimate): number => {
  if (est.dataSize !== undefined) return est.dataSize
  const first = args.find((a): a is tf.Tensor => a instanceof tf.Tensor && a.rank > 0)
  return first?.shape[0] ?? 1
}

/**
 * The loss `svi` reports for an estimate of the batch `args`: −`bound` per data point ({@link dataPoints});
 * `bound` is the estimate's bound unless given (a step gives its {@link reportingBound}, same value).
 *
 * @example const loss = lossPerPoint(est, [x])   // −ELBO / x.shape[0]
 */
export const lossPerPoint = (est: LossEstimate, args: readonly unknown[], bound: tf.Scalar = est.bound): tf.Scalar =>
  tf.neg(tf.div(bound, dataPoints(args, est))) as tf.Scalar

/**
 * A step's loss: {@link lossPerPoint} through the {@link reportingBound}, so its gradient is the surrogate's
 * and its value −bound per data point (never the surrogate's).
 *
 * @example const { value, grads } = tf.variableGrads(() => reportedLoss(estimate(), [x]))
 */
export const reportedLoss = (est: LossEstimate, args: readonly unknown[]): tf.Scalar => lossPerPoint(est, args, reportingBound(est))

/** Global-norm clipping: g · min(1, c / ‖g‖). @example const clipped = clip(grads, 10) */
export const clip = (grads: tf.NamedTensorMap, c: number | undefined): tf.NamedTensorMap => {
  if (c === undefined) return grads
  const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))))
  const factor = tf.minimum(1, tf.div(c, tf.maximum(norm, 1e-12)))
  return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, factor)]))
}

/**
 * What a step keeps of the deterministic sites named `names` (see `SviOptions.keep`): `handler` records each
 * one's value as a run meets it (a copy outside every tidy; a later run of the step replaces an earlier
 * one's), `take` hands them over, `release` frees those not taken.
 *
 * @example const kept = keeper(['codes']); runWith(kept.handlers); const { codes } = kept.take()
 */
export const keeper = (names: readonly string[] = []) => {
  const wanted = new Set(names)
  let kept: Record<string, tf.Tensor> = {}
  const handler: Handler = (msg, next) => {
    const r = next(msg)
    if (r.msg._tag === 'Deterministic' && wanted.has(r.msg.name) && r.value instanceof tf.Tensor) {
      kept[r.msg.name]?.dispose()
      kept[r.msg.name] = tf.keep(tf.clone(r.value))
    }
    return r
  }
  const take = (): Record<string, tf.Tensor> => { const k = kept; kept = {}; return k }
  return { handlers: wanted.size === 0 ? [] : [handler], take, release: () => { tf.dispose(Object.values(take())) } }
}

