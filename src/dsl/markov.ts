/**
 * `markov`: marks a chain whose step t depends on the last `history` steps only
 * (Pyro's `pyro.markov`). Under enumeration the dims of a step's enumerated
 * variables are recycled `history + 1` steps later, so an HMM of T steps and K
 * states costs O(T·K²) and a bounded number of dims. Outside enumeration the
 * scopes change nothing. The handlers see where each step begins and ends,
 * which a plain `for` loop cannot tell them.
 */
import { InvalidArgumentError } from '../errors.js'
import type { MarkovEnterMsg, MarkovExitMsg, MarkovStepMsg, Message } from './messages.js'
import { Effect, gen } from './program.js'
import type { Program } from './program.js'

/** Options of {@link markov} and {@link markovScope}. */
export interface MarkovOptions {
  /** How many earlier steps a step may read (default 1: a first-order chain). */
  readonly history?: number
  /** Keep every step's variables (no dim recycling), e.g. for a grid whose rows read earlier rows (default false). */
  readonly keep?: boolean
}

/** The messages a markov scope adds to a program's. */
export type MarkovMsgs = MarkovEnterMsg | MarkovStepMsg | MarkovExitMsg

const enter = (name: string, opts: MarkovOptions, form: MarkovEnterMsg['form']): MarkovEnterMsg => {
  const history = opts.history ?? 1
  if (!Number.isInteger(history) || history < 0) throw new InvalidArgumentError(`${name}: history must be a non-negative integer (how many earlier steps a step reads); got ${history}`)
  if (opts.keep !== undefined && typeof opts.keep !== 'boolean') throw new InvalidArgumentError(`${name}: keep must be true or false; got ${JSON.stringify(opts.keep)}`)
  return { _tag: 'MarkovEnter', history, keep: opts.keep ?? false, form }
}

/**
 * A markov chain of `steps` steps in scan form: step t runs `body(t, carry)`, whose result is the
 * next carry; returns the last carry (`init` for 0 steps). Without `init`, `body(t)` runs for each
 * t and the results come back as an array.
 *
 * @example
 * const last = yield* markov(T, { history: 1 }, (t, prev: tf.Tensor) => gen(function* () {
 *   const x = yield* sample(`x_${t}`, categorical({ logits: tf.gather(transition, prev) }), { enumerate: 'parallel' })
 *   yield* observe(`y_${t}`, normal(tf.gather(locs, x), 1), ys[t]!)
 *   return x
 * }), tf.scalar(0, 'int32'))
 */
export function markov<M extends Message, C>(steps: number, opts: MarkovOptions, body: (t: number, carry: C) => Program<M, C>, init: C): Program<M | MarkovMsgs, C>
export function markov<M extends Message, A>(steps: number, opts: MarkovOptions, body: (t: number) => Program<M, A>): Program<M | MarkovMsgs, A[]>
export function markov<M extends Message, C>(steps: number, opts: MarkovOptions, body: (t: number, carry: C) => Program<M, C>, ...init: [C] | []): Program<M | MarkovMsgs, C | C[]> {
  if (!Number.isInteger(steps) || steps < 0) throw new InvalidArgumentError(`markov: steps must be a non-negative integer; got ${steps}`)
  const msg = enter('markov', opts, 'scan')
  return gen(function* () {
    yield* new Effect<MarkovEnterMsg, void>(msg)
    const results: C[] = []
    let carry = init[0] as C
    for (let t = 0; t < steps; t++) {
      yield* new Effect<MarkovStepMsg, void>({ _tag: 'MarkovStep', step: t })
      carry = yield* body(t, carry)
      results.push(carry)
    }
    yield* new Effect<MarkovExitMsg, void>({ _tag: 'MarkovExit' })
    return init.length === 1 ? carry : results
  })
}

/**
 * One step of a markov chain in context form (Pyro's `with pyro.markov():`), for a sub-program
 * that is not a loop: a recursive program wraps each level in a scope, and nested scopes are the
 * chain's successive steps (a scope's variables are recycled `history + 1` levels deeper).
 *
 * @example
 * const chain = (t: number, prev: tf.Tensor): Program<Message, void> => markovScope({ history: 1 }, () => gen(function* () {
 *   const x = yield* sample(`x_${t}`, categorical({ logits: tf.gather(transition, prev) }), { enumerate: 'parallel' })
 *   if (t + 1 < T) yield* chain(t + 1, x)
 * }))
 */
export const markovScope = <M extends Message, A>(opts: MarkovOptions, body: () => Program<M, A>): Program<M | MarkovMsgs, A> => {
  const msg = enter('markovScope', opts, 'context')
  return gen(function* () {
    yield* new Effect<MarkovEnterMsg, void>(msg)
    const result = yield* body()
    yield* new Effect<MarkovExitMsg, void>({ _tag: 'MarkovExit' })
    return result
  })
}
