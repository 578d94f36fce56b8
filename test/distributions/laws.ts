/**
 * Laws every distribution family obeys, registered once and run per family (the
 * approach of TFP's distribution_properties_test): shapes of draws and log-probs,
 * `toEvent` / `expand`, float64 reference log-densities and the absence of tensor
 * leaks; plus the assertions, parameter arbitraries and float64 references several
 * family tests share.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import type { Distribution } from '../../src/distributions/distribution.js'
import { FC, centralDiff, expectClose, expectNoLeak, logSumExp64, read, simpsonGrid, sizeOf, smallShape, t } from '../helpers.js'

/** A distribution whose `expand` returns its own family (every family in src/distributions does). */
export type Family<D> = Distribution & { readonly expand: (batchShape: readonly number[]) => D }

/** `d.expand(batchShape)`, typed as the family (the `Distribution` overload would widen it). */
const expandOf = <D>(d: { readonly expand: (batchShape: readonly number[]) => D }, batchShape: readonly number[]): D => d.expand(batchShape)

// ---------------------------------------------------------------------------------------------
// Shape laws

/** One generated distribution: its expected batch and event shapes and how to build it (inside a tidy). */
export interface LawCase<D extends Distribution> {
  readonly batch: readonly number[]
  /** Expected eventShape; [] when omitted. */
  readonly event?: readonly number[]
  readonly make: () => D
}

/** What the toEvent / expand property hands a family's extra checks. */
export interface EventView<D, C> {
  readonly c: C
  readonly d: D
  /** `d.expand([2, ...batch])`. */
  readonly e: D
  /** `d.toEvent(batch.length)`. */
  readonly ind: Distribution
  /** A seeded draw of `ind`, shape sampleShape ++ batch ++ event. */
  readonly x: tf.Tensor
}

/** How a family's shape laws differ: reparameterisation, tag, dtype, and the checks only some families make. */
export interface ShapeLawOptions<D, C> {
  /** `d.reparameterized`; when true `rsample` is checked like `sample`, when false it must be undefined. */
  readonly reparameterized: boolean
  /** Expected `_tag` of the distribution and of its expansion. */
  readonly tag?: string
  /** Expected dtype of every draw (`sample`, and `rsample` when reparameterised). */
  readonly dtype?: tf.DataType
  /** Seeded draws repeat: 'sample' — two seeded `sample` calls agree; 'rsample' — seeded `sample` equals seeded `rsample`. */
  readonly repeatable?: 'sample' | 'rsample'
  /** Also check that logProb of an expanded draw has shape sampleShape ++ [2] ++ batch. */
  readonly expandedLogProb?: boolean
  /** A parameter `expand([2, ...batch])` must tile: param(e) has shape [2, ...param(d).shape] and equals param(d) twice, within (rel, abs). */
  readonly expandTiles?: { readonly param: (d: D) => tf.Tensor; readonly rel: number; readonly abs: number }
  /** Family-specific checks inside the shape property. */
  readonly checkShapes?: (d: D, c: C) => void
  /** Family-specific checks inside the toEvent / expand property. */
  readonly checkEvent?: (v: EventView<D, C>) => void
}

/**
 * Registers the two shape properties for a family, over `cases` × sampleShape × seed:
 * draws have shape sampleShape ++ batch ++ event and logProb sampleShape ++ batch;
 * `toEvent(batch.length)` moves the batch into the event (its logProb is the sum over the batch dims);
 * `expand([2, ...batch])` prepends a batch dim.
 */
