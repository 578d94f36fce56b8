/**
 * Stochastic variational inference: the imperative shell around the pure
 * estimators. `svi` owns the param store, the step counter, the baselines and
 * every tfjs tensor a step creates (one `tidy` per step).
 */
import * as tf from '@tensorflow/tfjs-core'
import { readsSync } from '../backend/gpu.js'
import { subSeed } from '../backend/seed.js'
import { applyFiniteGradients } from '../backend/fused-adam.js'
import { variableGradsOrRelease } from '../backend/scope.js'
import { BackendError, InvalidArgumentError, NonFiniteArgumentError, TfpplError, showShape } from '../errors.js'
import type { Message } from '../dsl/messages.js'
import type { Handler } from './interpreter.js'
import type { GuideCheck } from './guide-check.js'
import type { Loss, LossContext, LossEstimate, ProgramFn } from './loss.js'
import type { BaselineSeen } from './score-function.js'
import { paramStore } from './params.js'
import type { ParamStore } from './params.js'
import { diagnoseNonFinite } from './diagnose.js'
import { fitLoop } from './fit.js'
import { predictive } from './predictive.js'
import type { PredictiveOptions } from './predictive.js'
import { warningSink } from './warnings.js'
import type { TfpplWarning } from './warnings.js'
import type { FitData, FitOptions, History } from './fit.js'
import { clip, keeper, lossPerPoint, reportedLoss } from './svi-parts.js'
import { type AsyncPass, readAsync, updateAsync } from './svi-async.js'

/** Options of {@link svi}. */
export interface SviOptions {
  /** A tfjs optimizer, e.g. `tf.train.adam(1e-3)`. */
  readonly optimizer: tf.Optimizer
  /** The estimator, e.g. `elbo()` or `iwae({ numParticles: 8 })`. */
  readonly loss: Loss
  /** Seeds every draw: two runs with the same seed on the same backend are bit-identical. Default 0. */
  readonly seed?: number
  /** Share a param store (default: a new one). */
  readonly params?: ParamStore
  /** Global gradient-norm clipping (none by default). */
  readonly clipNorm?: number
  /** Where warnings go (default: `console.warn`, once per message); see {@link TfpplWarning}. */
  readonly onWarning?: (w: TfpplWarning) => void
  /** Every warning is an error (a `StrictWarningError`); default false. */
  readonly strict?: boolean
  /**
   * Deterministic sites whose values each step keeps for {@link Svi.takeKept}: what an after-step hook
   * reads instead of computing it again (a VQ-VAE's encoder outputs and code assignments). Default none.
   */
  readonly keep?: readonly string[]
}

/** A non-finite loss or gradient; the step was not applied. */
export class NonFiniteError extends TfpplError {}

/** The mutable part of an SVI run (what a checkpoint saves besides params and optimizer). */
export interface SviState {
  step: number
  /** The decaying-average baseline of each score-function site that asked for one. */
  baselines: Record<string, number>
}

/** A model/guide pair over the same arguments, with the guide checked at compile time. */
type Pair<Args extends readonly unknown[], MM extends Message, MG extends Message> =
  readonly [model: ProgramFn<Args, MM>, guide: ProgramFn<Args, MG> & GuideCheck<MM, MG>]

