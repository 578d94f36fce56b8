/**
 * Copy-free `Identity` and same-dtype `Cast` for the wasm backend.
 * tfjs's engine clones every tensor a gradient will need (`Identity`), and its
 * gradients cast float32 to float32 freely (`Cast`); on wasm both copy the
 * buffer — ≈ 300 copies per VAE step. tfjs tensors are immutable (a variable's
 * `assign` swaps its buffer, never writes into it), so, as on the cpu backend,
 * the output can share the input's buffer with its reference count raised.
 */
import * as tf from '@tensorflow/tfjs-core'

type Info = tf.TensorInfo
type Fn = (args: { inputs: Record<string, Info>; backend: unknown; attrs?: Record<string, unknown> }) => Info

interface RefCounted { readonly incRef: (dataId: object) => void }

let installed = false

/** The same buffer under a new tensor: the reference count goes up, nothing is copied. */
const share = (x: Info, backend: unknown): Info => {
  (backend as RefCounted).incRef(x.dataId)
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
}

/**
 * Replaces wasm's `Identity` and `Cast` kernels with buffer-sharing ones (idempotent);
 * a `Cast` to another dtype still converts with the original kernel.
 *
 * @example
 * await tf.setBackend('wasm'); installWasmIdentity()
 * tf.clone(x)   // no copy: x's buffer, one more reference
 */
export const installWasmIdentity = (): void => {
  if (installed) return
  const identity = tf.getKernel('Identity', 'wasm'), cast = tf.getKernel('Cast', 'wasm')
  if (identity === undefined || cast === undefined) return
  const castOriginal = cast.kernelFunc as unknown as Fn
  const identityFunc: Fn = ({ inputs, backend }) => (inputs['x']!.dtype === 'string' ? (identity.kernelFunc as unknown as Fn)({ inputs, backend }) : share(inputs['x']!, backend))
  const castFunc: Fn = (args) => (args.inputs['x']!.dtype === args.attrs?.['dtype'] && args.inputs['x']!.dtype !== 'string' ? share(args.inputs['x']!, args.backend) : castOriginal(args))
  tf.unregisterKernel('Identity', 'wasm'); tf.unregisterKernel('Cast', 'wasm')
  tf.registerKernel({ ...identity, kernelFunc: identityFunc as unknown as tf.KernelFunc })
  tf.registerKernel({ ...cast, kernelFunc: castFunc as unknown as tf.KernelFunc })
  installed = true
}