export const shapeLaws = <D extends Family<D>, C>(cases: fc.Arbitrary<C & LawCase<D>>, o: ShapeLawOptions<D, C & LawCase<D>>): void => {
  const rep = o.reparameterized
  const draws = rep ? 'sample, rsample and logProb' : 'sample and logProb'
  const title = `${draws} have shapes sampleShape ++ batchShape (++ eventShape)${rep ? '' : '; no rsample'}${o.repeatable === undefined ? '' : '; seeded draws repeat'}`

  it(title, () => {
    fc.assert(fc.property(cases, smallShape, fc.nat(), (c, s, seed) => tf.tidy(() => {
      const d = c.make()
      const dist: Distribution = d
      const event = c.event ?? []
      if (o.tag !== undefined) expect(d._tag).toBe(o.tag)
      expect(d.batchShape).toEqual(c.batch)
      expect(d.eventShape).toEqual(event)
      expect(d.reparameterized).toBe(rep)
      const x = d.sample(s, seed)
      expect(x.shape).toEqual([...s, ...c.batch, ...event])
      if (o.dtype !== undefined) expect(x.dtype).toBe(o.dtype)
      if (!rep) expect(dist.rsample).toBeUndefined()
      else if (dist.rsample === undefined) expect.fail('reparameterised, but rsample is undefined')
      else {
        const y = dist.rsample(s, seed)
        expect(y.shape).toEqual([...s, ...c.batch, ...event])
        if (o.dtype !== undefined) expect(y.dtype).toBe(o.dtype)
        if (o.repeatable === 'rsample') expect(read(x)).toEqual(read(y))
      }
      expect(d.logProb(x).shape).toEqual([...s, ...c.batch])
      if (o.repeatable === 'sample') expect(read(d.sample(s, seed))).toEqual(read(x))
      o.checkShapes?.(d, c)
    })), FC)
  })

  it('toEvent(n) moves n batch dims into the event; expand prepends batch dims', () => {
    fc.assert(fc.property(cases, smallShape, fc.nat(), (c, s, seed) => tf.tidy(() => {
      const d = c.make()
      const event = c.event ?? []
      const ind = d.toEvent(c.batch.length)
      expect(ind.batchShape).toEqual([])
      expect(ind.eventShape).toEqual([...c.batch, ...event])
      const x = ind.sample(s, seed)
      expect(x.shape).toEqual([...s, ...c.batch, ...event])
      expect(ind.logProb(x).shape).toEqual(s)
      expectClose(read(ind.logProb(x)), read(tf.sum(d.logProb(x), c.batch.map((_, i) => s.length + i))), 1e-5, 1e-3)
      const e = expandOf(d, [2, ...c.batch])
      const big = [...s, 2, ...c.batch, ...event]
      if (o.tag !== undefined) expect(e._tag).toBe(o.tag)
      expect(e.batchShape).toEqual([2, ...c.batch])
      expect(e.eventShape).toEqual(event)
      expect(e.sample(s, seed).shape).toEqual(big)
      const expanded: Distribution = e
      if (rep) {
        if (expanded.rsample === undefined) expect.fail('reparameterised, but the expansion has no rsample')
        else expect(expanded.rsample(s, seed).shape).toEqual(big)
      }
      if (o.expandedLogProb === true) expect(e.logProb(e.sample(s, seed)).shape).toEqual([...s, 2, ...c.batch])
      if (o.expandTiles !== undefined) {
        const { param, rel, abs } = o.expandTiles
        const pe = param(e), pd = param(d)
        expect(pe.shape).toEqual([2, ...pd.shape])
        expectClose(read(pe), [...read(pd), ...read(pd)], rel, abs)
      }
      o.checkEvent?.({ c, d, e, ind, x })
    })), FC)
  })
}

// ---------------------------------------------------------------------------------------------
// Reference law

/** How `referenceLogProbLaw` reads a family: its parameters (one value per batch element each) and the float64 log-density. */
export interface ReferenceLawOptions<D> {
  readonly params: (d: D) => readonly tf.Tensor[]
  /** log p(x) in doubles, from one element's parameters in the order `params` gives them. */
  readonly ref: (x: number, ...params: number[]) => number
  readonly rel: number
  readonly abs: number
  /** The test title; 'logProb equals the float64 closed form to 1e-4 relative' when omitted. */
  readonly title?: string
}

/**
 * Registers the reference property of an elementwise family (event shape []): for three seeded
 * draws per batch element, logProb equals `ref` evaluated in doubles at the parameters read back
 * from the distribution, within (rel, abs).
 */
