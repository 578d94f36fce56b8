/**
 * Bad data files and dataset arguments (B49–B60): missing and malformed IDX
 * files (written to a temp dir), labels out of range, counts that disagree, a
 * missing Fashion-MNIST directory, and bad arguments to the dataset helpers.
 * Each is a DataError (or InvalidArgumentError) naming the file or dataset, what
 * was wrong and what was expected; the dataset tensors, the files and the
 * tensor count are as before.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { DataError, binarize, datasetFromArrays, encodeIdx, fashionMnist, idx, idxDataset, oneHot, subset } from '../../src/data/index.js'
import type { Dataset } from '../../src/data/index.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { expectNamed } from './expect-named.js'

const root = mkdtempSync(join(tmpdir(), 'tfppl-bad-data-'))
const write = (name: string, bytes: Uint8Array): string => { const p = join(root, name); writeFileSync(p, bytes); return p }
/** A big-endian IDX header: magic, then dims. */
const header = (magic: number, dims: readonly number[]): Uint8Array => {
  const b = new Uint8Array(4 + 4 * dims.length), v = new DataView(b.buffer)
  v.setUint32(0, magic); dims.forEach((d, i) => v.setUint32(4 + 4 * i, d))
  return b
}
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))

let images = '', labels = '', ds: Dataset
beforeAll(() => {
  images = write('images', encodeIdx('images', [3, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => i * 20)))
  labels = write('labels', encodeIdx('labels', [3], Uint8Array.from([1, 0, 2])))
  ds = datasetFromArrays('toy', Float32Array.from({ length: 12 }, (_, i) => i / 12), [2, 2], Int32Array.from([1, 0, 2]), 3)
})
afterAll(() => { ds.dispose(); rmSync(root, { recursive: true, force: true }) })

const watchFiles = () => ({ dirs: [root] })
const watchData = () => ({ dirs: [root], tensors: [ds.images, ds.labels] })

describe('malformed IDX files', () => {
  it('B49 a missing file names its path', async () => {
    const p = join(root, 'nope-idx3-ubyte')
    await expectNamed(() => idx(p, 'images'), DataError, [p, 'file not found'], watchFiles())
  })

  it('B50 a bad magic number names the file, the magic found and the magic expected', async () => {
    const p = write('bad-magic', cat(header(0x12345678, [1]), Uint8Array.from([0])))
    await expectNamed(() => idx(p, 'images'), DataError, [p, 'bad magic number 0x12345678', 'expected 0x00000803 (images'], watchFiles())
  })

  it('B51 a truncated file names the bytes its dims need and the bytes it has', async () => {
    const p = write('truncated', cat(header(0x00000803, [2, 2, 2]), new Uint8Array(7)))
    await expectNamed(() => idx(p, 'images'), DataError, [p, 'truncated', 'dims [2, 2, 2] need 24 bytes', 'the file has 23'], watchFiles())
  })

  it('B52 wrong dims (a labels file where images are expected) names the dims declared and expected', async () => {
    await expectNamed(() => idx(labels, 'images'), DataError, [labels, 'wrong number of dims', 'declares 1 dims', 'expected 3 (images'], watchFiles())
  })

  it('B53 trailing bytes after the data are refused', async () => {
    const p = write('trailing', cat(encodeIdx('labels', [2], Uint8Array.from([0, 1])), Uint8Array.from([9, 9])))
    await expectNamed(() => idx(p, 'labels'), DataError, [p, '2 trailing bytes', 'need exactly 10 bytes', 'the file has 12'], watchFiles())
  })

  it('B54 a corrupt gzip file names the file and what was expected', async () => {
    const gz = gzipSync(encodeIdx('labels', [3], Uint8Array.from([0, 1, 2])))
    const p = write('corrupt.gz', gz.subarray(0, gz.length - 6))
    await expectNamed(() => idx(p), DataError, [p, 'starts like gzip but does not decompress', 'expected a complete gzipped IDX file'], watchFiles())
  })
})

describe('datasets that do not fit together', () => {
  it('B55 a label ≥ numClasses names the file, the label index and the expected range', async () => {
    const p = write('labels-9', encodeIdx('labels', [3], Uint8Array.from([1, 9, 0])))
    await expectNamed(() => idxDataset(images, p, 'letters', { numClasses: 5 }), DataError, [p, 'label 1 is 9', 'expected labels in [0, 5)'], watchFiles())
  })

  it('B56 3 images but 2 labels names both files and both counts', async () => {
    const p = write('labels-2', encodeIdx('labels', [2], Uint8Array.from([1, 0])))
    await expectNamed(() => idxDataset(images, p, 'toy'), DataError, [images, 'has 3 images', `${p} has 2 labels`, 'expected the same count'], watchFiles())
  })

  it('B57 fashionMnist in a directory that does not exist says where it looked and how to install it', async () => {
    const dir = join(root, 'no-such-dir')
    await expectNamed(() => fashionMnist({ dir }), DataError, [`not found in ${dir}`, 'the directory does not exist', 'apt-get install dataset-fashion-mnist'], watchFiles())
  })

  it('B58 fashionMnist in a directory missing some files lists the missing files', async () => {
    const dir = join(root, 'partial')
    mkdirSync(dir)
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx('labels', [1], Uint8Array.from([0])))
    await expectNamed(() => fashionMnist({ dir }), DataError, [dir, 'missing train-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'], watchFiles())
  })
})

describe('bad arguments to the dataset helpers', () => {
  it('B59 binarize.fixed(2) and binarize of int32 labels name the argument and what was expected', async () => {
    await expectNamed(() => binarize.fixed(2), InvalidArgumentError, ['binarize.fixed: threshold must be in [0, 1]', 'got 2'], watchData())
    const bin = binarize.fixed()
    await expectNamed(() => bin(ds.labels), InvalidArgumentError, ['binarize.fixed: images must be float32 in [0, 1]', 'got int32 [3]'], watchData())
  })

  it('B60 subset(ds, 0) and oneHot with 1 class or an out-of-range label name the argument and the dataset', async () => {
    await expectNamed(() => subset(ds, 0), InvalidArgumentError, ['subset: n must be an integer between 1 and the size of dataset "toy" (3)', 'got 0'], watchData())
    await expectNamed(() => oneHot(ds.labels, 1), InvalidArgumentError, ['oneHot: numClasses must be an integer ≥ 2', 'got 1'], watchData())
    await expectNamed(() => oneHot(ds.labels, 2), DataError, ['oneHot: label 2 is 2', 'expected labels in [0, 2)'], watchData())
  })
})
