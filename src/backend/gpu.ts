/**
 * The GPU backends, `webgpu` and `webgl`: probing the device before starting
 * one, so that a software device (SwiftShader, llvmpipe — slower than wasm) is
 * skipped by the automatic choice and used only when named, and loading the
 * tfjs backend package only when it is tried (a dynamic import: a browser
 * bundle with code splitting fetches it on demand). In Node, `navigator.gpu`
 * comes from the host (`platform().provideWebgpu`: the optional `webgpu`
 * package, Dawn); WebGL needs a browser.
 */
import * as tf from '@tensorflow/tfjs-core'
import { BackendError } from '../errors.js'
import { platform } from '../platform.js'

/** The GPU a backend runs on, as far as the platform tells. */
export interface GpuAdapter {
  readonly vendor: string
  readonly architecture: string
  readonly description: string
  /** A software implementation (SwiftShader, llvmpipe, a fallback adapter): correct, but slower than wasm. */
  readonly software: boolean
}

/** A GPU backend started, or why not. */
export type GpuStart = { readonly ok: true; readonly adapter: GpuAdapter } | { readonly ok: false; readonly reason: string }

/** The parts of WebGPU's adapter read here. */
interface AdapterLike {
  readonly info?: { vendor?: string; architecture?: string; description?: string }
  readonly isFallbackAdapter?: boolean
  readonly requestAdapterInfo?: () => Promise<{ vendor?: string; architecture?: string; description?: string }>
}
interface GpuLike { readonly requestAdapter: (o?: { powerPreference?: string }) => Promise<AdapterLike | null> }

/** The parts of WebGL read here. */
interface GlLike {
  readonly RENDERER: number
  readonly VENDOR: number
  getParameter: (p: number) => unknown
  getExtension: (name: string) => Record<string, number> & { loseContext?: () => void } | null
}
interface CanvasLike { getContext: (kind: string) => GlLike | null }

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i

/** Whether a device's names mark it as a software implementation. */
export const isSoftware = (names: readonly string[], fallback = false): boolean => fallback || names.some((n) => SOFTWARE.test(n))

const softwareRefused = (what: string, a: GpuAdapter, name: string): string =>
  `${what} is a software device (${[a.vendor, a.architecture, a.description].filter((s) => s !== '').join(', ')}), slower than wasm: skipped by the automatic choice; initBackend({ backend: '${name}' }) uses it`

