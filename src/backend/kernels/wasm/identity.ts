/**
 * Copy-free `Identity` and same-dtype `Cast` for the wasm backend.
 * tfjs's engine clones every tensor a gradient will need (`Identity`), and its
 * gradients cast float32 to float32 freely (`Cast`); on wasm both copy the
 * buffer — ≈ 300 copies per VAE step. tfjs tensors are immutable (a variable's
 * `assign` swaps its buffer, never writes into it), so, as on the cpu backend,
 * the output can share the input's buffer with its reference count raised.
 */
import { replaceWasmKernel } from '../heap.js'
import type { KernelInfo as Info } from '../heap.js'
import { kernelState } from '../state.js'

interface RefCounted { readonly incRef: (dataId: object) => void }

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
  if (kernelState.wasm.has('identity')) return
  replaceWasmKernel('Identity', (identity) => ({ inputs, backend }) => (inputs['x']!.dtype === 'string' ? identity({ inputs, backend }) : share(inputs['x']!, backend)))
  replaceWasmKernel('Cast', (cast) => (args) => (args.inputs['x']!.dtype === args.attrs?.['dtype'] && args.inputs['x']!.dtype !== 'string' ? share(args.inputs['x']!, args.backend) : cast(args)))
  kernelState.wasm.add('identity')
}
