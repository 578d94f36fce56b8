/**
 * The two log densities every VAE step evaluates, and a point mass's indicator, each as one differentiable op with a
 * hand-written gradient (`tf.customGrad`): the forward kernels run off the gradient tape (no
 * saved-tensor clones), and the backward pass is a few fused formulas instead of tfjs's
 * op-by-op autodiff (≈ 30 kernel launches fewer per Normal site, ≈ 12 per Bernoulli site).
 * Values are computed by exactly the ops they replace; gradients are the same derivatives.
 * With the accelerator on wasm each is one native kernel each way instead (`kernels/native/densities.ts`),
 * bit-identical to these ops. `sumLast` > 0 sums the rightmost dims inside the same op (what
 * `toEvent` asks for): its gradient broadcasts dy into the density's gradient directly.
 */
import * as tf from '@tensorflow/tfjs-core'
import { customGradSaved } from './gradient.js'
import { nativeKernelsInstalled } from './kernels/state.js'
import { BERNOULLI_KERNEL, NORMAL_KERNEL, POINT_MASS_KERNEL } from './kernels/native/densities.js'
import { untaped } from './scope.js'
import { expandRightmost, sumRightmost } from './rightmost.js'

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)


/** `g` summed over the axes along which `shape` was broadcast to g's shape, reshaped to `shape`. */
const unbroadcast = (g: tf.Tensor, shape: readonly number[]): tf.Tensor => {
  if (tf.util.arraysEqual(g.shape, [...shape])) return g
  const axes = tf.backend_util.getReductionAxes([...shape], g.shape)
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, [...shape])
}

/** Whether the accelerator's kernels cover these operands: wasm, float32, x non-empty, each parameter of x's shape or one value. */
const nativeCovers = (x: tf.Tensor, params: readonly tf.Tensor[]): boolean =>
  nativeKernelsInstalled() && tf.getBackend() === 'wasm' && x.size > 0 && x.dtype === 'float32' &&
  params.every((p) => p.dtype === 'float32' && (tf.util.arraysEqual(p.shape, x.shape) || (p.size === 1 && p.rank <= x.rank)))

/**
 * log N(x; loc, scale) = −½w² − log scale − ½ log 2π with w = (x − loc)/scale, elementwise with
 * broadcasting, then summed over the rightmost `sumLast` dims (default 0); gradients
 * ∂/∂x = −w/scale, ∂/∂loc = w/scale, ∂/∂scale = (w² − 1)/scale, times dy.
 *
 * @example
 * normalLogDensity(tf.scalar(0), tf.scalar(0), tf.scalar(1))   // −0.9189
 * normalLogDensity(tf.zeros([2, 3]), tf.zeros([2, 3]), tf.scalar(1), 1)   // [−2.7568, −2.7568]
 */
export const normalLogDensity = (x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor, sumLast = 0): tf.Tensor =>
  nativeCovers(x, [loc, scale])
    ? tf.engine().runKernel(NORMAL_KERNEL, { x, loc, scale }, { sumLast }) as tf.Tensor
    : composedNormalLogDensity(x, loc, scale, sumLast)

/**
 * {@link normalLogDensity} as composite tfjs ops with a custom gradient: the path off the
 * accelerator (exported so tests can hold the native kernel to it bit for bit).
 *
 * @example
 * composedNormalLogDensity(tf.scalar(0), tf.scalar(0), tf.scalar(1))   // −0.9189
 */
export const composedNormalLogDensity = (x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor, sumLast = 0): tf.Tensor =>
  customGradSaved<[tf.Tensor, tf.Tensor, tf.Tensor]>((xv, lv, sv, save) => {
    const w = tf.div(tf.sub(xv, lv), sv)
    save([w, sv])
    return {
      value: sumRightmost(tf.sub(tf.mul(-0.5, tf.square(w)), tf.add(tf.log(sv), HALF_LOG_2PI)), sumLast),
      gradFunc: (dySummed, saved) => {
        const [ws, ss] = saved as [tf.Tensor, tf.Tensor]
        const dy = expandRightmost(dySummed, ws.shape, sumLast)
        const dLoc = tf.div(tf.mul(dy, ws), ss)
        const dScale = tf.div(tf.mul(dy, tf.sub(tf.square(ws), 1)), ss)
        return [unbroadcast(tf.neg(dLoc), xv.shape), unbroadcast(dLoc, lv.shape), unbroadcast(dScale, sv.shape)]
      },
    }
  })(x, loc, scale)

