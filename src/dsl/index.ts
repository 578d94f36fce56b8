/** Programs: generator do-notation, effects, site types, and the fp-ts instance. */
export { gen, Effect } from './program.js'
export type { Program, MessagesOf, ResultOf } from './program.js'
export { sample, observe, param, module, factor, deterministic, plate, sequentialPlate, scaled } from './primitives.js'
export { markov, markovScope } from './markov.js'
export type { MarkovOptions, MarkovMsgs } from './markov.js'
export type { PlateOptions, SequentialPlateOptions } from './primitives.js'
export type {
  Message, SampleMsg, ParamMsg, ModuleMsg, FactorMsg, DeterministicMsg, PlateEnterMsg, PlateExitMsg, ScaleEnterMsg, ScaleExitMsg, MarkovEnterMsg, MarkovStepMsg, MarkovExitMsg, EnumVar, EnumContext, PlateFrame, SiteKind, Network, SampleOptions, BaselineSpec,
} from './messages.js'
export { asNetwork } from './network.js'
export type { NetworkLike, LayersLike } from './network.js'
export type { Site, LatentSites, ObservedSites, MissingSites, MismatchedSites, EnumeratedSites } from './sites.js'
export * as P from './monad.js'
export { Monad } from './monad.js'
export type { ParamOptions } from './primitives.js'
