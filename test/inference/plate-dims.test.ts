import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { normal } from '../../src/distributions/normal.js'
import type { PlateFrame } from '../../src/dsl/messages.js'
import { AUTO_DIM } from '../../src/dsl/messages.js'
import { factor, observe, plate, sample, scaled } from '../../src/dsl/primitives.js'
import { gen } from '../../src/dsl/program.js'
import type { Program } from '../../src/dsl/program.js'
import type { Message } from '../../src/dsl/messages.js'
import { seed } from '../../src/inference/handlers.js'
import { SiteError, interpreter, run } from '../../src/inference/interpreter.js'
import type { Handler } from '../../src/inference/interpreter.js'
import { allocateDim, plateBatchShape } from '../../src/inference/plate-dims.js'
import { traceProgram } from '../../src/inference/trace.js'
import type { FactorSite, SampleSite, Trace } from '../../src/inference/trace.js'
import { expectClose, read } from '../helpers.js'

const sampleSite = (t: Trace, name: string): SampleSite => {
  const s = t.byName.get(name)
  if (s?._tag !== 'Sample') throw new Error(`no sample site '${name}'`)
  return s
}
const factorSite = (t: Trace, name: string): FactorSite => {
  const s = t.byName.get(name)
  if (s?._tag !== 'Factor') throw new Error(`no factor site '${name}'`)
  return s
}
const dims = (frames: readonly PlateFrame[]): Array<[string, number]> => frames.map((f) => [f.name, f.dim])
/** The error a thunk throws (fails the test if it throws nothing). */
const thrown = (f: () => unknown): Error => {
  try { f() } catch (e) { return e as Error }
  return expect.fail('expected an error, none was thrown')
}
const traceOf = (p: Program<Message, unknown>): Trace => traceProgram(p, [seed(0)]).trace
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)

describe('plate dims: allocation', () => {
  it('the outermost plate gets -1, a plate nested in it -2, one nested deeper -3', () => tf.tidy(() => {
    const p = plate('x', 3, {}, () => gen(function* () {
      yield* plate('y', 2, {}, () => gen(function* () {
        yield* plate('w', 4, {}, () => gen(function* () { yield* sample('z', normal(0, 1)) }))
      }))
    }))
    expect(dims(sampleSite(traceOf(p), 'z').plates)).toEqual([['x', -1], ['y', -2], ['w', -3]])
  }))

  it('sibling plates both get -1, and a plate can be re-entered after it exits', () => tf.tidy(() => {
    const p = gen(function* () {
      yield* plate('a', 3, {}, () => gen(function* () { yield* sample('za', normal(0, 1)) }))
      yield* plate('b', 2, {}, () => gen(function* () { yield* sample('zb', normal(0, 1)) }))
      yield* plate('a', 3, {}, () => gen(function* () { yield* sample('za2', normal(0, 1)) }))
    })
    const t = traceOf(p)
    expect(dims(sampleSite(t, 'za').plates)).toEqual([['a', -1]])
    expect(dims(sampleSite(t, 'zb').plates)).toEqual([['b', -1]])
    expect(dims(sampleSite(t, 'za2').plates)).toEqual([['a', -1]])
    expect(sampleSite(t, 'zb').value.shape).toEqual([2])
    expect(sampleSite(t, 'za2').value.shape).toEqual([3])
  }))

  it('an explicit dim is honoured and auto plates take the rightmost free dims around it', () => tf.tidy(() => {
    const p = plate('x', 3, { dim: -2 }, () => gen(function* () {
      yield* plate('y', 2, {}, () => gen(function* () {
        yield* plate('w', 4, {}, () => gen(function* () { yield* sample('z', normal(0, 1)) }))
      }))
    }))
    const z = sampleSite(traceOf(p), 'z')
    expect(dims(z.plates)).toEqual([['x', -2], ['y', -1], ['w', -3]])
    expect(z.dist.batchShape).toEqual([4, 3, 2])
  }))

  it('handlers see the PlateEnter frame with its allocated dim', () => tf.tidy(() => {
    const entered: Array<[string, number]> = []
    const spy: Handler = (msg, next) => {
      if (msg._tag === 'PlateEnter') entered.push([msg.frame.name, msg.frame.dim])
      return next(msg)
    }
    const p = plate('x', 3, {}, () => plate('y', 2, { dim: -3 }, () => gen(function* () { yield* sample('z', normal(0, 1)) })))
    run(p, interpreter([spy]))
    expect(entered).toEqual([['x', -1], ['y', -3]])
  }))

  it('allocateDim skips dims held by enclosing plates but not by sequential (iteration) frames', () => {
    const x: PlateFrame = { name: 'x', size: 3, subsampleSize: 3, dim: -1 }
    const s: PlateFrame = { name: 's', size: 5, subsampleSize: 1, dim: AUTO_DIM, iteration: 2 }
    expect(allocateDim({ name: 'y', size: 2, subsampleSize: 2, dim: AUTO_DIM }, [x]).dim).toBe(-2)
    expect(allocateDim(s, [x])).toBe(s)
    expect(allocateDim({ name: 'y', size: 2, subsampleSize: 2, dim: AUTO_DIM }, [s]).dim).toBe(-1)
  })
})

