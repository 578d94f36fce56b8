/**
 * Choosing and initialising the tfjs backend.
 *
 * Order when nothing is forced — in Node: `tensorflow` (from `@tensorflow/tfjs-node-gpu`,
 * then `@tensorflow/tfjs-node`, when installed), `webgpu` (when the optional `webgpu`
 * package is installed and a hardware adapter exists), `wasm` (SIMD, with the native
 * accelerator), `cpu`; in a browser: `webgpu`, `webgl`, `wasm`, `cpu`. A software GPU
 * (SwiftShader, llvmpipe) is skipped by the automatic choice, being slower than wasm.
 * `TFPPL_BACKEND=<name>` or `initBackend({ backend })` forces one;
 * a forced backend that cannot be loaded (or a name tfppl does not know) is a
 * {@link BackendError} that says why, never a silent fallback. What depends on
 * the host (environment variables, tfjs-node, the native accelerator) comes
 * from `platform()`: in a browser there is no `tensorflow` and no accelerator.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as wasm from '@tensorflow/tfjs-backend-wasm'
import './gradients.js' // tfjs's gradients, zero gradients for comparisons, conv filter gradients
import { installNativeKernels, installWasmKernels, nativeKernels, uninstallNativeKernels } from './kernels/register.js'
import { BackendError } from '../errors.js'
import { type GpuAdapter, type GpuStart, startWebgl, startWebgpu } from './gpu.js'
import { platform } from '../platform.js'

/** The backends tfppl knows how to choose. */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu'

/** Options for {@link initBackend}. */
export interface BackendOptions {
  /** Force one backend (overrides `TFPPL_BACKEND`). */
  readonly backend?: BackendName
  /** wasm threads, where the threaded wasm build works (not in Node today). */
  readonly threads?: number
}

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  readonly name: BackendName
  /** The npm package that provides the backend. */
  readonly package: string
  /** Whether the backend runs on a GPU (tfjs-node-gpu, webgpu, webgl). */
  readonly gpu: boolean
  /** webgpu/webgl: the device, as the platform describes it (`software` for SwiftShader and the like). */
  readonly adapter?: GpuAdapter
  /** wasm: whether SIMD is in use. */
  readonly simd: boolean
  /** wasm: threads in use (1 when the threaded build is unavailable). */
  readonly threads: number
  /** Whether the optional native accelerator is active (see `native/`). */
  readonly native: boolean
  /** The accelerator's state in words: 'active (OpenBLAS 0.3.21, pthread build, 1 thread)' (the BLAS build loaded), or why not (not built, library missing, disabled, not the wasm backend). */
  readonly nativeStatus: string
  /** The kernels the native accelerator runs (empty when it is off; see `nativeKernels`). */
  readonly nativeKernels: readonly string[]
  /** Candidates that were tried before the chosen one, with the reason each was skipped. */
  readonly skipped: readonly string[]
}

const NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const
const NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu']

/** The automatic order on this platform. */
const automaticOrder = (): readonly BackendName[] =>
  platform().name === 'node' ? ['tensorflow', 'webgpu', 'wasm', 'cpu'] : ['webgpu', 'webgl', 'wasm', 'cpu']

let current: BackendInfo | undefined

