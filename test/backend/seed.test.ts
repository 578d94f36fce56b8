import { describe, expect, it } from 'vitest'
import { subSeed } from '../../src/backend/seed.js'

describe('subSeed', () => {
  it('is deterministic, distinct across indices and seeds, and passes undefined through', () => {
    expect(subSeed(42, 0)).toBe(subSeed(42, 0))
    const all = new Set([0, 1, 2, 3].flatMap((s) => [0, 1, 2].map((i) => subSeed(s, i))))
    expect(all.size).toBe(12)
    expect(subSeed(undefined, 3)).toBeUndefined()
  })
})
