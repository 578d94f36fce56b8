/**
 * Standard normal draws, seeded, fast: the reparameterised samplers' noise ε ~ N(0, 1).
 * tfjs's `randomNormal` spends ≈ 57 ns per value (an alea generator with per-value object
 * calls and rejection); this fills a Float32Array with xoshiro128** words and the Box–Muller
 * polar method at ≈ 13 ns per value, the same on every backend.
 */
import * as tf from '@tensorflow/tfjs-core'

const TWO_POW_31 = 2 ** 31
const TWO_POW_32 = 2 ** 32

/** murmur3's 32-bit finaliser: a bijection with full avalanche. */
const fmix32 = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * splitmix32: spreads one 32-bit seed into the generator's four state words. The seed is
 * scrambled first: the sequence steps by the golden-ratio constant, and seeds that are
 * themselves multiples of it (as site seeds s·0x9e3779b9 are) would otherwise start on
 * shifted copies of one sequence, giving correlated streams.
 */
const splitmix32 = (seed: number): (() => number) => {
  let s = fmix32((seed ^ 0x5bd1e995) >>> 0)
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    return fmix32(s)
  }
}

/**
 * The state of an xoshiro128** generator (Blackman & Vigna; 128 bits), seeded by splitmix32.
 * A typed array, not closure variables: V8 keeps its words unboxed.
 *
 * @example
 * const st = xoshiro128(42); nextWord(st)   // an unsigned 32-bit integer
 */
export const xoshiro128 = (seed: number): Int32Array => {
  const init = splitmix32(seed)
  const st = Int32Array.of(init(), init(), init(), init())
  if ((st[0]! | st[1]! | st[2]! | st[3]!) === 0) st[0] = 1   // the all-zero state is the generator's one fixed point
  return st
}

/** The next unsigned 32-bit word of generator state `st` (advancing it). @example nextWord(xoshiro128(1)) */
export const nextWord = (st: Int32Array): number => {
  let a = st[0]!, b = st[1]!, c = st[2]!, d = st[3]!
  const b5 = Math.imul(b, 5)
  const r = Math.imul((b5 << 7) | (b5 >>> 25), 9)
  const t = b << 9
  c ^= a; d ^= b; b ^= c; a ^= d; c ^= t
  d = (d << 11) | (d >>> 21)
  st[0] = a; st[1] = b; st[2] = c; st[3] = d
  return r >>> 0
}

/** A seed for an unseeded draw: a uniform 32-bit unsigned integer from `Math.random`. @example freshSeed()   // e.g. 2846159317 */
export const freshSeed = (): number => Math.floor(Math.random() * TWO_POW_32)

/**
 * `n` standard normal values from `seed`, by Marsaglia's polar method: (x, y) uniform on the
 * unit disc (32-bit coordinates, rejecting s = x² + y² ∉ (0, 1)), then z₁ = x·f, z₂ = y·f with
 * f = √(−2 ln s / s). No trigonometry, one logarithm per pair. Same seed, same values.
 *
 * @example
 * standardNormalValues(4, 7)   // Float32Array(4), the same for every call with seed 7
 */
export const standardNormalValues = (n: number, seed: number = freshSeed()): Float32Array => {
  const out = new Float32Array(n)
  const st = xoshiro128(seed)
  for (let i = 0; i < n; i += 2) {
    let x = 0, y = 0, s = 0
    do {
      x = nextWord(st) / TWO_POW_31 - 1
      y = nextWord(st) / TWO_POW_31 - 1
      s = x * x + y * y
    } while (s >= 1 || s === 0)
    const f = Math.sqrt((-2 * Math.log(s)) / s)
    out[i] = x * f
    if (i + 1 < n) out[i + 1] = y * f
  }
  return out
}

/**
 * A float32 tensor of standard normal draws; seeded draws are reproducible, unseeded ones fresh.
 *
 * ε ~ N(0, 1) elementwise
 *
 * @example
 * const eps = standardNormal([128, 50], 0)   // the same tensor values for seed 0 on every backend
 */
export const standardNormal = (shape: readonly number[], seed?: number): tf.Tensor =>
  tf.tensor(standardNormalValues(tf.util.sizeFromShape([...shape]), seed), [...shape], 'float32')

/** `n` float32 uniforms in (0, 1) from `seed`: (w + ½)/2³² for xoshiro128** words w, never 0. */
const uniformValues = (n: number, seed: number = freshSeed()): Float32Array => {
  const out = new Float32Array(n)
  const st = xoshiro128(seed)
  for (let i = 0; i < n; i++) out[i] = (nextWord(st) + 0.5) / TWO_POW_32
  return out
}

/**
 * A float32 tensor of U(0, 1) draws, never exactly 0; seeded draws repeat, unseeded ones are fresh.
 *
 * @example
 * standardUniform([3], 7)   // the same three values for seed 7 on every backend
 */
export const standardUniform = (shape: readonly number[], seed?: number): tf.Tensor =>
  tf.tensor(uniformValues(tf.util.sizeFromShape([...shape]), seed), [...shape], 'float32')