/**
 * log Bernoulli(x; logits) = x · logits − softplus(logits), elementwise with broadcasting, then
 * summed over the rightmost `sumLast` dims (default 0); gradients ∂/∂logits = x − σ(logits),
 * ∂/∂x = logits, times dy.
 *
 * @example
 * bernoulliLogDensity(tf.scalar(1), tf.scalar(0))   // −log 2
 * bernoulliLogDensity(tf.ones([2, 3]), tf.zeros([2, 3]), 1)   // [−3 log 2, −3 log 2]
 */
export const bernoulliLogDensity = (x: tf.Tensor, logits: tf.Tensor, sumLast = 0): tf.Tensor =>
  nativeCovers(x, [logits]) && tf.util.arraysEqual(x.shape, logits.shape)
    ? tf.engine().runKernel(BERNOULLI_KERNEL, { x, logits }, { sumLast }) as tf.Tensor
    : composedBernoulliLogDensity(x, logits, sumLast)

/**
 * {@link bernoulliLogDensity} as composite tfjs ops with a custom gradient: the path off the
 * accelerator (exported so tests can hold the native kernel to it bit for bit).
 *
 * @example
 * composedBernoulliLogDensity(tf.scalar(1), tf.scalar(0))   // −log 2
 */
export const composedBernoulliLogDensity = (x: tf.Tensor, logits: tf.Tensor, sumLast = 0): tf.Tensor =>
  customGradSaved<[tf.Tensor, tf.Tensor]>((xv, lv, save) => {
    save([xv, lv])
    const terms = tf.sub(tf.mul(xv, lv), tf.softplus(lv))
    return {
      value: sumRightmost(terms, sumLast),
      gradFunc: (dySummed, saved) => {
        const [xs, ls] = saved as [tf.Tensor, tf.Tensor]
        const dy = expandRightmost(dySummed, terms.shape, sumLast)
        // dy·l is smaller than the terms when dy was summed and l is broadcast: back to the terms' shape first.
        const dx = tf.mul(dy, ls)
        const dxFull = tf.util.arraysEqual(dx.shape, terms.shape) ? dx : tf.broadcastTo(dx, terms.shape)
        return [unbroadcast(dxFull, xv.shape), unbroadcast(tf.mul(dy, tf.sub(xs, tf.sigmoid(ls))), lv.shape)]
      },
    }
  })(x, logits)

/**
 * A point mass's log indicator: 0 where `x` equals `value` on every element of an event (the rightmost
 * `eventDims` dims), −∞ elsewhere, by IEEE equality (±0 equal, ±∞ each equal itself, NaN equal to
 * nothing: Pyro's `x == v`); x and value broadcast. A zero gradient for both: the indicator is piecewise
 * constant, and its comparisons stay off the tape (the backward pass does not walk through them). With the
 * accelerator, x and value of one shape go to one native kernel (`TfpplPointMassLogProb`), the same values.
 *
 * @example
 * pointMassLogDensity(tf.tensor2d([[1, 2], [3, 5]]), tf.tensor2d([[1, 2], [3, 4]]), 1)   // [0, −∞]
 */
export const pointMassLogDensity = (x: tf.Tensor, value: tf.Tensor, eventDims: number): tf.Tensor =>
  customGradSaved<[tf.Tensor, tf.Tensor]>((xv, vv) => ({
    value: pointMassIndicator(xv, vv, eventDims),
    gradFunc: () => [tf.zeros(xv.shape), tf.zeros(vv.shape)],
  }))(x, value)

/** The value of {@link pointMassLogDensity}: the native kernel where it covers the operands, else tf.equal and tf.all off the tape. */
const pointMassIndicator = (x: tf.Tensor, value: tf.Tensor, eventDims: number): tf.Tensor => {
  if (nativeCovers(x, [value]) && tf.util.arraysEqual(x.shape, value.shape) && tf.getKernel(POINT_MASS_KERNEL, 'wasm') !== undefined) {
    return tf.engine().runKernel(POINT_MASS_KERNEL, { x, value }, { sumLast: eventDims }) as tf.Tensor
  }
  return untaped(() => {   // its intermediates are freed by the caller's scope
    const equal = tf.equal(x, value)
    const whole = eventDims === 0 ? equal : tf.all(equal, Array.from({ length: eventDims }, (_, i) => equal.rank - 1 - i))
    return tf.where(whole, tf.zeros(whole.shape), tf.fill(whole.shape, -Infinity))
  })
}
