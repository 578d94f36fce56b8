import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, describe, expect, it } from 'vitest'
import { DataError, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, FASHION_MNIST_FILES, encodeIdx, fashionMnist, validate } from '../../src/data/index.js'
import { read } from '../helpers.js'

const installed = existsSync(join(FASHION_MNIST_DIR, `${FASHION_MNIST_FILES.trainImages}.gz`))
const tmp = mkdtempSync(join(tmpdir(), 'tfppl-fashion-'))
afterAll(() => { rmSync(tmp, { recursive: true, force: true }) })

/** A directory holding a tiny Fashion-MNIST look-alike: train 4 images, test 2, of 28×28 (gzipped or raw). */
const fakeFashion = (name: string, gz: boolean, skip?: keyof typeof FASHION_MNIST_FILES): string => {
  const d = join(tmp, name)
  mkdirSync(d)
  const files: Record<keyof typeof FASHION_MNIST_FILES, Uint8Array> = {
    trainImages: encodeIdx('images', [4, 28, 28], new Uint8Array(4 * 784).fill(255)),
    trainLabels: encodeIdx('labels', [4], Uint8Array.from([9, 0, 3, 3])),
    testImages: encodeIdx('images', [2, 28, 28], new Uint8Array(2 * 784)),
    testLabels: encodeIdx('labels', [2], Uint8Array.from([1, 8])),
  }
  for (const [k, bytes] of Object.entries(files) as [keyof typeof FASHION_MNIST_FILES, Uint8Array][]) {
    if (k !== skip) writeFileSync(join(d, FASHION_MNIST_FILES[k] + (gz ? '.gz' : '')), gz ? gzipSync(bytes) : bytes)
  }
  return d
}

describe('fashionMnist', () => {
  it.skipIf(!installed)('loads the Debian package dataset-fashion-mnist: 60000 / 10000 images [n, 28, 28, 1]', () => {
    const before = tf.memory().numTensors
    const t0 = performance.now()
    const { train, test } = fashionMnist()
    console.log(`fashionMnist(): ${(performance.now() - t0).toFixed(0)} ms`)
    expect([train.size, test.size]).toEqual([60000, 10000])
    expect([train.images.shape, test.images.shape]).toEqual([[60000, 28, 28, 1], [10000, 28, 28, 1]])
    expect([train.labels.shape, train.labels.dtype, train.numClasses]).toEqual([[60000], 'int32', 10])
    expect([train.name, test.name, test.classNames]).toEqual(['fashion-mnist/train', 'fashion-mnist/test', FASHION_MNIST_CLASSES])
    validate(test)
    expect(new Set(read(test.labels))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    train.dispose(); test.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  for (const gz of [true, false]) {
    it(`reads the four standard files from { dir } (${gz ? '.gz' : 'uncompressed'})`, () => {
      const { train, test } = fashionMnist({ dir: fakeFashion(gz ? 'gz' : 'raw', gz) })
      expect([train.size, test.size, train.imageShape]).toEqual([4, 2, [28, 28, 1]])
      expect(read(train.labels)).toEqual([9, 0, 3, 3])
      expect(read(test.labels)).toEqual([1, 8])
      expect(read(train.images).every((v) => v === 1)).toBe(true)
      train.dispose(); test.dispose()
    })
  }

  it('missing directory: says where it looked and how to install', () => {
    const nowhere = join(tmp, 'nowhere')
    expect(() => fashionMnist({ dir: nowhere })).toThrow(DataError)
    expect(() => fashionMnist({ dir: nowhere })).toThrow(`fashionMnist: Fashion-MNIST not found in ${nowhere}: the directory does not exist. Install it with \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu; the files go to /usr/share/datasets/fashion-mnist), or pass { dir } naming a directory with the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz`)
  })

  it('a missing file is named; a malformed one is the IDX error', () => {
    const d = fakeFashion('partial', true, 'testLabels')
    expect(() => fashionMnist({ dir: d })).toThrow(`fashionMnist: Fashion-MNIST not found in ${d}: missing t10k-labels-idx1-ubyte.gz (looked for each with and without .gz)`)
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), encodeIdx('labels', [3], Uint8Array.from([0, 1, 2])))
    const before = tf.memory().numTensors
    expect(() => fashionMnist({ dir: d })).toThrow(`has 2 images but ${join(d, 't10k-labels-idx1-ubyte')} has 3 labels`)
    expect(tf.memory().numTensors).toBe(before)   // the train set, already loaded, is disposed
  })
})
