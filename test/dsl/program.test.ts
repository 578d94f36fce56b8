import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { pipe } from 'fp-ts/function'
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/distributions/normal.js'
import * as P from '../../src/dsl/monad.js'
import { deterministic, factor, observe, param, plate, sample } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { Program } from '../../src/dsl/program.js'
import type { Message } from '../../src/dsl/messages.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { draw, interpreter, run } from '../../src/inference/interpreter.js'
import { seed } from '../../src/inference/handlers.js'
import { FC, read } from '../helpers.js'

const runPure = <A>(p: Program<Message, A>): A => run(p, draw)

describe('programs', () => {
  it('yield* returns the interpreter’s answer; a program value can be run many times', () => tf.tidy(() => {
    const prog = gen(function* () {
      const z = yield* sample('z', normal(0, 1))
      const w = yield* deterministic('w', tf.mul(z, 2))
      return [z, w] as const
    })
    const a = run(prog, interpreter([seed(3)]))
    const b = run(prog, interpreter([seed(3)]))
    expect(read(a[1])).toEqual(read(tf.mul(a[0], 2)))
    expect(read(a[0])).toEqual(read(b[0]))
  }))

  it('sub-programs compose with yield* (hierarchical chains)', () => tf.tidy(() => {
    const layer = (name: string, parent: tf.Tensor) => gen(function* () { return yield* sample(name, normal(parent, 1)) })
    const chain3 = gen(function* () {
      const z1 = yield* layer('z1', tf.scalar(0))
      const z2 = yield* layer('z2', z1)
      return yield* layer('z3', z2)
    })
    expect(runPure(chain3).shape).toEqual([])
  }))

  it('param returns its initial value when no store handles it; the thunk runs only when asked', () => tf.tidy(() => {
    let calls = 0
    const p = gen(function* () { return yield* param('w', () => { calls++; return tf.scalar(5) }) })
    expect(calls).toBe(0)
    expect(read(runPure(p))).toEqual([5])
    expect(calls).toBe(1)
  }))

  it('observe answers with the observed value; factor with nothing', () => tf.tidy(() => {
    const x = tf.tensor1d([1, 2])
    const p = gen(function* () {
      const v = yield* observe('x', normal(tf.zeros([2]), 1), x)
      yield* factor('f', tf.scalar(-1))
      return v
    })
    expect(runPure(p)).toBe(x)
  }))

  it('plate gives subsample indices of the requested size', () => tf.tidy(() => {
    const p = plate('data', 10, { subsampleSize: 4 }, (idx) => gen(function* () { return idx }))
    const idx = read(run(p, interpreter([seed(1)])))
    expect(idx.length).toBe(4)
    expect(new Set(idx).size).toBe(4)
    idx.forEach((i) => expect(i >= 0 && i < 10).toBe(true))
  }))

  it('rejects bad site names and plate sizes with named errors', () => {
    expect(() => sample('', normal(0, 1))).toThrow(InvalidArgumentError)
    expect(() => plate('p', 3, { subsampleSize: 5 }, () => gen(function* () { return 0 }))).toThrow(/plate 'p': .*subsampleSize 5/)
  })
})

describe('fp-ts instance', () => {
  const num = (n: number) => P.of<number>(n)
  it('satisfies the monad laws on returned values', () => {
    fc.assert(fc.property(fc.integer(), (a) => {
      const f = (n: number) => num(n * 2)
      const g = (n: number) => num(n - 3)
      expect(runPure(pipe(num(a), P.chain(f)))).toBe(runPure(f(a)))                                    // left identity
      expect(runPure(pipe(num(a), P.chain((x) => num(x))))).toBe(a)                                     // right identity
      expect(runPure(pipe(num(a), P.chain(f), P.chain(g)))).toBe(runPure(pipe(num(a), P.chain((x) => pipe(f(x), P.chain(g)))))) // associativity
      expect(runPure(P.Monad.map(num(a), (x) => x + 1))).toBe(a + 1)
      expect(runPure(P.Monad.ap(P.of((x: number) => x * 3), num(a)))).toBe(a * 3)
    }), FC)
  })

  it('pipe-style programs sample and observe like generator ones', () => tf.tidy(() => {
    const prog = pipe(P.fromEffect(sample('z', normal(0, 1))), P.map((z) => tf.exp(z)))
    const [a, b] = [run(prog, interpreter([seed(9)])), run(gen(function* () { return tf.exp(yield* sample('z', normal(0, 1))) }), interpreter([seed(9)]))]
    expect(read(a)).toEqual(read(b))
  }))
})
