/**
 * tfppl — a functional, typed probabilistic-programming library on TensorFlow.js.
 *
 * This is the core, which runs anywhere (browsers, workers, Node): it imports
 * no Node module and reads no Node global. It is what `import … from 'tfppl'`
 * gives a browser bundle; in Node, `'tfppl'` resolves to `node.ts`, which
 * re-exports all of this plus what needs Node (the native accelerator, datasets
 * and checkpoints on disk).
 *
 * @example
 * import { initBackend, normal, kl } from 'tfppl'
 * await initBackend()
 * const d = normal(0, 1)
 */
export * from './backend/index.js'
export * from './errors.js'
export * from './distributions/index.js'
export * from './dsl/index.js'
export * from './inference/index.js'
export * from './data/core.js'
export * from './models/index.js'
