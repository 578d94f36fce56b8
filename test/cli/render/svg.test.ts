import { describe, expect, it } from 'vitest'
import { histogramSvg } from '../../../src/cli/render/histogram.js'
import { escapeXml, formatTick, niceTicks } from '../../../src/cli/render/svg-common.js'
import { curvesSvg } from '../../../src/cli/render/svg-curves.js'
import { InvalidArgumentError } from '../../../src/errors.js'

/**
 * A small well-formedness check: one root <svg> with the SVG namespace, every tag
 * closed in order, attributes quoted, no stray `<` or `&` in text.
 */
const expectWellFormedSvg = (svg: string): void => {
  expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
  const body = svg.replace(/^<\?xml[^>]*\?>/, '')
  const stack: string[] = []
  const tag = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g
  let last = 0
  for (const m of body.matchAll(tag)) {
    const text = body.slice(last, m.index)
    expect(text, `text before ${m[0]}`).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#39);)/)
    last = m.index + m[0].length
    const [, close, name = '', , selfClose] = m
    if (close === '/') expect(stack.pop(), `closing ${name}`).toBe(name)
    else if (selfClose !== '/') stack.push(name)
  }
  expect(body.slice(last).trim()).toBe('')
  expect(stack).toEqual([])
  expect(svg).not.toMatch(/NaN|Infinity|undefined/)
}

const polylines = (svg: string): string[][] =>
  [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((m) => (m[1] ?? '').split(' ').filter((p) => p !== ''))

const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? '')

describe('niceTicks and formatTick', () => {
  it('round the range out to 1/2/5 × 10^k steps', () => {
    expect(niceTicks(0.13, 9.7).ticks).toEqual([0, 2, 4, 6, 8, 10])
    expect(niceTicks(-123.4, -101.2)).toMatchObject({ lo: -125, hi: -100, step: 5 })
    expect(niceTicks(1, 3, 8, true).ticks).toEqual([1, 2, 3])
    expect(niceTicks(5, 5).ticks.length).toBeGreaterThan(1) // a flat range is widened
  })

  it('format without binary noise or negative zero', () => {
    expect(formatTick(0.1 + 0.2, 0.1)).toBe('0.3')
    expect(formatTick(-1e-17, 0.5)).toBe('0.0')
    expect(formatTick(-120, 5)).toBe('-120')
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
  })
})

describe('curvesSvg', () => {
  const train = { name: 'train', points: [1, 2, 3, 4, 5].map((e) => [e, -200 + 20 * Math.sqrt(e)] as const) }
  const test = { name: 'test <held-out>', points: [1, 3, 5].map((e) => [e, -190 + 15 * Math.sqrt(e)] as const) }
  const svg = curvesSvg([train, test], { title: 'ELBO per epoch', xLabel: 'epoch', yLabel: 'ELBO (nats)' })

  it('is a well-formed standalone SVG with one polyline per series, one point per datum', () => {
    expectWellFormedSvg(svg)
    expect(polylines(svg).map((p) => p.length)).toEqual([5, 3])
  })

  it('has the title, axis labels, integer epoch ticks and an escaped legend', () => {
    const t = texts(svg)
    expect(t).toEqual(expect.arrayContaining(['ELBO per epoch', 'epoch', 'ELBO (nats)', 'train', 'test &lt;held-out&gt;']))
    expect(t).toEqual(expect.arrayContaining(['1', '2', '3', '4', '5']))
    expect(svg).toMatch(/<line class="axis"/)
  })

  it('chooses a y range that contains the data, and keeps every point inside the plot area', () => {
    const yTicks = texts(svg).map(Number).filter((v) => v < -100)
    expect(Math.min(...yTicks)).toBeLessThanOrEqual(-180)
    expect(Math.max(...yTicks)).toBeGreaterThanOrEqual(-190 + 15 * Math.sqrt(5))
    for (const p of polylines(svg).flat()) {
      const [x = NaN, y = NaN] = p.split(',').map(Number)
      expect(x).toBeGreaterThanOrEqual(70); expect(x).toBeLessThanOrEqual(640 - 160)
      expect(y).toBeGreaterThanOrEqual(40); expect(y).toBeLessThanOrEqual(400 - 50)
    }
  })

  it('leaves out non-finite points and copes with flat, single-point and empty data', () => {
    const odd = curvesSvg([{ name: 'a', points: [[1, 2], [2, NaN], [3, Infinity], [4, 2]] }, { name: 'b', points: [[2, 2]] }], { title: 't', xLabel: 'x', yLabel: 'y' })
    expectWellFormedSvg(odd)
    expect(polylines(odd).map((p) => p.length)).toEqual([2, 1])
    expect(odd).toMatch(/<circle/) // a single point is still visible
    const empty = curvesSvg([], { title: 't', xLabel: 'x', yLabel: 'y' })
    expectWellFormedSvg(empty)
    expect(texts(empty)).toContain('no data')
  })
})

describe('histogramSvg', () => {
  it('draws a bar per used category, with labels and a usage summary', () => {
    const svg = histogramSvg([5, 0, 12, 3], { title: 'Code <usage>', xLabel: 'code' })
    expectWellFormedSvg(svg)
    expect(svg.match(/<rect class="bar"/g)?.length).toBe(3)
    expect(texts(svg)).toEqual(expect.arrayContaining(['Code &lt;usage&gt;', 'code', 'count', 'used 3 of 4', '0', '3']))
  })

  it('stays well-formed for a large, sparse codebook and for all-zero counts', () => {
    const counts = Array.from({ length: 512 }, (_, i) => (i % 7 === 0 ? i : 0))
    const svg = histogramSvg(counts, { title: 'usage', xLabel: 'code', yLabel: 'uses' })
    expectWellFormedSvg(svg)
    expect(svg.match(/<rect class="bar"/g)?.length).toBe(73) // multiples of 7 in 1..511
    expect(texts(svg)).toContain('used 73 of 512')
    expectWellFormedSvg(histogramSvg([0, 0], { title: 'none', xLabel: 'code' }))
  })

  it('rejects negative or non-finite counts, naming the index', () => {
    expect(() => histogramSvg([1, -2], { title: 't', xLabel: 'x' })).toThrow(InvalidArgumentError)
    expect(() => histogramSvg([1, 2, NaN], { title: 't', xLabel: 'x' })).toThrow(/counts\[2\]/)
  })
})