/** The SVI driver returned by {@link svi}. */
export interface Svi {
  readonly params: ParamStore
  readonly optimizer: tf.Optimizer
  readonly state: Readonly<SviState>
  /** Sets the step counter and baselines (resuming from a checkpoint). */
  readonly restore: (state: SviState) => void
  /**
   * Creates every param by running the loss once (no update); a failure removes the params it created.
   * Validates them with synchronous reads: on webgpu in Node that is a BackendError, use `initAsync`.
   */
  readonly init: <Args extends readonly unknown[], MM extends Message, MG extends Message>(...pair: [...Pair<Args, MM, MG>, ...Args]) => void
  /**
   * {@link Svi.init} on every backend, GPU ones included: there, no synchronous read (the checks are read in
   * one asynchronous read); a failure removes the params it created. On cpu and wasm it is `init`.
   */
  readonly initAsync: <Args extends readonly unknown[], MM extends Message, MG extends Message>(...pair: [...Pair<Args, MM, MG>, ...Args]) => Promise<void>
  /**
   * One gradient step; returns the loss (−bound per data point, never the score-function surrogate).
   * Reads the loss back synchronously: on the GPU backends (webgpu, webgl) it is an error, use `stepAsync`.
   */
  readonly step: <Args extends readonly unknown[], MM extends Message, MG extends Message>(...pair: [...Pair<Args, MM, MG>, ...Args]) => number
  /**
   * {@link Svi.step} on every backend, GPU ones included: there, no synchronous read (validation is
   * read with the loss, in one asynchronous read, before the update is applied). On cpu and wasm it is
   * `step`, with the same results. `fit` uses it.
   */
  readonly stepAsync: <Args extends readonly unknown[], MM extends Message, MG extends Message>(...pair: [...Pair<Args, MM, MG>, ...Args]) => Promise<number>
  /**
   * The loss (−bound per data point) without updating anything. On an empty store it creates the params
   * first (and warns): as `initAsync` does, so on GPU backends nothing reads synchronously; a failure
   * removes the params it created.
   */
  readonly evaluate: <Args extends readonly unknown[], MM extends Message, MG extends Message>(...pair: [...Pair<Args, MM, MG>, ...Args]) => Promise<number>
  /**
   * Predictive draws with the fitted params: `predictive(model, { ...opts, handlers: [params.handler, …] })`.
   * Reading params before any step warns (they would be fresh).
   */
  readonly predictive: <Args extends readonly unknown[]>(model: ProgramFn<Args>, opts: PredictiveOptions<Args>) => (...args: Args) => Record<string, tf.Tensor>
  /**
   * The values the last step's run (before its update) gave the deterministic sites named in `keep`, those
   * that ran, handed over: the caller disposes them. A step frees the values of the one before that were not taken.
   */
  readonly takeKept: () => Record<string, tf.Tensor>
  /** Trains over a dataset; see {@link FitOptions}. */
  readonly fit: <Args extends readonly tf.Tensor[], MM extends Message, MG extends Message>(model: ProgramFn<Args, MM>, guide: ProgramFn<Args, MG> & GuideCheck<MM, MG>, data: FitData<Args>, opts?: FitOptions) => Promise<History>
}

/**
 * Checks the data arguments of one step (`where` names the caller): no array of tensors where a
 * tensor belongs (the batch is spread, `step(model, guide, x, c)`, not `step(model, guide, [x, c])`),
 * and every tensor of rank ≥ 1 has the same leading dim, the batch's data points.
 *
 * @example checkBatch('svi.step', [x, c])   // throws if x.shape[0] !== c.shape[0]
 */
export const checkBatch = (where: string, args: readonly unknown[]): void => {
  args.forEach((a, i) => {
    if (Array.isArray(a) && a.some((t) => t instanceof tf.Tensor)) {
      throw new InvalidArgumentError(`${where}: argument ${i} is an array of ${a.length} value(s); expected the batch's tensors as separate arguments after the guide, e.g. ${where}(model, guide, x, c), not ${where}(model, guide, [x, c])`)
    }
  })
  const data = args.flatMap((a, i) => a instanceof tf.Tensor && a.rank > 0 ? [[i, a] as const] : [])
  const [i0, t0] = data[0] ?? [0, undefined]
  for (const [i, t] of data) {
    if (t.shape[0] !== t0!.shape[0]) {
      throw new InvalidArgumentError(`${where}: argument ${i} has ${t.shape[0]} data points (shape ${showShape(t.shape)}) but argument ${i0} has ${t0!.shape[0]} (shape ${showShape(t0!.shape)}); expected every tensor argument of a batch to have the same leading (data) dim`)
    }
  }
}

/**
 * An SVI driver: `step`, `evaluate`, `fit`.
 *
 * @example
 * const s = svi({ optimizer: tf.train.adam(1e-2), loss: elbo() })
 * const history = await s.fit(model, guide, x, { epochs: 10, batchSize: 128 })
 */
