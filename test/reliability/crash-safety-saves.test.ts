/**
 * Crash safety of checkpoint saves: child processes save to one path in a loop
 * (`saveParams` and `saveCheckpoint` alternately) and are killed with SIGKILL at seeded random
 * moments. After every kill the path must load — manifest decoded, weights.bin of the size and
 * SHA-256 the manifest records — as one whole save, the last acknowledged one or the one in
 * progress, never a mix and never an older one; the next save must clean up what a kill left.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import { loadCheckpoint, saveParams } from '../../src/inference/checkpoint.js'
import { paramStore } from '../../src/inference/params.js'
import { kill, killAll, seeded, sleep, spawnTs } from './children.js'
import { W_SIZE, wValue } from './children/save-loop.js'

const CHAINS = 2             // independent directories, killed concurrently
const KILLS_PER_CHAIN = 7
const MAX_DELAY_MS = 250     // after the first acknowledged save; a save takes tens of ms

let root = ''
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-kill-saves-')) })
afterAll(async () => {
  await killAll()
  await fs.rm(root, { recursive: true, force: true })
})

/** What may lie next to a checkpoint after a kill: the checkpoint, the backup of a swap in progress, temporary directories. */
const LEFT_BY_A_SAVE = /^ckpt(\.backup|\.tmp-\d+-[0-9a-f]{12})?$/

/** Loads the checkpoint at `dir` into a fresh store (and, when it has them, an Adam); returns the save number it holds. */
const loadWhole = async (dir: string): Promise<number> => {
  const store = paramStore()
  try {
    store.insert('i', tf.scalar(0), constraints.real)
    store.insert('w', tf.zeros([W_SIZE]), constraints.real)
    const { state, extra } = await loadCheckpoint(dir, { store })
    const i = store.value('i')!.dataSync()[0]!
    const w = store.value('w')!.dataSync()
    const wrong = w.findIndex((v, j) => v !== wValue(i, j))
    if (wrong >= 0) expect.fail(`save ${i}: w[${wrong}] is ${w[wrong]}, expected ${wValue(i, wrong)} (a mix of two saves)`)
    if (i % 2 === 0) {
      // saveCheckpoint: SVI state, extra JSON and the optimizer's slots, all of the same save.
      expect({ state, extra }).toEqual({ state: { step: i, baselines: {} }, extra: { i } })
      const optimizer = tf.train.adam(1e-3)
      await loadCheckpoint(dir, { store, optimizer })
      expect((await optimizer.getWeights()).map((x) => x.tensor.shape)).toEqual([[], [], [W_SIZE], [], [W_SIZE]])
      optimizer.dispose()
    } else {
      expect({ state, extra }).toEqual({})   // saveParams: params only
    }
    return i
  } finally {
    store.dispose()
  }
}

/** One directory: children started one after another, each killed at a random moment. */
const chain = async (c: number): Promise<{ kills: number; midSave: number; inProgress: number }> => {
  const parent = path.join(root, `chain-${c}`), dir = path.join(parent, 'ckpt')
  await fs.mkdir(parent)
  const rand = seeded(1000 + c)
  let last = 0, midSave = 0, inProgress = 0
  for (let k = 0; k < KILLS_PER_CHAIN; k++) {
    const child = spawnTs('test/reliability/children/save-loop.ts', [dir, String(last + 1)])
    await child.waitFor(/^saved \d+$/, 'out')
    await sleep(rand() * MAX_DELAY_MS)
    const ending = await kill(child)
    expect(ending.signal, child.transcript()).toBe('SIGKILL')
    const acked = Number(child.lines('out').at(-1)!.slice('saved '.length))
    const names = await fs.readdir(parent)
    names.forEach((n) => { expect(n).toMatch(LEFT_BY_A_SAVE) })
    if (names.length > 1 || !names.includes('ckpt')) midSave += 1
    const onDisk = await loadWhole(dir)
    // The last acknowledged save, or the one in progress if the kill came after its swap: nothing lost.
    expect([acked, acked + 1], `kill ${k} of chain ${c}: the checkpoint holds save ${onDisk}; the child had acknowledged ${acked}`).toContain(onDisk)
    const source = names.includes('ckpt') ? dir : `${dir}.backup`
    expect((await fs.readdir(source)).sort()).toEqual(['manifest.json', 'weights.bin'])
    if (onDisk === acked + 1) inProgress += 1
    last = onDisk
  }
  // The next save repairs what the kills left: no backup, no temporary directory of a dead process.
  const next = last % 2 === 0 ? last + 1 : last + 2   // odd: a saveParams
  const store = paramStore()
  store.insert('i', tf.scalar(next), constraints.real)
  store.insert('w', tf.tensor1d(Float32Array.from({ length: W_SIZE }, (_, j) => wValue(next, j))), constraints.real)
  await saveParams(dir, store)
  store.dispose()
  expect(await fs.readdir(parent)).toEqual(['ckpt'])
  expect(await loadWhole(dir)).toBe(next)
  return { kills: KILLS_PER_CHAIN, midSave, inProgress }
}

describe('SIGKILL during saveParams / saveCheckpoint in a loop', () => {
  it(`${CHAINS * KILLS_PER_CHAIN} kills: the path always loads as one whole save, the last acknowledged or a newer one`, async () => {
    const results = await Promise.all(Array.from({ length: CHAINS }, (_, c) => chain(c)))
    const [midSave, inProgress] = [results.reduce((a, r) => a + r.midSave, 0), results.reduce((a, r) => a + r.inProgress, 0)]
    console.info(`crash-safety-saves: ${CHAINS * KILLS_PER_CHAIN} kills survived with nothing lost; ${midSave} left a temporary or backup directory (killed during the disk writes), ${inProgress} found the save in progress already complete`)
    expect(results.reduce((a, r) => a + r.kills, 0)).toBe(CHAINS * KILLS_PER_CHAIN)
  }, 120_000)
})
