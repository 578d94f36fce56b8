/**
 * The Node platform (see `platform.ts`): `process.env`, the native accelerator
 * (`backend/native.ts`, a Node-API addon), optional packages imported by name
 * (tfjs-node), `setImmediate` between steps, progress on stderr, and `fit`'s
 * checkpoints as files. `tfppl`'s Node entry (`node.ts`) and the CLI install it.
 */
import { existsSync } from 'node:fs'
import { loadNative, nativeThreads } from './backend/native.js'
import { type Platform, platform, setPlatform } from './platform.js'

/** The part of the `webgpu` package (Dawn for Node) used here. */
interface DawnModule {
  readonly create: (flags: string[]) => unknown
  readonly globals: Record<string, unknown>
}

const VULKAN_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib']

/**
 * Whether Dawn can find a Vulkan driver on Linux (elsewhere it uses Metal or D3D12: true): a named
 * driver (VK_ICD_FILENAMES) or the Vulkan loader in a library folder. Without, Dawn only prints a warning.
 */
const vulkanLikely = (): boolean => {
  if (process.platform !== 'linux' || (process.env['VK_ICD_FILENAMES'] ?? '') !== '') return true
  const dirs = [...(process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter((d) => d !== ''), ...VULKAN_DIRS]
  return dirs.some((d) => existsSync(`${d}/libvulkan.so.1`))
}

/**
 * Installs `navigator.gpu` from the optional `webgpu` package, with the WebGPU constants tfjs reads
 * (`GPUBufferUsage`, …); resolves to why not when the package is missing or fails to load.
 */
const provideWebgpu = async (automatic: boolean): Promise<string | undefined> => {
  if (automatic && !vulkanLikely()) return 'no Vulkan loader (libvulkan.so.1) and no VK_ICD_FILENAMES: no GPU driver for WebGPU here (not probed, so Dawn prints nothing); initBackend({ backend: \'webgpu\' }) tries anyway'
  let dawn: DawnModule
  try {
    dawn = await import('webgpu' as string) as DawnModule   // by name: an optional peer
  } catch (err) {
    const msg = (err as Error).message ?? String(err)
    return /Cannot find (package|module) 'webgpu'/.test(msg) ? "no WebGPU in Node: install the optional package 'webgpu' (Dawn) and '@tensorflow/tfjs-backend-webgpu'" : `the 'webgpu' package failed to load (${msg.split('\n')[0]})`
  }
  const g = globalThis as Record<string, unknown> & { navigator?: object }
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v
  const gpu = dawn.create([])
  if (g.navigator === undefined) g.navigator = { gpu }
  else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true })
  return undefined
}

/**
 * The Node platform.
 *
 * @example setPlatform(nodePlatform())
 */
export const nodePlatform = (): Platform => ({
  name: 'node',
  env: (name) => process.env[name],
  native: { load: loadNative, threads: nativeThreads },
  importPackage: (name) => import(name),
  provideWebgpu,
  yieldToHost: () => new Promise<void>((resolve) => setImmediate(resolve)),
  progress: (line) => { process.stderr.write(`${line}\n`) },
  fitCheckpoints: () => import('./inference/fit-checkpoint.js'),
})

/**
 * Installs the Node platform unless it is already in use (idempotent).
 *
 * @example installNodePlatform(); platform().name   // 'node'
 */
export const installNodePlatform = (): void => {
  if (platform().name !== 'node') setPlatform(nodePlatform())
}
