/**
 * Gradient registration. tfjs-core alone registers no gradients: its
 * `dist/register_all_gradients.js` does (an ES module with extensionless imports,
 * which bundlers load but Node cannot), and so does the umbrella `@tensorflow/tfjs`
 * (its Node build inlines them). `#tfjs-gradients` (package.json "imports") is the
 * umbrella under Node and the tfjs-core module elsewhere (browser bundles), which
 * keeps webgl, layers, converter and data out of a browser bundle. tfjs never registers gradients for
 * comparisons, so `tf.where(tf.greater(x, 0), a, b)` fails to differentiate in
 * `x` ("gradient function not found for Greater"). Comparisons and logical ops
 * are piecewise constant: their gradient is zero, as in TensorFlow. We register
 * that, only where tfjs has none. Importing this module is what makes it so.
 * It also replaces `Sum`'s gradient with an equal one that does not fill ones in JavaScript, and
 * `Tile`'s with one for every rank (tfjs's stops at rank 4; `broadcastTo` runs `Tile`, so a
 * distribution expanded to particles × plates × a 3-dim event could not be differentiated).
 */
import * as tf from '@tensorflow/tfjs-core'
import '#tfjs-gradients' // tfjs's own gradients (package.json "imports": the umbrella in Node, tfjs-core's register_all_gradients elsewhere)
import './conv-grad.js'

const BINARY = ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'LogicalXor']
const UNARY = ['LogicalNot', 'IsNan', 'IsInf', 'IsFinite', 'ArgMax', 'ArgMin', 'All', 'Any']

/** A float32 zero gradient for each named input (saved only for its shape; tfjs wants float32 gradients even for int inputs). */
const zeroGradient = (kernelName: string, inputs: readonly string[]): tf.GradConfig => ({
  kernelName,
  inputsToSave: [...inputs],
  gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i]!.shape, 'float32')])),
})

/**
 * Sum's gradient, dy broadcast back over the summed axes, as tfjs computes it but with the ones
 * made by the backend (`onesLike`) instead of filled in JavaScript and uploaded (`ones`): the
 * same values, without a JS array the size of x per sum per step.
 */
tf.registerGradient({
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0]!
    const expanded = x.shape.slice()
    for (const a of tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape)) expanded[a] = 1
    const ones = (): tf.Tensor => (x.dtype === 'float32' ? tf.onesLike(x) : tf.onesLike(x).asType('float32'))   // no Cast launch for the usual float32 x
    return { x: () => tf.mul(tf.reshape(dy as tf.Tensor, expanded), ones()) }
  },
})

/**
 * Tile's gradient at any rank: dy of shape [r0·s0, r1·s1, …] viewed as [r0, s0, r1, s1, …] and
 * summed over the repeat axes r_i — each element of x receives the sum over its copies.
 */
tf.registerGradient({
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0]!
    const reps = (attrs as { reps: number[] }).reps
    const interleaved = x.shape.flatMap((d, i) => [reps[i]!, d])
    const repeatAxes = x.shape.map((_, i) => 2 * i)
    return { x: () => tf.reshape(tf.sum(tf.reshape(dy as tf.Tensor, interleaved), repeatAxes), x.shape) }
  },
})

for (const [names, inputs] of [[BINARY, ['a', 'b']], [UNARY, ['x']]] as const) {
  for (const kernelName of names) {
    if (tf.getGradient(kernelName) === undefined) tf.registerGradient(zeroGradient(kernelName, inputs))
  }
}
