/**
 * `inferDiscrete` (Pyro's `infer_discrete`): the model's enumerated sites given
 * the data and the continuous sites — their joint MAP (temperature 0: max-product
 * elimination, then a backward pass that picks each variable's argmax given the
 * ones picked after it: Viterbi on a chain) or one exact draw from their joint
 * posterior (temperature 1: sum-product, then backward sampling).
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import type { Message } from '../dsl/messages.js'
import { gen } from '../dsl/program.js'
import { contractModel } from './enum-contract.js'
import { modelFactors, plateIndex } from './enum-factors.js'
import { enumState, enumerateSites } from './enumerate.js'
import type { Handler } from './interpreter.js'
import type { ProgramFn } from './loss.js'
import { MARGINAL, alignTo, enumAxis, plateAxis, sumOver } from './named-tensor.js'
import type { Elimination, Named } from './named-tensor.js'
import { plateDepthOf } from './plate-costs.js'
import type { ParamStore } from './params.js'
import { traceReplayed } from './replayed.js'
import type { SampleSite } from './trace.js'
import { latents } from './trace.js'

/** Options of {@link inferDiscrete}. */
export interface InferDiscreteOptions<Args extends readonly unknown[]> {
  /** 0: the joint MAP of the enumerated sites; 1: one draw from their joint posterior. */
  readonly temperature: 0 | 1
  /** The fitted params (and networks) the model (and guide) read. */
  readonly params?: ParamStore
  /** A guide whose draw of the continuous latents is replayed into the model (as Pyro's `replay(model, guide_trace)`). */
  readonly guide?: ProgramFn<Args>
  /** Seeds the guide's draw and the posterior draw. */
  readonly seed?: number
  /** The model's plate nesting; default: read from one traced run. */
  readonly maxPlateNesting?: number
}

/** The MAP: max over a variable's values. */
const maxOver = (t: Named, names: readonly string[]): Named => {
  const axes = names.map((n) => t.dims.indexOf(n)).filter((a) => a >= 0)
  return axes.length === 0 ? t : { value: tf.max(t.value, axes), dims: t.dims.filter((_, i) => !axes.includes(i)) }
}

/** `joint` at the values already chosen for the other variables it holds (a one-hot selection along each). */
const atChosen = (joint: Named, v: string, chosen: ReadonlyMap<string, Named>): Named =>
  joint.dims.filter((d) => d !== v && chosen.has(d)).reduce<Named>((acc, r) => {
    const index = chosen.get(r)!
    const k = acc.value.shape[acc.dims.indexOf(r)]!
    const onehot: Named = { value: tf.oneHot(tf.cast(index.value, 'int32'), k), dims: [...index.dims, r] }
    const dims = [...new Set([...acc.dims, ...onehot.dims])]
    const picked = tf.where(tf.greater(alignTo(onehot, dims), 0), alignTo(acc, dims), tf.zerosLike(alignTo(acc, dims)))
    return sumOver({ value: picked, dims }, [r])
  }, joint)

/** The argmax (temperature 0) or a Gumbel-max draw (temperature 1) of `v` from its log-factor given the rest. */
const pick = (logits: Named, v: string, temperature: 0 | 1, seed: number | undefined): Named => {
  const axis = logits.dims.indexOf(v)
  const noisy = temperature === 0 ? logits.value
    : tf.sub(logits.value, tf.log(tf.neg(tf.log(tf.randomUniform(logits.value.shape, 1e-7, 1 - 1e-7, 'float32', seed)))))
  return { value: tf.argMax(noisy, axis), dims: logits.dims.filter((d) => d !== v) }
}

/** A chosen index laid out as the site's value: its plates' dims (leading 1s beyond them dropped), the support's event dims. */
const asValue = (site: SampleSite, index: Named, depth: number): tf.Tensor => {
  const rank = site.plates.reduce((m, p) => p.iteration === undefined ? Math.max(m, -p.dim) : m, 0)
  const layout = Array.from({ length: depth }, (_, i) => i - depth).slice(depth - rank)
    .map((dim) => { const p = site.plates.find((f) => f.dim === dim && f.iteration === undefined); return p === undefined ? `_none${dim}` : plateAxis(p.name) })
  const positions = rank === 0 ? index.value : alignTo(index, layout)
  return tf.gather(site.dist.enumerateSupport!(), tf.cast(positions, 'int32'))
}

const empty = () => gen(function* (): Generator<Message, void, unknown> { /* no latents */ })

/**
 * The joint MAP (temperature 0) or an exact posterior draw (temperature 1) of the model's
 * enumerated sites (marked `{ enumerate: 'parallel' }`), given the data, the fitted params and,
 * when a guide is given, one draw of the continuous latents from it:
 * y* = argmax_y p(y | x, z) by max-product elimination and backtracking (Viterbi on a chain), or
 * y ~ p(y | x, z) by sum-product elimination and backward sampling. Returns each enumerated
 * site's value, of the shape a draw would have; condition the model on them to run it.
 *
 * @example
 * const states = inferDiscrete(hmm, { temperature: 0, params: s.params })(ys)
 * states['x_0']   // the Viterbi state at t = 0
 */
export const inferDiscrete = <Args extends readonly unknown[]>(model: ProgramFn<Args>, opts: InferDiscreteOptions<Args>) => {
  if (opts.temperature !== 0 && opts.temperature !== 1) throw new InvalidArgumentError(`inferDiscrete: temperature must be 0 (the MAP) or 1 (a posterior draw); got ${JSON.stringify(opts.temperature)}`)
  const handlers: Handler[] = opts.params === undefined ? [] : [opts.params.handler]
  const guide = (opts.guide ?? empty) as ProgramFn<Args>
  return (...args: Args): Record<string, tf.Tensor> => tf.tidy(() => {
    const depth = opts.maxPlateNesting ?? (() => { const r = traceReplayed(model, guide, args, handlers, opts.seed, undefined, { coverage: false }); return plateDepthOf([r.guide, r.model]) })()
    const state = enumState(depth)
    const { guide: q, model: p } = traceReplayed(model, guide, args, handlers, opts.seed, undefined, { coverage: false, model: { last: [enumerateSites('model', state)] } })
    const plates = plateIndex([q, p], depth)
    const sites = latents(p).filter((s) => s.enumeration?.own?.side === 'model')
    const recorded: [string, Named][] = []
    const how: Elimination = { reduce: opts.temperature === 0 ? maxOver : MARGINAL.reduce, record: (v, joint) => recorded.push([v, joint]) }
    const { factors, sumVars } = modelFactors(p, plates)
    contractModel(factors, sumVars, new Map(), how)
    const chosen = new Map<string, Named>()
    recorded.reverse().forEach(([v, joint], i) => chosen.set(v, pick(atChosen(joint, v, chosen), v, opts.temperature, opts.seed === undefined ? undefined : opts.seed + 7919 * (i + 1))))
    return Object.fromEntries(sites.map((s) => [s.name, asValue(s, chosen.get(enumAxis(s.name))!, depth)]))
  }) as Record<string, tf.Tensor>
}
