/**
 * The parts of an SVI step that `svi.ts` and the asynchronous step share: the
 * value a step reports, gradient clipping, and what a step keeps of its
 * deterministic sites.
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

