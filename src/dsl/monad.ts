/**
 * The fp-ts instances of programs (`Functor`, `Apply`, `Chain`, `Monad`) and
 * pipeable `of`, `map`, `chain`/`flatMap`, `ap`: the same programs written with `pipe`.
 */
import type { Monad2 } from 'fp-ts/Monad'
import type { Message } from './messages.js'
import { gen } from './program.js'
import type { Program } from './program.js'

/** The fp-ts URI of programs. */
export const URI = 'tfppl/Program'
/** The fp-ts URI type of programs. */
export type URI = typeof URI

declare module 'fp-ts/HKT' {
  interface URItoKind2<E, A> {
    readonly [URI]: Program<Extract<E, Message>, A>
  }
}

/**
 * A program with no effects that returns `a`.
 *
 * @example pipe(P.of(2), P.map((n) => n + 1))
 */
export const of = <A, M extends Message = never>(a: A): Program<M, A> =>
  gen(function* () { return a })

/**
 * Applies `f` to the program's result.
 *
 * @example pipe(sample('z', normal(0, 1)), P.fromEffect, P.map(tf.exp))
 */
export const map = <A, B>(f: (a: A) => B) => <M extends Message>(fa: Program<M, A>): Program<M, B> =>
  gen(function* () { return f(yield* fa) })

/**
 * Sequences: runs `fa`, then the program `f` builds from its result.
 *
 * @example pipe(fromEffect(sample('z', normal(0, 1))), P.chain((z) => fromEffect(observe('x', normal(z, 1), x))))
 */
export const chain = <A, M2 extends Message, B>(f: (a: A) => Program<M2, B>) => <M1 extends Message>(fa: Program<M1, A>): Program<M1 | M2, B> =>
  gen(function* () { return yield* f(yield* fa) })

/** Alias of {@link chain}. @example pipe(p, P.flatMap(next)) */
export const flatMap = chain

/**
 * Applies a program's function to another program's value (left to right).
 *
 * @example pipe(P.of((z: tf.Tensor) => tf.exp(z)), P.ap(zProgram))
 */
export const ap = <M2 extends Message, A>(fa: Program<M2, A>) => <M1 extends Message, B>(fab: Program<M1, (a: A) => B>): Program<M1 | M2, B> =>
  gen(function* () { const f = yield* fab; return f(yield* fa) })

/**
 * Lifts one effect (the result of `sample`, `observe`, …) into a program.
 *
 * @example const p = fromEffect(sample('z', normal(0, 1)))
 */
export const fromEffect = <M extends Message, A>(effect: { [Symbol.iterator](): Generator<M, A, unknown> }): Program<M, A> =>
  gen(function* () { return yield* effect })

/**
 * The fp-ts `Monad` instance of programs.
 *
 * @example import { Monad } from 'tfppl'; Monad.chain(p, (z) => q(z))
 */
export const Monad: Monad2<URI> = {
  URI,
  of: (a) => of(a),
  map: (fa, f) => map(f)(fa),
  ap: (fab, fa) => ap(fa)(fab),
  chain: (fa, f) => chain(f)(fa),
}