export const referenceLogProbLaw = <D extends Distribution, C>(cases: fc.Arbitrary<C & LawCase<D>>, o: ReferenceLawOptions<D>): void => {
  it(o.title ?? 'logProb equals the float64 closed form to 1e-4 relative', () => {
    fc.assert(fc.property(cases, fc.nat(), (c, seed) => tf.tidy(() => {
      const d = c.make()
      const x = d.sample([3], seed)
      const xs = read(x), k = sizeOf(c.batch)
      const params = o.params(d).map(read)
      expectClose(read(d.logProb(x)), xs.map((v, i) => o.ref(v, ...params.map((p) => p[i % k]!))), o.rel, o.abs)
    })), FC)
  })
}

// ---------------------------------------------------------------------------------------------
// Memory law

/** One distribution to check for leaks, with the tensors its test owns. */
export interface LeakCase<D> {
  readonly d: D
  /** A value in the support of shape batch ++ event, for logProb. */
  readonly x: tf.Tensor
  /** The batch shape to expand to; [3, ...d.batchShape] when omitted. */
  readonly expandTo?: readonly number[]
  /** What an expanded copy owns (its parameters, and anything else to compute on it), disposed with its draw. */
  readonly expandedOwns: (e: D) => tf.TensorContainer
  /** Further calls that must leak nothing: constructors, KL, error paths. */
  readonly also?: ReadonlyArray<() => tf.TensorContainer>
  /** Tensors the case created, disposed at the end. */
  readonly dispose: tf.TensorContainer
}

/** The closed-form moments a distribution has (mean, variance, entropy), computed fresh. */
const momentsOf = (d: Distribution): tf.Tensor[] =>
  [d.mean, d.variance, d.entropy?.()].filter((m): m is tf.Tensor => m !== undefined)

/**
 * Registers 'every public call leaves numTensors unchanged': for each case, sample, rsample (when
 * present), logProb, the moments the family has, toEvent(1).logProb, expand and the `also` calls
 * each leave `tf.memory().numTensors` where it was.
 */
