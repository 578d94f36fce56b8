import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, describe, expect, it } from 'vitest'
import { DataError, encodeIdx, idx, idxDataset } from '../../src/data/index.js'
import { read } from '../helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'tfppl-idx-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

/** Writes bytes to `dir/name` (gzipped when `gz`) and returns the path. */
const write = (name: string, bytes: Uint8Array, gz = false): string => {
  const path = join(dir, name)
  writeFileSync(path, gz ? gzipSync(bytes) : bytes)
  return path
}

/** A big-endian IDX header: magic, then dims. */
const header = (magic: number, dims: readonly number[]): Uint8Array => {
  const b = new Uint8Array(4 + 4 * dims.length), v = new DataView(b.buffer)
  v.setUint32(0, magic); dims.forEach((d, i) => v.setUint32(4 + 4 * i, d))
  return b
}
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))

// 3 images of 2×3 and their labels.
const PIXELS = Uint8Array.from({ length: 18 }, (_, i) => i * 15)
const LABELS = Uint8Array.from([7, 0, 9])

describe('idx: MNIST-format IDX files', () => {
  it('reads hand-written bytes: magic, big-endian dims, data', () => {
    const p = write('hand-labels', Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]))
    const r = idx(p)
    expect([r.kind, r.dims, [...r.data], r.path]).toEqual(['labels', [3], [7, 0, 9], p])
  })

  for (const gz of [false, true]) {
    it(`round-trips images and labels through encodeIdx (${gz ? 'gzipped' : 'raw'})`, () => {
      const ip = write(`images${gz ? '.gz' : ''}`, encodeIdx('images', [3, 2, 3], PIXELS), gz)
      const lp = write(`labels${gz ? '.gz' : ''}`, encodeIdx('labels', [3], LABELS), gz)
      const images = idx(ip, 'images'), labels = idx(lp, 'labels')
      expect([images.kind, images.dims, [...images.data]]).toEqual(['images', [3, 2, 3], [...PIXELS]])
      expect([labels.kind, labels.dims, [...labels.data]]).toEqual(['labels', [3], [...LABELS]])
      const before = tf.memory().numTensors
      const ds = idxDataset(ip, lp, 'synthetic')
      expect([ds.name, ds.size, ds.imageShape, ds.images.shape, ds.numClasses]).toEqual(['synthetic', 3, [2, 3, 1], [3, 2, 3, 1], 10])
      read(ds.images).forEach((v, i) => expect(v).toBeCloseTo(PIXELS[i]! / 255, 6))
      expect(read(ds.labels)).toEqual([...LABELS])
      ds.dispose()
      expect(tf.memory().numTensors).toBe(before)
    })
  }

  it('gzip is detected from the content, whatever the name', () => {
    const p = write('labels-named-raw', encodeIdx('labels', [3], LABELS), true)
    expect([...idx(p).data]).toEqual([...LABELS])
  })
})

describe('idx: malformed files are DataErrors naming the file, the fault and the expectation', () => {
  const fails = (path: string, expected: 'images' | 'labels' | undefined, message: string) => {
    expect(() => idx(path, expected)).toThrow(DataError)
    expect(() => idx(path, expected)).toThrow(message)
  }

  it('bad magic: not IDX, not unsigned bytes, or the wrong kind', () => {
    const zip = write('zip', Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]))
    fails(zip, 'images', `${zip}: bad magic number 0x504b0304 (not an IDX file); expected 0x00000803 (images: unsigned bytes, 3 dims count×rows×cols)`)
    const floats = write('floats', cat(header(0x00000d01, [1]), new Uint8Array(4)))
    fails(floats, undefined, `${floats}: bad magic number 0x00000d01 (element type 0x0d; only 0x08, unsigned bytes, is supported); expected 0x00000803 (images`)
    const labels = write('labels-as-images', encodeIdx('labels', [3], LABELS))
    fails(labels, 'images', `${labels}: wrong number of dims: magic number 0x00000801 declares 1 dims; expected 3 (images; magic 0x00000803)`)
  })

  it('wrong number of dims', () => {
    const two = write('two-dims', cat(header(0x00000802, [2, 2]), new Uint8Array(4)))
    fails(two, undefined, `${two}: wrong number of dims: magic number 0x00000802 declares 2 dims; expected 1 (labels) or 3 (images)`)
    fails(two, 'labels', 'declares 2 dims; expected 1 (labels; magic 0x00000801)')
  })

  it('truncated: short header, or fewer data bytes than the dims declare (raw and gzipped)', () => {
    const tiny = write('tiny', Uint8Array.from([0, 0]))
    fails(tiny, undefined, `${tiny}: truncated: 2 bytes, shorter than the 4-byte magic number`)
    const head = write('short-header', header(0x00000803, [3, 2]))
    fails(head, 'images', `${head}: truncated: 12 bytes, shorter than the 16-byte header (magic number and 3 dims)`)
    const cut = encodeIdx('images', [3, 2, 3], PIXELS).subarray(0, 30)
    for (const gz of [false, true]) {
      const p = write(`cut${gz ? '.gz' : ''}`, cut, gz)
      fails(p, 'images', `${p}: truncated: dims [3, 2, 3] need 34 bytes (16-byte header + 18 data bytes) but the file has 30`)
    }
    const extra = write('extra', cat(encodeIdx('labels', [3], LABELS), Uint8Array.from([1, 2])))
    fails(extra, 'labels', `${extra}: 2 trailing bytes: dims [3] need exactly 11 bytes`)
  })

  it('a gzip stream cut short, and a missing file', () => {
    const gz = gzipSync(encodeIdx('images', [3, 2, 3], PIXELS))
    const p = write('cut-stream.gz', gz.subarray(0, gz.length - 12))
    fails(p, 'images', `${p}: starts like gzip but does not decompress (`)
    fails(join(dir, 'nope.gz'), 'images', `${join(dir, 'nope.gz')}: file not found`)
  })

  it('idxDataset: image and label counts that disagree, and labels out of range', () => {
    const ip = write('i3', encodeIdx('images', [3, 2, 3], PIXELS))
    const lp = write('l2', encodeIdx('labels', [2], Uint8Array.from([1, 2])))
    const before = tf.memory().numTensors
    expect(() => idxDataset(ip, lp, 'mismatch')).toThrow(DataError)
    expect(() => idxDataset(ip, lp, 'mismatch')).toThrow(`idxDataset "mismatch": ${ip} has 3 images but ${lp} has 2 labels; expected the same count`)
    const big = write('l-big', encodeIdx('labels', [3], Uint8Array.from([1, 12, 2])))
    expect(() => idxDataset(ip, big, 'big')).toThrow(`${big}: label 1 is 12; expected labels in [0, 10)`)
    expect(() => idxDataset(ip, big, 'big', { numClasses: 2 })).toThrow(`${big}: label 1 is 12; expected labels in [0, 2)`)
    expect(tf.memory().numTensors).toBe(before)
    const ok = idxDataset(ip, big, 'big', { numClasses: 13 })
    expect(read(ok.labels)).toEqual([1, 12, 2])
    ok.dispose()
  })
})
