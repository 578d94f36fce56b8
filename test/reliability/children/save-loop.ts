/**
 * A child process for crash-safety-saves.test.ts: saves to one checkpoint directory in a loop
 * until it is killed, alternating `saveParams` (odd i) and `saveCheckpoint` with Adam state,
 * SVI state and extra JSON (even i), and prints `saved <i>` after each save has returned.
 *
 * Usage: node --import tsx test/reliability/children/save-loop.ts <dir> <first i>
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as constraints from '../../../src/distributions/constraints.js'
import { saveCheckpoint, saveParams } from '../../../src/inference/checkpoint.js'
import type { ParamEntry, ParamStore } from '../../../src/inference/params.js'

/** Elements of the large param (128 K floats, 512 KiB: a save takes long enough to be killed in the middle). */
export const W_SIZE = 1 << 17

/** The value of element `j` of param 'w' in save `i` (exact in float32 for i < 4096). */
export const wValue = (i: number, j: number): number => i * 4096 + (j % 4096)

const main = async (dir: string, first: number): Promise<void> => {
  await tf.setBackend('cpu')
  const iVar = tf.variable(tf.scalar(0)), wVar = tf.variable(tf.zeros([W_SIZE]))
  const entries: ParamEntry[] = [{ kind: 'param', name: 'i', variable: iVar, constraint: constraints.real }, { kind: 'param', name: 'w', variable: wVar, constraint: constraints.real }]
  // What a save reads of a store (the real one would also load the DSL and tfjs's layers, doubling the start-up time).
  const store = { entries: () => entries, variables: () => [iVar, wVar] } satisfies Pick<ParamStore, 'entries' | 'variables'> as unknown as ParamStore
  const optimizer = tf.train.adam(1e-3)
  tf.tidy(() => { optimizer.applyGradients([{ name: iVar.name, tensor: tf.scalar(1) }, { name: wVar.name, tensor: tf.onesLike(wVar) }]) })   // creates the slots
  for (let i = first; ; i++) {
    tf.tidy(() => {
      iVar.assign(tf.scalar(i))
      wVar.assign(tf.tensor1d(Float32Array.from({ length: W_SIZE }, (_, j) => wValue(i, j))))
    })
    if (i % 2 === 1) await saveParams(dir, store)
    else await saveCheckpoint(dir, { store, optimizer, state: { step: i, baselines: {} }, extra: { i } })
    process.stdout.write(`saved ${i}\n`)   // synchronous on a pipe: once read, save i is complete
  }
}

/** True when node was started with this file (not when the test imports its constants). */
const isEntryPoint = (): boolean => process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))

if (isEntryPoint()) await main(process.argv[2] ?? '', Number(process.argv[3] ?? 1))
