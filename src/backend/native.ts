/**
 * The optional native accelerator (`native/`): a Node-API addon, built at
 * install with node-gyp and OpenBLAS, whose functions run kernels on the wasm
 * backend's heap. This module only finds and loads it, and says why not when
 * it cannot: not built, a library missing, disabled by `TFPPL_NATIVE=0`, or a
 * wasm backend version it was not made for. Kernels: `kernels/native/` (installed by `kernels/register.ts`).
 * Node only: the Node platform (`platform-node.ts`) hands it to `init.ts`, so
 * the core (the browser's entry) never imports this module.
 */
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { version_wasm } from '@tensorflow/tfjs-backend-wasm'
import { BackendError } from '../errors.js'
import type { NativeAddon } from './kernels/native/addon.js'

export type { NativeAddon } from './kernels/native/addon.js'

/** The wasm backend version whose heap layout and kernel attributes the accelerator was written against. */
export const NATIVE_WASM_VERSION = '4.22.0'

/** Where node-gyp puts the addon (relative to this file in src/ and in dist/). */
const ADDON_URL = new URL('../../native/build/Release/tfppl_native.node', import.meta.url)

/** The addon, or the reason it is unavailable. */
export type NativeLoad = { readonly ok: true; readonly addon: NativeAddon } | { readonly ok: false; readonly reason: string }

/**
 * Reads `TFPPL_THREADS` (the accelerator's threads, native/parallel.c; default 1).
 *
 * @example
 * process.env.TFPPL_THREADS = '2'; nativeThreads()   // 2
 */
export const nativeThreads = (): number => {
  const raw = process.env['TFPPL_THREADS']
  if (raw === undefined || raw === '') return 1
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new BackendError(`TFPPL_THREADS='${raw}' is not a thread count; expected an integer from 1 to 256`)
  return n
}

/** Why a failed `require` of the addon failed, in a user's words. */
const loadFailure = (err: unknown): string => {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
  const lib = /(lib[\w.+-]+\.so[\w.]*): cannot open shared object file/.exec(msg)
  return lib !== null
    ? `library missing: ${lib[1]} (apt-get install -y libopenblas-dev, then npm rebuild tfppl)`
    : `failed to load native/build/Release/tfppl_native.node: ${msg}`
}

let cached: NativeLoad | undefined

/**
 * Loads the addon once; `{ ok: false, reason }` when disabled, not built, missing a library,
 * or when the installed wasm backend is not the version it was written for.
 *
 * @example
 * const n = loadNative(); if (!n.ok) console.log(n.reason)   // e.g. 'not built (…)'
 */
export const loadNative = (): NativeLoad => {
  if (process.env['TFPPL_NATIVE'] === '0') return { ok: false, reason: 'disabled (TFPPL_NATIVE=0)' }
  if (cached !== undefined) return cached
  if (version_wasm !== NATIVE_WASM_VERSION) {
    return (cached = { ok: false, reason: `@tensorflow/tfjs-backend-wasm is ${version_wasm}; the accelerator is pinned to ${NATIVE_WASM_VERSION}` })
  }
  const path = fileURLToPath(ADDON_URL)
  if (!existsSync(path)) {
    return (cached = { ok: false, reason: 'not built (native/build/Release/tfppl_native.node is absent: apt-get install -y libopenblas-dev build-essential, then npm rebuild tfppl)' })
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon
    return (cached = { ok: true, addon })
  } catch (err) {
    return (cached = { ok: false, reason: loadFailure(err) })
  }
}
