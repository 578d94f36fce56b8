/**
 * `tfppl/internals`: the building blocks beneath the public API, for those who
 * extend tfppl (a custom estimator, a new family's shape and support helpers,
 * a kernel test) — not needed to write and fit models. Names here may change between
 * minor versions; the root (`tfppl`) is the stable surface.
 *
 * @example
 * import { subSeed, scoped } from 'tfppl/internals'
 */
export { showShape, sameShape, indexIn } from './errors.js'
export { scoped } from './backend/scope.js'
export { subSeed } from './backend/seed.js'
export { applyFiniteGradients } from './backend/fused-adam.js'
export { gammaSample, logGammaSample } from './backend/gamma-sampler.js'
export { readsSync } from './backend/gpu.js'
export { broadcastShapes } from './distributions/shape.js'
export { unconstrainedFor } from './distributions/unconstrained.js'
export { transformNames } from './distributions/biject.js'
export { interpreter, draw } from './inference/interpreter.js'
export { paramTransform } from './inference/params.js'
export { IDX_MAGIC } from './data/idx-codec.js'
export { SEMI_SUPERVISED_POOL, chooseLabelled } from './data/labelled-split.js'
export { precisionMerge } from './models/ladder-vae.js'
export { joinLast } from './models/ssvae.js'
export { pixelMean } from './models/heads.js'
export { nearestCodes } from './backend/nearest-codes.js'
