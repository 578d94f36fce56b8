/**
 * The few things tfppl needs from its host, behind one replaceable object, so
 * that the core (the root entry in browsers) imports no Node module and reads
 * no Node global. The portable default below works anywhere; tfppl's Node
 * entry (`tfppl` under Node, or `tfppl/node`) installs the Node one
 * (`platform-node.ts`): environment variables, the native accelerator,
 * tfjs-node by name, `setImmediate`, stderr and checkpoint files.
 */
import type { NativeLoad } from './backend/native.js'
import type { FitCheckpointIo } from './inference/fit-types.js'

// ---------------------------------------------------------------------------
// model
// ---------------------------------------------------------------------------

/** The native accelerator as a host provides it (Node only: a Node-API addon). */
export interface NativeHost {
  /** Loads the addon once, or says why it cannot. */
  readonly load: () => NativeLoad
  /** The accelerator's threads to start it with (`TFPPL_THREADS` in Node). */
  readonly threads: () => number
}

/**
 * What tfppl asks of its host.
 *
 * @example setPlatform({ ...platform(), progress: (line) => myLog.push(line) })
 */
export interface Platform {
  /** `'node'` once the Node entry has installed itself; `'portable'` otherwise (browsers, workers, the core alone). */
  readonly name: 'node' | 'portable'
  /** An environment variable (`TFPPL_BACKEND`, `TFPPL_NATIVE`, `TFPPL_THREADS`), or undefined. */
  readonly env: (name: string) => string | undefined
  /** The native accelerator, where the host has one. */
  readonly native?: NativeHost
  /** Imports an optional package by name (`@tensorflow/tfjs-node`), where the host can. */
  readonly importPackage?: (name: string) => Promise<unknown>
  /** Lets the host's timers and events (Ctrl-C, a page's input) run between training steps. */
  readonly yieldToHost: () => Promise<void>
  /** Writes one progress line of `fit` (no trailing newline). */
  readonly progress: (line: string) => void
  /**
   * Installs `navigator.gpu` where the host has no WebGPU of its own (Node: the optional `webgpu`
   * package, Dawn); resolves to undefined when it did, else to why not. `automatic` (initBackend's
   * automatic choice) lets the host decline early where no GPU driver can be there.
   */
  readonly provideWebgpu?: (automatic: boolean) => Promise<string | undefined>
  /** `fit`'s checkpoint saving and resuming, where the host has storage for it. */
  readonly fitCheckpoints?: () => Promise<FitCheckpointIo>
}

// ---------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------

/** The part of a `MessagePort` used here, as browsers and Node both have it (Node's types lack `onmessage`). */
interface Port {
  onmessage: (() => void) | null
  readonly postMessage: (message: undefined) => void
  readonly close: () => void
}

/** A macrotask without `setTimeout`'s clamping to ≥ 4 ms when nested (a message to oneself), where `MessageChannel` exists. */
const nextMacrotask = (): Promise<void> => new Promise((resolve) => {
  if (typeof MessageChannel === 'undefined') {
    setTimeout(resolve, 0)
    return
  }
  const { port1, port2 } = new MessageChannel() as unknown as { readonly port1: Port; readonly port2: Port }
  port1.onmessage = () => {
    port1.close()
    resolve()
  }
  port2.postMessage(undefined)
})

/**
 * The host-independent platform: no environment variables, no accelerator, no
 * packages by name, no checkpoint files; progress lines go to `console.log`;
 * `fit`'s checkpoints go to IndexedDB (`checkpoint.dir` is the key), where the host has it.
 *
 * @example platform().name === 'portable'   // in a browser
 */
export const PORTABLE: Platform = {
  name: 'portable',
  env: () => undefined,
  yieldToHost: nextMacrotask,
  progress: (line) => console.log(line),
  fitCheckpoints: () => import('./inference/fit-checkpoint-idb.js'),
}

// ---------------------------------------------------------------------------
// utils
// ---------------------------------------------------------------------------

let current: Platform = PORTABLE

/**
 * The platform in use ({@link PORTABLE} until a host installs its own).
 *
 * @example if (platform().native === undefined) console.log('no accelerator on this host')
 */
export const platform = (): Platform => current

/**
 * Installs a host's platform (the Node entry does, on import); returns the previous one.
 *
 * @example const previous = setPlatform(nodePlatform()); setPlatform(previous)
 */
export const setPlatform = (p: Platform): Platform => {
  const previous = current
  current = p
  return previous
}