export const noLeakLaw = <D extends Family<D>>(...setups: ReadonlyArray<() => LeakCase<D>>): void => {
  it('every public call leaves numTensors unchanged', () => {
    for (const setup of setups) {
      const c = setup()
      const dist: Distribution = c.d
      expectNoLeak(() => c.d.sample([3], 1))
      const rsample = dist.rsample
      if (rsample !== undefined) expectNoLeak(() => rsample([3]))
      expectNoLeak(() => c.d.logProb(c.x))
      expectNoLeak(() => momentsOf(dist))
      expectNoLeak(() => c.d.toEvent(1).logProb(c.x))
      expectNoLeak(() => { const e = expandOf(c.d, c.expandTo ?? [3, ...c.d.batchShape]); return [e.sample(), c.expandedOwns(e)] })
      for (const call of c.also ?? []) expectNoLeak(call)
      tf.dispose(c.dispose)
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Shared assertions

/** Asserts that `make(...params).logProb(x)` and its gradients w.r.t. every parameter are finite. */
export const expectFiniteLogProbAndGrads = (make: (...params: tf.Tensor[]) => Distribution, params: readonly tf.Tensor[], x: tf.Tensor): void => {
  const g = tf.grads((...p: tf.Tensor[]) => tf.sum(make(...p).logProb(x)))([...params])
  const values = [...read(make(...params).logProb(x)), ...g.flatMap(read)]
  values.forEach((v) => expect(Number.isFinite(v)).toBe(true))
}

/**
 * Asserts that the gradients of loss(rsample([50], 3)) w.r.t. the scalar parameters of `make`, at `at`,
 * match central differences (step 1e-2) of the same seeded loss, to 1e-2 relative.
 */
export const expectRsampleGradsMatchFd = (make: (...params: tf.Tensor[]) => Distribution, at: readonly number[],
  loss: (x: tf.Tensor) => tf.Tensor = (x) => tf.sum(tf.square(x))): void => {
  const lossAt = (...p: tf.Tensor[]): tf.Tensor => {
    const { rsample } = make(...p)
    if (rsample === undefined) throw new Error('expectRsampleGradsMatchFd: the distribution has no rsample')
    return loss(rsample([50], 3))
  }
  const f = (values: readonly number[]): number => tf.tidy(() => read(lossAt(...values.map((v) => tf.scalar(v))))[0]!)
  const grads = tf.tidy(() => tf.grads(lossAt)(at.map((v) => tf.scalar(v))).map((g) => read(g)[0]!))
  const fd = at.map((v, j) => centralDiff((u) => f(at.map((w, i) => (i === j ? u : w))), v, 1e-2))
  expectClose(grads, fd, 1e-2, 1e-3)
}

/** Asserts that the density of the distribution `make` builds integrates to 1 (4 decimals) over [a, b], by Simpson's rule. */
export const expectIntegratesToOne = (make: () => Distribution, a: number, b: number, intervals: number): void => tf.tidy(() => {
  const { nodes, weights } = simpsonGrid(a, b, intervals)
  const p = read(tf.exp(make().logProb(t(nodes, [nodes.length]))))
  expect(p.reduce((s, v, i) => s + v * weights[i]!, 0)).toBeCloseTo(1, 4)
})

// ---------------------------------------------------------------------------------------------
// Parameter arbitraries and float64 references

/** Exactly `n` doubles in [min, max], never NaN. */
export const doubles = (n: number, min: number, max: number): fc.Arbitrary<number[]> =>
  fc.array(fc.double({ min, max, noNaN: true }), { minLength: n, maxLength: n })

/** A batch shape with, per element, loc ∈ `loc` and scale = 10^u with u ∈ `log10Scale`. */
export const locScaleParams = (loc: readonly [number, number], log10Scale: readonly [number, number]):
  fc.Arbitrary<{ batch: number[]; loc: number[]; scale: number[] }> =>
  smallShape.chain((batch) => fc.record({
    loc: doubles(sizeOf(batch), loc[0], loc[1]),
    logScale: doubles(sizeOf(batch), log10Scale[0], log10Scale[1]),
  }).map(({ loc: l, logScale }) => ({ batch, loc: l, scale: logScale.map((u) => 10 ** u) })))

/** A batch with either logits or probs: one `value` draw per element, mapped by `asLogit` or `asProb`. */
export const logitsOrProbsParams = (value: fc.Arbitrary<number>, asLogit: (v: number) => number, asProb: (v: number) => number):
  fc.Arbitrary<{ batch: number[]; useLogits: boolean; values: number[] }> =>
  smallShape.chain((batch) => fc.record({
    batch: fc.constant(batch),
    useLogits: fc.boolean(),
    values: fc.array(value, { minLength: sizeOf(batch), maxLength: sizeOf(batch) }),
  })).map(({ batch, useLogits, values }) => ({ batch, useLogits, values: values.map(useLogits ? asLogit : asProb) }))

/** A batch shape, K ∈ 1..4, and logits ∈ [-10, 10] or probs (positive weights normalised in doubles), flat over [...batch, K]. */
export const categoricalParams: fc.Arbitrary<{ batch: number[]; k: number; useLogits: boolean; values: number[] }> =
  fc.tuple(smallShape, fc.integer({ min: 1, max: 4 })).chain(([batch, k]) => fc.record({
    batch: fc.constant(batch), k: fc.constant(k), useLogits: fc.boolean(),
    raw: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: sizeOf(batch) * k, maxLength: sizeOf(batch) * k }),
  })).map(({ batch, k, useLogits, raw }) => {
    if (useLogits) return { batch, k, useLogits, values: raw.map((v) => 20 * v - 10) }
    const w = raw.map((v) => 0.01 + v)
    return { batch, k, useLogits, values: w.map((v, i) => v / w.slice(i - (i % k), i - (i % k) + k).reduce((a, b) => a + b, 0)) }
  })

/** Normalised log-probabilities of each row (length k) of logits or probs `xs`, in doubles. */
export const categoricalLogProbs64 = (xs: readonly number[], k: number, useLogits: boolean): number[][] =>
  Array.from({ length: xs.length / k }, (_, r) => {
    const row = xs.slice(r * k, (r + 1) * k)
    const logs = useLogits ? row : row.map((p) => Math.log(Math.max(p, 2 ** -23)))
    const z = logSumExp64(logs)
    return logs.map((l) => l - z)
  })