describe('plate dims: errors', () => {
  it('a nested plate asking for a dim an enclosing plate holds is a SiteError naming both', () => tf.tidy(() => {
    const p = plate('x', 3, {}, () => plate('y', 2, { dim: -1 }, () => gen(function* () { yield* sample('z', normal(0, 1)) })))
    const e = thrown(() => traceOf(p))
    expect(e).toBeInstanceOf(SiteError)
    expect(e.message).toMatch(/plate 'y' asks for dim -1/)
    expect(e.message).toMatch(/enclosing plate 'x' already holds/)
  }))

  it('a plate nested in a plate of the same name is a SiteError', () => tf.tidy(() => {
    const p = plate('x', 3, {}, () => plate('x', 3, {}, () => gen(function* () { yield* sample('z', normal(0, 1)) })))
    const e = thrown(() => traceOf(p))
    expect(e).toBeInstanceOf(SiteError)
    expect(e.message).toMatch(/plate 'x' is entered inside a plate of the same name/)
  }))

  it('a zero, positive or non-integer dim is an InvalidArgumentError from plate itself, naming the plate and the dim', () => tf.tidy(() => {
    for (const dim of [0, 1, 2, -1.5]) {
      const e = thrown(() => plate('x', 3, { dim }, () => gen(function* () { yield* sample('z', normal(0, 1)) })))
      expect(e).toBeInstanceOf(InvalidArgumentError)
      expect(e.message).toMatch(/plate 'x': dim must be a negative integer/)
      expect(e.message).toContain(`got ${dim}`)
    }
  }))

  it('a tensor scale that does not broadcast to a site\'s batch shape is a SiteError naming the site, the scale\'s shape and the batch shape', () => tf.tidy(() => {
    const onSample = plate('data', 4, {}, () => scaled(tf.tensor1d([1, 2, 3]), () => gen(function* () { yield* sample('z', normal(0, 1)) })))
    const e = thrown(() => traceOf(onSample))
    expect(e).toBeInstanceOf(SiteError)
    expect(e.message).toMatch(/site 'z': its scale has shape \[3\], which does not broadcast to the site's batch shape \[4\]/)
    const onFactor = plate('data', 4, {}, () => scaled(tf.ones([2, 1]), () => gen(function* () { yield* factor('f', tf.scalar(-1)) })))
    expect(() => traceOf(onFactor)).toThrow(/site 'f': its scale has shape \[2, 1\], which does not broadcast to the site's batch shape \[4\]/)
    // A global site in a scope scaled per element would be counted once per element.
    const global = scaled(tf.tensor1d([1, 2]), () => gen(function* () { yield* sample('g', normal(0, 1)) }))
    expect(() => traceOf(global)).toThrow(/site 'g': its scale has shape \[2\], which does not broadcast to the site's batch shape \[\] \(scalar\)/)
    // Nested scaled scopes whose tensors clash are named at the site too, before tfjs multiplies them.
    const nested = plate('data', 4, {}, () => scaled(tf.ones([4]), () => scaled(tf.ones([3]), () => gen(function* () { yield* sample('z', normal(0, 1)) }))))
    expect(() => traceOf(nested)).toThrow(/site 'z': its scale has shape \[3\]/)
  }))

  it('tensor scales that broadcast to the site are accepted: the plate\'s shape, [1], a scalar, an observation\'s data', () => tf.tidy(() => {
    for (const f of [tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([2]), tf.scalar(2)]) {
      const p = plate('data', 4, {}, () => scaled(f, () => gen(function* () { yield* sample('z', normal(0, 1)) })))
      expect(sampleSite(traceOf(p), 'z').dist.batchShape).toEqual([4])
    }
    const obs = scaled(tf.tensor1d([1, 2, 3, 4]), () => gen(function* () { yield* observe('x', normal(0, 1), tf.zeros([4])) }))
    expect((sampleSite(traceOf(obs), 'x').scale as tf.Tensor).shape).toEqual([4])
  }))

  it('a site whose batch shape does not fit its plate names the site, plate, dim and shapes', () => tf.tidy(() => {
    const p = plate('data', 5, {}, () => gen(function* () { yield* sample('z', normal(tf.zeros([3]), 1)) }))
    const e = thrown(() => traceOf(p))
    expect(e).toBeInstanceOf(SiteError)
    expect(e.message).toMatch(/site 'z' inside plate 'data'/)
    expect(e.message).toMatch(/\(dim -1, 5 elements in this run\)/)
    expect(e.message).toMatch(/its batch shape is \[3\]/)
    expect(e.message).toMatch(/expected 5 or 1 there \(batch shape \[5\]\)/)
  }))

  it('the misfit error names the inner plate at -2, and counts the subsample, not the size', () => tf.tidy(() => {
    const nested = plate('x', 3, {}, () => plate('y', 2, {}, () => gen(function* () { yield* sample('z', normal(tf.zeros([4, 3]), 1)) })))
    const e = thrown(() => traceOf(nested))
    expect(e).toBeInstanceOf(SiteError)
    expect(e.message).toMatch(/site 'z' inside plate 'y' \(dim -2, 2 elements/)
    expect(e.message).toMatch(/its batch shape is \[4, 3\], which has 4 at dim -2/)
    expect(e.message).toMatch(/\(batch shape \[2, 3\]\)/)
    const sub = plate('data', 10, { subsampleSize: 4 }, () => gen(function* () { yield* sample('z', normal(tf.zeros([10]), 1)) }))
    const f = thrown(() => traceOf(sub))
    expect(f).toBeInstanceOf(SiteError)
    expect(f.message).toMatch(/\(dim -1, 4 elements in this run\)/)
    expect(f.message).toMatch(/its batch shape is \[10\].*expected 4 or 1 there \(batch shape \[4\]\)/)
  }))

  it('a factor whose shape does not fit its plate is a SiteError naming the factor', () => tf.tidy(() => {
    const p = plate('data', 4, {}, () => gen(function* () { yield* factor('f', tf.zeros([3])) }))
    const e = thrown(() => traceOf(p))
    expect(e).toBeInstanceOf(SiteError)
    expect(e.message).toMatch(/site 'f' inside plate 'data' \(dim -1, 4 elements/)
  }))
})

describe('plate dims: broadcasting sites', () => {
  it('a scalar site in a plate of 100 gets batch shape [100] and 100 independent draws', () => tf.tidy(() => {
    const p = plate('data', 100, {}, () => gen(function* () { yield* sample('z', normal(0, 1)) }))
    const z = sampleSite(traceOf(p), 'z')
    expect(z.dist.batchShape).toEqual([100])
    expect(z.dist.eventShape).toEqual([])
    expect(z.value.shape).toEqual([100])
    expect(new Set(read(z.value)).size).toBe(100)
    expect(z.scale).toBe(1)
  }))

  it('nested plates x (3, dim -1) and y (2, dim -2) give batch shape [2, 3]', () => tf.tidy(() => {
    const p = plate('x', 3, {}, () => plate('y', 2, {}, () => gen(function* () { yield* sample('z', normal(0, 1)) })))
    const z = sampleSite(traceOf(p), 'z')
    expect(z.dist.batchShape).toEqual([2, 3])
    expect(z.value.shape).toEqual([2, 3])
    expect(z.dist.logProb(z.value).shape).toEqual([2, 3])
  }))

  it('a plate at an explicit dim -2 alone gives batch shape [size, 1]; left batch dims are kept', () => tf.tidy(() => {
    const p = gen(function* () {
      yield* plate('x', 3, { dim: -2 }, () => gen(function* () { yield* sample('a', normal(0, 1)) }))
      yield* plate('x', 3, { dim: -2 }, () => gen(function* () { yield* sample('b', normal(tf.zeros([4]), 1)) }))
      yield* plate('d', 5, {}, () => gen(function* () { yield* sample('c', normal(tf.zeros([7, 1]), 1)) }))
    })
    const t = traceOf(p)
    expect(sampleSite(t, 'a').dist.batchShape).toEqual([3, 1])
    expect(sampleSite(t, 'a').value.shape).toEqual([3, 1])
    expect(sampleSite(t, 'b').dist.batchShape).toEqual([3, 4])
    expect(sampleSite(t, 'c').dist.batchShape).toEqual([7, 5])
  }))

  it('a site that already has the plate shape is passed through unchanged', () => tf.tidy(() => {
    const d = normal(tf.zeros([5]), 1)
    const p = plate('data', 5, {}, () => gen(function* () { yield* sample('z', d) }))
    expect(sampleSite(traceOf(p), 'z').dist).toBe(d)
  }))

  it('subsampling: the dim has the subsample size and the scale is size / subsampleSize', () => tf.tidy(() => {
    const p = plate('data', 10, { subsampleSize: 4 }, (idx) => gen(function* () {
      expect(idx.shape).toEqual([4])
      yield* sample('z', normal(0, 1))
      yield* factor('f', tf.scalar(-1))
      yield* plate('inner', 9, { subsampleSize: 3 }, () => gen(function* () { yield* sample('w', normal(0, 1)) }))
    }))
    const t = traceOf(p)
    expect(sampleSite(t, 'z').dist.batchShape).toEqual([4])
    expect(sampleSite(t, 'z').value.shape).toEqual([4])
    expect(sampleSite(t, 'z').scale).toBe(2.5)
    expect(factorSite(t, 'f').scale).toBe(2.5)
    expect(sampleSite(t, 'w').dist.batchShape).toEqual([3, 4])
    expect(sampleSite(t, 'w').scale).toBeCloseTo(7.5, 12)
  }))

  it('a scalar factor in a plate of 4 gets a log-weight of shape [4], one per element', () => tf.tidy(() => {
    const p = plate('data', 4, {}, () => gen(function* () { yield* factor('f', tf.scalar(-1)) }))
    const f = factorSite(traceOf(p), 'f')
    expect(f.logWeight.shape).toEqual([4])
    expect(read(f.logWeight)).toEqual([-1, -1, -1, -1])
    expect(dims(f.plates)).toEqual([['data', -1]])
  }))

  it('event dims are not plate dims: a [7]-event site in a plate of 5 has batch [5], event [7]', () => tf.tidy(() => {
    const p = plate('data', 5, {}, () => gen(function* () { yield* sample('z', normal(tf.zeros([7]), 1).toEvent(1)) }))
    const z = sampleSite(traceOf(p), 'z')
    expect(z.dist.batchShape).toEqual([5])
    expect(z.dist.eventShape).toEqual([7])
    expect(z.value.shape).toEqual([5, 7])
    expect(z.dist.logProb(z.value).shape).toEqual([5])
  }))

  it('observe in a plate: the distribution is broadcast and its log-density has the plate shape', () => tf.tidy(() => {
    const x = tf.tensor1d([0, 1, -1, 2, 0.5])
    const p = plate('data', 5, {}, () => gen(function* () { yield* observe('x', normal(0, 1), x) }))
    const site = sampleSite(traceOf(p), 'x')
    expect(site.kind).toBe('observed')
    expect(site.dist.batchShape).toEqual([5])
    expect(site.value).toBe(x)
    const lp = site.dist.logProb(site.value)
    expect(lp.shape).toEqual([5])
    expectClose(read(lp), [0, 1, -1, 2, 0.5].map((v) => -0.5 * v * v - HALF_LOG_2PI))
  }))

  it('sites outside any plate are not broadcast and carry no frames', () => tf.tidy(() => {
    const p = gen(function* () {
      yield* plate('data', 5, {}, () => gen(function* () { yield* sample('in', normal(0, 1)) }))
      yield* sample('out', normal(0, 1))
    })
    const out = sampleSite(traceOf(p), 'out')
    expect(out.dist.batchShape).toEqual([])
    expect(out.value.shape).toEqual([])
    expect(out.plates).toEqual([])
  }))

  it('plateBatchShape sets each plate dim to its subsample size and keeps 1s elsewhere', () => {
    const x: PlateFrame = { name: 'x', size: 3, subsampleSize: 3, dim: -1 }
    const y: PlateFrame = { name: 'y', size: 8, subsampleSize: 2, dim: -3 }
    expect(plateBatchShape('z', [], [x, y])).toEqual([2, 1, 3])
    expect(plateBatchShape('z', [1], [x, y])).toEqual([2, 1, 3])
    expect(plateBatchShape('z', [6, 1, 1, 3], [x, y])).toEqual([6, 2, 1, 3])
    expect(() => plateBatchShape('z', [8, 1, 3], [x, y])).toThrow(SiteError)
  })
})
