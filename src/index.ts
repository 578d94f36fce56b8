/**
 * tfppl — a functional, typed probabilistic-programming library on TensorFlow.js.
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
export * from './data/index.js'
export * from './models/index.js'
