/** Backend selection, memory scopes, seeds and stable numerics. */
export { initBackend, backendInfo, setNative } from './init.js'
export type { BackendName, BackendOptions, BackendInfo } from './init.js'
export { scoped } from './scope.js'
export { subSeed } from './seed.js'
export { stopGradient, straightThroughGrad } from './gradient.js'
export { logSumExp, softplus, logSigmoid, log1mexp, log1p, logAddExp, clampProbs, probsToLogits, FLOAT32_EPS, FLOAT32_MAX } from './numerics.js'
export { conv2dTranspose } from './conv-grad.js'
export { applyFiniteGradients } from './fused-adam.js'