export const svi = (opts: SviOptions): Svi => {
  const params = opts.params ?? paramStore()
  const baseSeed = opts.seed ?? 0
  const state: SviState = { step: 0, baselines: {} }
  if (opts.clipNorm !== undefined && !(opts.clipNorm > 0)) throw new InvalidArgumentError(`svi: clipNorm must be > 0; got ${opts.clipNorm}`)
  const warn = warningSink(opts)
  const kept = keeper(opts.keep)
  const ctx = (extra: readonly Handler[] = []): LossContext => ({ seed: subSeed(baseSeed, state.step) ?? 0, handlers: [params.handler, ...extra], baselines: new Map(Object.entries(state.baselines)), warn })
  const estimate = (pair: readonly unknown[], extra?: readonly Handler[]): { est: LossEstimate; args: unknown[] } => {
    const [model, guide, ...args] = pair as [ProgramFn<unknown[]>, ProgramFn<unknown[]>, ...unknown[]]
    return { est: opts.loss.estimate(model, guide, args, ctx(extra)), args }
  }
  /** The loss of `pair` (−bound per data point) as a tensor; inside the caller's tidy. */
  const lossOf = (pair: readonly unknown[], extra?: readonly Handler[]): tf.Scalar => { const { est, args } = estimate(pair, extra); return lossPerPoint(est, args) }
  /** Creates the params `pair` uses: its loss run once, inside the caller's transaction (which removes them if it fails). */
  const create = (pair: readonly unknown[]): void => { tf.tidy(() => { estimate(pair) }) }
  /** {@link create} without synchronous reads: the checks deferred, then read in one asynchronous read. */
  const createAsync = async (pair: readonly unknown[]): Promise<void> => { await readAsync(() => { estimate(pair); return tf.scalar(0) }) }
  const init = (...pair: readonly unknown[]): void => {
    checkBatch('svi.init', pair.slice(2))
    params.transaction(() => { create(pair) })
  }
  const initAsync = async (...pair: readonly unknown[]): Promise<void> => {
    if (readsSync()) return init(...pair)
    checkBatch('svi.initAsync', pair.slice(2))
    await params.transactionAsync(() => createAsync(pair))
  }
  /** The NonFiniteError of the current step: `what` went wrong, traced to its site (or `otherwise`; GPU backends: not traced). */
  const nonFinite = (pair: readonly unknown[], what: string, otherwise: string): NonFiniteError => {
    if (!readsSync()) return new NonFiniteError(`svi step ${state.step}: ${what}; the update was not applied and the parameters are those of the last good step (the site is not traced on ${tf.getBackend()}: that needs synchronous reads; the same step on 'cpu' names it)`)
    const culprit = tf.tidy(() => {
      const [model, guide, ...args] = pair as [ProgramFn<unknown[]>, ProgramFn<unknown[]>, ...unknown[]]
      return diagnoseNonFinite(model, guide, args, ctx())
    })
    return new NonFiniteError(`svi step ${state.step}: ${what}, from ${culprit ?? otherwise}; the update was not applied and the parameters are those of the last good step`)
  }
  /** Runs `f` (the step's loss and update); a NaN or ±∞ distribution argument met on the way becomes a NonFiniteError. */
  const guarded = <A>(pair: readonly unknown[], f: () => A): A => {
    try {
      return f()
    } catch (e) {
      if (e instanceof NonFiniteArgumentError) throw nonFinite(pair, `a distribution argument is not finite (${e.message})`, 'an unknown site')
      throw e
    }
  }
  // A failed step removes the entries it created (a fresh store's params, a module met late): the store is as it was.
  const step = (...pair: readonly unknown[]): number => {
    checkBatch('svi.step', pair.slice(2))
    if (!readsSync()) throw new BackendError(`svi.step reads the loss back synchronously, which the '${tf.getBackend()}' backend cannot do (webgpu in Node) or does only by stalling the GPU; use \`await svi.stepAsync(model, guide, ...batch)\` (fit does)`)
    kept.release()
    try {
      return params.transaction(() => {
        if (params.variables().length === 0) create(pair)
        return update(pair)
      })
    } catch (e) {
      kept.release()   // a failed step's values
      throw e
    }
  }
  /** One forward and backward pass for the asynchronous step (inside its tidy; the baselines' costs kept). */
  const pass = (pair: readonly unknown[]): AsyncPass => {
    let costs: Array<readonly [BaselineSeen, tf.Scalar]> = []
    const { value, grads } = variableGradsOrRelease(() => {
      const r = estimate(pair, kept.handlers)
      costs = r.est.baselines.map((b) => [b, tf.keep(tf.clone(b.meanCost))] as const)
      return reportedLoss(r.est, r.args)
    }, params.variables())
    return { value, grads, costs }
  }
  const stepAsync = async (...pair: readonly unknown[]): Promise<number> => {
    if (readsSync()) return step(...pair)
    checkBatch('svi.stepAsync', pair.slice(2))
    kept.release()
    try {
      return await params.transactionAsync(async () => {
        if (params.variables().length === 0) await createAsync(pair)
        const r = await updateAsync({ pass: () => pass(pair), optimizer: opts.optimizer, clipNorm: opts.clipNorm, nonFinite: (what) => nonFinite(pair, what, '') })
        recordBaselines(r.costs)
        state.step += 1
        return r.loss
      })
    } catch (e) {
      kept.release()
      throw e
    }
  }
  /** Each score-function site's decaying-average baseline, updated with this step's mean cost. */
  const recordBaselines = (seen: ReadonlyArray<readonly [BaselineSeen, number]>): void => {
    for (const [b, cost] of seen) {
      const old = state.baselines[b.site]
      if (Number.isFinite(cost)) state.baselines[b.site] = old === undefined ? cost : b.beta * old + (1 - b.beta) * cost
    }
  }
  const update = (pair: readonly unknown[]): number => {
    const vars = params.variables()
    // A model and guide without params still get their loss computed (nothing is updated), as in Pyro.
    if (vars.length === 0) return tf.tidy(() => lossOf(pair, kept.handlers).dataSync()[0]!)
    let seen: Array<readonly [BaselineSeen, number]> = []   // read inside: variableGrads frees everything but the value it differentiates
    const [loss, finite] = guarded(pair, () => tf.tidy(() => {
      const { value, grads } = variableGradsOrRelease(() => {
        const r = estimate(pair, kept.handlers)
        seen = r.est.baselines.map((b) => [b, b.meanCost.dataSync()[0]!] as const)
        return reportedLoss(r.est, r.args)
      }, vars)
      // No param reaches the loss: nothing to update (the optimizer's counters do not advance either).
      const okValue = Object.keys(grads).length === 0 ? Number.isFinite(value.dataSync()[0]) : applyFiniteGradients(opts.optimizer, value, clip(grads, opts.clipNorm))
      return [value.dataSync()[0]!, okValue] as const
    }))
    if (!finite) throw nonFinite(pair, `the loss, a gradient or an updated parameter is ${Number.isNaN(loss) ? 'NaN' : 'not finite'} (loss ${loss})`, 'a gradient or the update (every site is finite)')
    recordBaselines(seen)
    state.step += 1
    return loss
  }
  const evaluate = async (...pair: readonly unknown[]): Promise<number> => {
    checkBatch('svi.evaluate', pair.slice(2))
    return params.transactionAsync(async () => {
      if (params.variables().length === 0) {
        if (readsSync()) create(pair); else await createAsync(pair)   // cpu, wasm: no await, all as one synchronous run
        if (params.variables().length > 0) warn({ cause: 'fresh-params', message: `svi.evaluate: this svi's param store was empty, so evaluate created the params it reads: the loss is that of freshly initialised params. To evaluate a fitted model, give this svi the fitted store (svi({ …, params: fitted.params })) or call evaluate on the svi that was fitted` })
      }
      return readsSync() ? tf.tidy(() => lossOf(pair).dataSync()[0]!) : readAsync(() => lossOf(pair))
    })
  }
  const self: Svi = {
    params, optimizer: opts.optimizer, state,
    restore: (saved) => { state.step = saved.step; state.baselines = { ...saved.baselines } },
    init: init as Svi['init'], initAsync: initAsync as Svi['initAsync'], step: step as Svi['step'], stepAsync: stepAsync as Svi['stepAsync'], evaluate: evaluate as Svi['evaluate'], takeKept: kept.take,
    fit: (model, guide, data, fitOpts) => fitLoop(self, model, guide, data, fitOpts ?? {}),
    predictive: (model, popts) => {
      if (params.entries().length === 0) warn({ cause: 'fresh-params', message: `svi.predictive: this svi's param store is empty (no step has run), so the predictive's guide and model would create fresh params; fit first, or give this svi the fitted store` })
      return predictive(model, { ...popts, handlers: [params.handler, ...(popts.handlers ?? [])], onWarning: popts.onWarning ?? opts.onWarning, strict: popts.strict ?? opts.strict })
    },
  }
  return self
}
