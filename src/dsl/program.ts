/**
 * Programs: values built with generator do-notation. `yield*` an effect (or a
 * sub-program) and get the interpreter's answer back, typed. A program never
 * runs itself: `run()` starts a fresh generator each time, so one program value
 * can be interpreted any number of times (guide, then model replayed on it).
 */
import type { Message } from './messages.js'

/**
 * One effect: `yield*` it to send `message` to the interpreter and receive an `A`.
 *
 * @example
 * const z = yield* new Effect<SampleMsg<'z'>, tf.Tensor>(msg)
 */
export class Effect<M extends Message, A> {
  constructor(readonly message: M) {}

  *[Symbol.iterator](): Generator<M, A, unknown> {
    return (yield this.message) as A
  }
}

/**
 * A program yielding messages `M` and returning `A`. `M` records its sites at
 * the type level (see `LatentSites` / `ObservedSites`).
 *
 * @example
 * const p: Program<SampleMsg<'z', tf.Tensor, 'latent'>, tf.Tensor> = gen(function* () {
 *   return yield* sample('z', normal(0, 1))
 * })
 */
export interface Program<M extends Message, A> {
  readonly _tag: 'Program'
  /** A fresh generator over the program's effects. */
  readonly run: () => Generator<M, A, unknown>
  /** Programs compose: `yield* sub` runs `sub` inline. */
  [Symbol.iterator](): Generator<M, A, unknown>
}

/**
 * Builds a program from a generator function (do-notation).
 *
 * @example
 * const model = (x: tf.Tensor) => gen(function* () {
 *   const z = yield* sample('z', normal(tf.zeros([x.shape[0]!, 2]), 1).toEvent(1))
 *   yield* observe('x', normal(z, 1).toEvent(1), x)
 *   return z
 * })
 */
export const gen = <M extends Message, A>(body: () => Generator<M, A, unknown>): Program<M, A> => ({
  _tag: 'Program',
  run: body,
  [Symbol.iterator]: body,
})

/** The messages of a program type. @example MessagesOf<typeof prog> */
export type MessagesOf<P> = P extends Program<infer M, unknown> ? M : never

/** The return type of a program type. @example ResultOf<typeof prog> */
export type ResultOf<P> = P extends Program<Message, infer A> ? A : never