/** `true` for a module-not-found failure of exactly `pkg` (not of something it imports). */
const isMissing = (err: unknown, pkg: string): boolean => {
  const e = err as { code?: string; message?: string }
  const msg = e.message ?? ''
  return msg.includes(pkg) && (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND' ||
    /Cannot find (package|module)|Could not resolve|Failed to (resolve|load url)/.test(msg))
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''

const NOT_NODE = 'Node only (tfjs-node is a Node addon; this is not tfppl\'s Node entry)'

/** Tries tfjs-node-gpu, then tfjs-node; returns the info, or the reasons both failed. */
const tryTensorflow = async (skipped: string[]): Promise<BackendInfo | undefined> => {
  const importPackage = platform().importPackage
  if (importPackage === undefined) {
    skipped.push(`${NODE_PACKAGES.join(' / ')}: ${NOT_NODE}`)
    return undefined
  }
  for (const pkg of NODE_PACKAGES) {
    try {
      await importPackage(pkg) // by name: these packages are optional peers
      if (await tf.setBackend('tensorflow')) {
        return { name: 'tensorflow', package: pkg, gpu: pkg.endsWith('gpu'), simd: false, threads: 0, native: false, nativeStatus: NOT_WASM, nativeKernels: [], skipped }
      }
      skipped.push(`${pkg}: loaded, but the 'tensorflow' backend did not initialise`)
    } catch (err) {
      skipped.push(isMissing(err, pkg) ? `${pkg}: not installed` : `${pkg}: failed to load (${describe(err)})`)
    }
  }
  return undefined
}

const NOT_WASM = 'inactive: the accelerator runs under the wasm backend only'
const NO_HOST = "unavailable: the accelerator is a Node addon, loaded by tfppl's Node entry ('tfppl' in Node, or 'tfppl/node')"

type NativeState = { native: boolean; nativeStatus: string; nativeKernels: readonly string[] }

/** The accelerator off, for `reason`; kernels a previous start installed come out, so what is reported is what runs. */
const nativeOff = (reason: string): NativeState => {
  uninstallNativeKernels()
  return { native: false, nativeStatus: reason, nativeKernels: [] }
}

/** Loads the accelerator (where the platform has one) and installs its kernels under wasm; its state in words. */
const startNative = (threads?: number): NativeState => {
  const host = platform().native
  if (host === undefined) return nativeOff(NO_HOST)
  const loaded = host.load()
  if (!loaded.ok) return nativeOff(loaded.reason)
  const n = threads ?? host.threads()
  loaded.addon.setThreads(n)
  installNativeKernels(loaded.addon)
  const blas = loaded.addon.blasInfo?.() ?? 'OpenBLAS'   // e.g. 'OpenBLAS 0.3.21, pthread build'
  return { native: true, nativeStatus: `active (${blas}, ${n} thread${n === 1 ? '' : 's'})`, nativeKernels: nativeKernels() }
}

const tryWasm = async (threads: number | undefined, skipped: string[]): Promise<BackendInfo | undefined> => {
  if (threads !== undefined) wasm.setThreadsCount(threads)
  try {
    if (await tf.setBackend('wasm')) {
      await tf.ready()
      installWasmKernels()
      const native = startNative()
      return {
        name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', gpu: false,
        simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: wasm.getThreadsCount(), ...native, skipped,
      }
    }
    skipped.push('@tensorflow/tfjs-backend-wasm: the wasm module did not initialise')
  } catch (err) {
    skipped.push(`@tensorflow/tfjs-backend-wasm: ${describe(err)}`)
  }
  return undefined
}

const tryCpu = async (skipped: string[]): Promise<BackendInfo | undefined> =>
  (await tf.setBackend('cpu'))
    ? { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', gpu: false, simd: false, threads: 1, native: false, nativeStatus: NOT_WASM, nativeKernels: [], skipped }
    : undefined

const GPU_PACKAGES = { webgpu: '@tensorflow/tfjs-backend-webgpu', webgl: '@tensorflow/tfjs-backend-webgl' } as const

/** A GPU backend (`automatic`: a software device is refused), or its reason in `skipped`. */
const tryGpu = async (name: 'webgpu' | 'webgl', automatic: boolean, skipped: string[]): Promise<BackendInfo | undefined> => {
  let r: GpuStart
  try {
    r = await (name === 'webgpu' ? startWebgpu : startWebgl)(automatic)
  } catch (err) {
    r = { ok: false, reason: describe(err) }
  }
  if (!r.ok) {
    skipped.push(`${GPU_PACKAGES[name]}: ${r.reason}`)
    return undefined
  }
  return { name, package: GPU_PACKAGES[name], gpu: true, adapter: r.adapter, simd: false, threads: 1, native: false, nativeStatus: NOT_WASM, nativeKernels: [], skipped }
}

const tryOne = (name: BackendName, opts: BackendOptions, automatic: boolean, skipped: string[]): Promise<BackendInfo | undefined> =>
  name === 'tensorflow' ? tryTensorflow(skipped)
    : name === 'webgpu' || name === 'webgl' ? tryGpu(name, automatic, skipped)
      : name === 'wasm' ? tryWasm(opts.threads, skipped) : tryCpu(skipped)

const isBackendName = (raw: unknown): raw is BackendName => (NAMES as readonly unknown[]).includes(raw)

/** Reads and checks `TFPPL_BACKEND` (through the platform: there is none in a browser). */
const fromEnv = (): BackendName | undefined => {
  const raw = platform().env('TFPPL_BACKEND')
  if (raw === undefined || raw === '') return undefined
  if (isBackendName(raw)) return raw
  throw new BackendError(`TFPPL_BACKEND='${raw}' is not a backend tfppl knows; expected one of ${NAMES.join(', ')}`)
}

/** The backend asked for: the option (checked, since JavaScript callers pass any string), else `TFPPL_BACKEND`. */
const requested = (opts: BackendOptions): BackendName | undefined => {
  const asked: unknown = opts.backend
  if (asked === undefined) return fromEnv()
  if (isBackendName(asked)) return asked
  throw new BackendError(`initBackend: backend '${String(asked)}' is not one tfppl can start; expected one of ${NAMES.join(', ')}, or no option for the automatic choice`)
}

/**
 * Chooses, initialises and returns the backend (idempotent for the same request).
 *
 * @example
 * const info = await initBackend()          // auto (Node): tensorflow → webgpu → wasm → cpu
 * console.log(info.name, info.simd)
 * await initBackend({ backend: 'cpu' })     // forced: a BackendError if unavailable
 */
export const initBackend = async (opts: BackendOptions = {}): Promise<BackendInfo> => {
  const forced = requested(opts)
  if (current !== undefined && (forced === undefined || forced === current.name) && tf.getBackend() === current.name) {
    return current
  }
  const skipped: string[] = []
  for (const name of forced === undefined ? automaticOrder() : [forced]) {
    const info = await tryOne(name, opts, forced === undefined, skipped)
    if (info !== undefined) return (current = info)
  }
  throw new BackendError(forced === undefined
    ? `no tfjs backend could be initialised: ${skipped.join('; ')}`
    : `the backend '${forced}' was requested (${opts.backend !== undefined ? 'initBackend option' : 'TFPPL_BACKEND'}) but is unavailable: ${skipped.join('; ')}` +
      (forced === 'tensorflow' && platform().importPackage !== undefined ? '. Install it with `npm install @tensorflow/tfjs-node-gpu` (CUDA) or `npm install @tensorflow/tfjs-node`.' : ''))
}

/**
 * What {@link initBackend} chose; throws if it has not run yet.
 *
 * @example
 * await initBackend(); console.log(backendInfo().name)   // 'wasm' on a machine without tfjs-node
 */
export const backendInfo = (): BackendInfo => {
  if (current === undefined) throw new BackendError('backendInfo() was called before initBackend(); await initBackend() first')
  return current
}

/**
 * Switches the native accelerator on (with `threads` threads of its own: native/parallel.c) or off at run time, under wasm;
 * returns the updated {@link backendInfo}. Off means tfjs's stock wasm kernels (plus tfppl's wasm fast paths).
 *
 * @example
 * await initBackend(); setNative(false)                    // stock wasm from here on
 * setNative(true, 2).nativeStatus                         // 'active (OpenBLAS 0.3.21, pthread build, 2 threads)', or why not
 */
export const setNative = (on: boolean, threads = 1): BackendInfo => {
  const info = backendInfo()
  if (info.name !== 'wasm') return info
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new BackendError(`setNative: threads must be an integer from 1 to 256; got ${threads}`)
  uninstallNativeKernels()
  return (current = { ...info, ...(on ? startNative(threads) : { native: false, nativeStatus: 'switched off (setNative(false))', nativeKernels: [] }) })
}
