/**
 * The accelerator's threads (native/parallel.c) with several JavaScript threads: the addon is one per
 * process, but each of Node's worker_threads loads its own tfjs and calls it. Three worker threads run
 * convolutions (forward, input and filter gradients) and a split product at 2 threads, 40 rounds at
 * once, against their own 1-thread results. Before the pool lock and per-thread scratch this crashed the
 * process ("malloc(): unsorted double linked list corrupted"). Runs the built package (`dist/`, as
 * .ci/run builds it) in a child process; skipped where the accelerator is inactive or dist/ is missing.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src/backend/init.js'

const dist = (file: string): string => pathToFileURL(path.resolve('dist', file)).href
const built = existsSync(path.resolve('dist/node.js'))

/** One worker thread's program (an ES module, as the child runs with --input-type=module): its worst relative difference at 2 threads against 1. */
const WORKER = `
import { parentPort, workerData } from 'node:worker_threads'
{
  const tf = await import('@tensorflow/tfjs-core')
  const lib = await import(${JSON.stringify(dist('node.js'))})
  const { CONV_FILTER_KERNEL } = await import(${JSON.stringify(dist('backend/kernels/native/conv.js'))})
  const info = await lib.initBackend({ backend: 'wasm' })
  if (!info.native) throw new Error('the accelerator is not active in a worker thread: ' + info.nativeStatus)
  const k = (name, inputs, attrs) => tf.engine().runKernel(name, inputs, attrs)
  const seed = 10 * workerData
  const x = tf.randomUniform([64, 14, 14, 32], -1, 1, 'float32', seed + 1), w = tf.randomUniform([3, 3, 32, 64], -1, 1, 'float32', seed + 2)
  const dy = tf.randomUniform([64, 7, 7, 64], -1, 1, 'float32', seed + 3), b = tf.randomUniform([784, 400], -1, 1, 'float32', seed + 4)
  const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', dilations: 1 }
  const all = () => [
    k('Conv2D', { x, filter: w }, attrs),
    k('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: [64, 14, 14, 32] }),
    k(CONV_FILTER_KERNEL, { x, dy }, { ...attrs, filterShape: [3, 3, 32, 64] }),
    tf.matMul(tf.reshape(x, [512, 784]), b),
  ].map((t) => { const v = t.dataSync(); t.dispose(); return v })
  lib.setNative(true, 1)
  const one = all()
  lib.setNative(true, 2)
  let worst = 0
  for (let r = 0; r < 40; r++) all().forEach((got, i) => {
    const largest = one[i].reduce((a, v) => Math.max(a, Math.abs(v)), 0)
    for (let j = 0; j < got.length; j++) worst = Math.max(worst, Math.abs(got[j] - one[i][j]) / largest)
  })
  parentPort.postMessage(worst)
}
`

/** The child's main module: three worker threads at once; prints their worst differences as JSON. */
const MAIN = `
import { Worker } from 'node:worker_threads'
const runs = [0, 1, 2].map((id) => new Promise((done, fail) => {
  const w = new Worker(${JSON.stringify(WORKER)}, { eval: true, workerData: id })
  w.on('message', done); w.on('error', fail)
}))
console.log(JSON.stringify(await Promise.all(runs)))
process.exit(0)
`

const info = await initBackend()
const active = info.native && built
describe.skipIf(!active)(active ? 'the accelerator\'s threads under worker_threads' : `the accelerator's threads under worker_threads (skipped: ${built ? info.nativeStatus : 'no dist/: npm run build'})`, () => {
  it('three JavaScript threads calling it at once at 2 threads get their 1-thread results within float32 rounding, and nothing crashes', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', MAIN], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, TFPPL_THREADS: '1' } })
    expect(r.status, r.stderr.split('\n').filter((l) => !l.startsWith('var Module')).join('\n').slice(0, 2000)).toBe(0)
    const worst = JSON.parse(r.stdout.trim().split('\n').pop()!) as number[]
    expect(worst).toHaveLength(3)
    for (const w of worst) expect(w).toBeLessThan(1e-5)
  }, 150_000)
})