const gpuOf = (): GpuLike | undefined => (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu

/** `navigator.gpu`, from the browser or from the host (Node: the optional `webgpu` package); or why there is none. */
const webgpuApi = async (automatic: boolean): Promise<GpuLike | string> => {
  const here = gpuOf()
  if (here !== undefined) return here
  const provide = platform().provideWebgpu
  if (provide === undefined) return 'no WebGPU here (navigator.gpu is undefined)'
  const why = await provide(automatic)
  return why ?? gpuOf() ?? 'the host installed no navigator.gpu'
}

/** The WebGPU adapter tfjs will get (same request), described. */
const webgpuAdapter = async (gpu: GpuLike): Promise<GpuAdapter | string> => {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (adapter === null) return 'no WebGPU adapter (requestAdapter returned null: no GPU driver; in Node on a machine without a GPU, SwiftShader\'s Vulkan driver can serve, see the README)'
  const info = adapter.info ?? await adapter.requestAdapterInfo?.() ?? {}
  const [vendor, architecture, description] = [info.vendor ?? '', info.architecture ?? '', info.description ?? '']
  return { vendor, architecture, description, software: isSoftware([vendor, architecture, description], adapter.isFallbackAdapter === true) }
}

/**
 * Starts tfjs's `webgpu` backend; `automatic` refuses a software adapter.
 *
 * @example const r = await startWebgpu(false); if (!r.ok) console.log(r.reason)
 */
export const startWebgpu = async (automatic: boolean): Promise<GpuStart> => {
  const gpu = await webgpuApi(automatic)
  if (typeof gpu === 'string') return { ok: false, reason: gpu }
  const adapter = await webgpuAdapter(gpu)
  if (typeof adapter === 'string') return { ok: false, reason: adapter }
  if (automatic && adapter.software) return { ok: false, reason: softwareRefused('the WebGPU adapter', adapter, 'webgpu') }
  await import('@tensorflow/tfjs-backend-webgpu')   // registers 'webgpu' now that navigator.gpu exists
  if (!(await tf.setBackend('webgpu'))) return { ok: false, reason: 'tfjs-backend-webgpu did not initialise (see the console for its error)' }
  refuseSyncReads()
  return { ok: true, adapter }
}

/** The part of tfjs's webgpu backend patched here (4.22: a tensor's values stay on the CPU until it is uploaded). */
interface SyncReader {
  readSync: (dataId: object) => unknown
  readonly tensorMap: { get: (dataId: object) => { values?: unknown; dtype: string } | undefined }
  tfpplRefusesSync?: true
}

/**
 * Where there is no `OffscreenCanvas` (Node), tfjs's webgpu backend cannot read from the GPU
 * synchronously and fails inside tfjs with a ReferenceError: make that one clear error instead, saying
 * what to use. Values still on the CPU (a small tensor not yet uploaded, which tfjs's kernels forward
 * to their CPU implementations) are read as tfjs reads them.
 */
const refuseSyncReads = (): void => {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return
  const b = tf.backend() as unknown as SyncReader
  if (b.tfpplRefusesSync === true) return
  b.tfpplRefusesSync = true
  const readCpuResident = b.readSync.bind(b)
  b.readSync = (dataId) => {
    const data = b.tensorMap.get(dataId)
    if (data !== undefined && (data.values != null || data.dtype === 'string')) return readCpuResident(dataId)
    throw new BackendError("webgpu in Node cannot read a tensor synchronously (dataSync, arraySync, or an op that reads back): train with `await svi.stepAsync(…)` or `fit`, create params with `await svi.initAsync(…)`, read with `await t.data()`; what still reads synchronously — drawing Poisson, binomial, negative-binomial, beta-binomial or multinomial samples, enumeration with tensor-valued scales — runs on 'wasm' or 'cpu', or in a browser")
  }
}

/** A WebGL2 context on a scratch canvas (OffscreenCanvas, or a DOM canvas), or undefined outside browsers. */
const scratchGl = (): GlLike | undefined => {
  const g = globalThis as { OffscreenCanvas?: new (w: number, h: number) => CanvasLike; document?: { createElement: (t: string) => CanvasLike } }
  const canvas = g.OffscreenCanvas !== undefined ? new g.OffscreenCanvas(1, 1) : g.document?.createElement('canvas')
  return canvas?.getContext('webgl2') ?? undefined
}

/** The WebGL renderer, described (its unmasked names where the browser gives them). */
const webglAdapter = (gl: GlLike): GpuAdapter => {
  const debug = gl.getExtension('WEBGL_debug_renderer_info')
  const read = (masked: number, unmasked: string): string => String(gl.getParameter(debug?.[unmasked] ?? masked) ?? '')
  const vendor = read(gl.VENDOR, 'UNMASKED_VENDOR_WEBGL'), description = read(gl.RENDERER, 'UNMASKED_RENDERER_WEBGL')
  gl.getExtension('WEBGL_lose_context')?.loseContext?.()
  return { vendor, architecture: '', description, software: isSoftware([vendor, description]) }
}

/**
 * Starts tfjs's `webgl` backend; `automatic` refuses a software renderer.
 *
 * @example const r = await startWebgl(true); if (r.ok) console.log(r.adapter.description)
 */
export const startWebgl = async (automatic: boolean): Promise<GpuStart> => {
  const gl = scratchGl()
  if (gl === undefined) return { ok: false, reason: 'no WebGL2 context (tfjs\'s webgl backend needs a browser with WebGL2)' }
  const adapter = webglAdapter(gl)
  if (automatic && adapter.software) return { ok: false, reason: softwareRefused('the WebGL renderer', adapter, 'webgl') }
  await import('@tensorflow/tfjs-backend-webgl')
  if (!(await tf.setBackend('webgl'))) return { ok: false, reason: 'tfjs-backend-webgl did not initialise (see the console for its error)' }
  return { ok: true, adapter }
}

/**
 * Whether the current backend can read a tensor synchronously (`dataSync`): every backend but the GPU ones
 * (webgpu in Node cannot at all; webgpu and webgl in browsers only by stalling the GPU pipeline).
 *
 * @example if (!readsSync()) await svi.stepAsync(model, guide, x)
 */
export const readsSync = (): boolean => { const b = tf.getBackend(); return b !== 'webgpu' && b !== 'webgl' }
