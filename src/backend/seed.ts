/**
 * Seeds: plain numbers, as tfjs takes them. One user seed is split into
 * independent sub-seeds for draws that need several random tensors.
 */

/**
 * The `i`-th sub-seed of `seed` (undefined stays undefined: unseeded draws).
 * A 32-bit integer mix (murmur3 finaliser), so nearby seeds give unrelated streams.
 *
 * @example
 * const [s0, s1] = [subSeed(42, 0), subSeed(42, 1)]
 */
export const subSeed = (seed: number | undefined, i: number): number | undefined => {
  if (seed === undefined) return undefined
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}
