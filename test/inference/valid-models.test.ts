/**
 * Valid and invalid model/guide pairs (issue 17), after Pyro's tests/infer/test_valid_models.py:
 * every pair of test/inference/valid-models-cases.ts runs under each estimator it lists.
 *
 * - A valid pair: two `svi.step`s give finite losses; the first equals −ELBO (or −IWAE) per data
 *   point computed in float64 from the values that step drew (recorded as the programs ran) and
 *   the initial params; a pair without params leaves the store empty, a pair with params moves them.
 * - An invalid pair: the step throws the named error class with a message naming the site (and
 *   plate) and the cause, and the failed step leaves no params behind.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import type { Loss } from '../../src/inference/loss.js'
import { svi } from '../../src/inference/svi.js'
import type { Svi } from '../../src/inference/svi.js'
import { expectClose, read } from '../helpers.js'
import { Draws, ESTIMATORS, INVALID, IWAE_K, VALID, expectedLoss, recording } from './valid-models-cases.js'
import type { EstimatorName, Fn, InvalidCase, ValidCase } from './valid-models-cases.js'

/** The error a thunk throws (fails the test if it throws nothing). */
const thrown = (f: () => unknown): Error => {
  try { f() } catch (e) { return e as Error }
  return expect.fail('expected an error, none was thrown')
}

const snapshot = (s: Svi): number[][] => s.params.variables().map((v) => read(v))

const runValid = (c: ValidCase, est: EstimatorName): void => {
  const guideRuns: Draws[] = [], modelRuns: Draws[] = []
  const guide: Fn = (x) => recording(guideRuns, c.guide(x))
  const model: Fn = (x) => recording(modelRuns, c.model(x))
  const x = c.data()
  const s = svi({ optimizer: tf.train.adam(0.05), loss: ESTIMATORS[est](), seed: 11 })
  try {
    const first = s.step(model, guide, x)
    // The reported estimate's particles are the last k runs, one run a particle (a fresh store's init ran the same draws first).
    const k = est === 'iwae' || est === 'iwaeBatch' ? IWAE_K : 1
    const [qs, ps] = [guideRuns.slice(-k), modelRuns.slice(-k)]
    const before = snapshot(s)
    const second = s.step(model, guide, x)
    expect(Number.isFinite(first)).toBe(true)
    expect(Number.isFinite(second)).toBe(true)
    if (!(c.valueNotChecked ?? []).includes(est)) {
      const weights = qs.map((q, j) => c.weights(q, ps[j]!, est === 'kl'))
      const points = c.points ?? (x.rank > 0 ? x.shape[0]! : 1)
      expectClose([first], [expectedLoss(est, weights, points)], 1e-4, 1e-4)
    }
    if (before.length === 0) expect(s.params.entries()).toHaveLength(0)
    else expect(snapshot(s)).not.toEqual(before)
    c.after?.(s, qs[qs.length - 1]!)
  } finally {
    s.params.dispose()
    x.dispose()
  }
}

const label = (e: InvalidCase['estimators'][number]): string => (typeof e === 'string' ? e : e[0])
const factoryOf = (e: InvalidCase['estimators'][number]): (() => Loss) => (typeof e === 'string' ? ESTIMATORS[e] : e[1])

const runInvalid = (c: InvalidCase, e: InvalidCase['estimators'][number]): void => {
  const x = c.data()
  let s: Svi | undefined
  try {
    const err = thrown(() => {
      s = svi({ optimizer: tf.train.adam(0.05), loss: factoryOf(e)(), seed: 11 })
      s.step(c.model, c.guide, x)
    })
    expect(err).toBeInstanceOf(c.error)
    for (const m of c.message) expect(err.message).toMatch(m)
    if (s !== undefined) expect(s.params.entries()).toHaveLength(0)
  } finally {
    s?.params.dispose()
    x.dispose()
  }
}

const validRows = VALID.flatMap((c) => c.estimators.map((est) => [c.name, est, c] as const))
const invalidRows = INVALID.flatMap((c) => c.estimators.map((e) => [c.name, label(e), c, e] as const))

describe('valid model/guide pairs: two steps, the first loss equal to its float64 value', () => {
  it('the table has its cases', () => {
    expect(VALID.length + INVALID.length).toBeGreaterThanOrEqual(60)
    expect(new Set(VALID.map((c) => c.name)).size).toBe(VALID.length)
  })
  it.each(validRows)('%s [%s]', (_name, est, c) => runValid(c, est))
})

describe('invalid model/guide pairs: a named error', () => {
  it('the table has unique names', () => expect(new Set(INVALID.map((c) => c.name)).size).toBe(INVALID.length))
  it.each(invalidRows)('%s [%s]', (_name, _est, c, e) => runInvalid(c, e))
})
