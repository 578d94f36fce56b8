/**
 * tfppl — a functional, typed probabilistic-programming library on TensorFlow.js.
 *
 * This is the core, which runs anywhere (browsers, workers, Node): it imports
 * no Node module and reads no Node global. It is what `import … from 'tfppl'`
 * gives a browser bundle; in Node, `'tfppl'` resolves to `node.ts`, which
 * re-exports all of this plus what needs Node (the native accelerator, datasets
 * and checkpoints on disk).
 *
 * The root holds what users write models with; the building blocks beneath
 * (seeds, scopes, kernels' entry points, shape helpers)
 * are under `tfppl/internals`.
 *
 * @example
 * import { initBackend, normal, kl } from 'tfppl'
 * await initBackend()
 * const d = normal(0, 1)
 */
export * from './backend/index.js'
export { TfpplError, InvalidArgumentError, NonFiniteArgumentError, ShapeError, SupportError, BackendError, NotImplementedError } from './errors.js'
export * from './distributions/index.js'
export * from './dsl/index.js'
export * from './inference/index.js'
export * from './data/core.js'
export * from './models/index.js'
// Checkpoints in the browser (and anywhere): IndexedDB, and one file to download or upload; the same format as on disk.
export { saveCheckpointIdb, loadCheckpointIdb, saveParamsIdb, loadParamsIdb, listCheckpointsIdb, deleteCheckpointIdb } from './inference/checkpoint-idb.js'
export type { IdbFactory, IdbOptions, IdbSaveOptions, IdbSaveStage } from './inference/checkpoint-idb.js'
export { encodeCheckpointFile, decodeCheckpointFile, loadCheckpointFile } from './inference/checkpoint-blob.js'
export type { CheckpointFileSource } from './inference/checkpoint-blob.js'
export type { Restored, RestoreTarget } from './inference/checkpoint-restore.js'
