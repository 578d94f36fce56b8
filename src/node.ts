/**
 * tfppl in Node: what `import … from 'tfppl'` resolves to under Node (and
 * `'tfppl/node'` anywhere). Everything of the core (`index.ts`), plus what
 * needs Node's modules — datasets read from disk (IDX files, the bundled MNIST
 * digits, Fashion-MNIST) and checkpoints as files — and, on import, the Node
 * platform: `TFPPL_*` environment variables, the native accelerator, tfjs-node
 * when installed, progress on stderr, `fit`'s checkpoints.
 *
 * @example
 * import { initBackend, mnistDigits, loadCheckpoint } from 'tfppl'
 * const info = await initBackend()   // info.nativeStatus: 'active (OpenBLAS 0.3.21, pthread build, 1 thread)', or why not
 */
import { installNodePlatform } from './platform-node.js'

export * from './index.js'
export * from './data/node.js'
export { saveCheckpoint, loadCheckpoint, saveParams, loadParams } from './inference/checkpoint.js'
export type { SaveHooks, SaveStage } from './inference/checkpoint.js'

installNodePlatform()
