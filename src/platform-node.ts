/**
 * The Node platform (see `platform.ts`): `process.env`, the native accelerator
 * (`backend/native.ts`, a Node-API addon), optional packages imported by name
 * (tfjs-node), `setImmediate` between steps, progress on stderr, and `fit`'s
 * checkpoints as files. `tfppl`'s Node entry (`node.ts`) and the CLI install it.
 */
import { loadNative, nativeThreads } from './backend/native.js'
import { type Platform, platform, setPlatform } from './platform.js'

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
