/**
 * What `fit` puts into a checkpoint besides the trainer's weights (the epoch and the history), and
 * how it reads them back on resume, wherever the checkpoint is stored (files in Node,
 * `fit-checkpoint.ts`; IndexedDB in a browser, `fit-checkpoint-idb.ts`). No Node module.
 */
import type { Checkpoint } from './checkpoint-codec.js'
import type { Restored, RestoreTarget } from './checkpoint-restore.js'
import type { EpochRecord, Trainer } from './fit-types.js'

/**
 * The checkpoint of a run after `epoch`: params, optimizer, SVI state, and `{ epoch, history }` as extra JSON.
 *
 * @example await saveCheckpoint(dir, epochCheckpoint(s, 3, history))
 */
export const epochCheckpoint = (s: Trainer, epoch: number, records: readonly EpochRecord[]): Checkpoint =>
  ({ store: s.params, optimizer: s.optimizer, state: s.state, extra: { epoch, history: records } })

/**
 * What a run's checkpoint is loaded into: the trainer's params and optimizer.
 *
 * @example await loadCheckpoint(dir, trainerTarget(s))
 */
export const trainerTarget = (s: Trainer): RestoreTarget => ({ store: s.params, optimizer: s.optimizer })

/**
 * Restores the SVI counters of a loaded checkpoint into `s`; returns the epoch it was saved after and the history so far.
 *
 * @example const r = resumedRun(s, await loadCheckpoint(dir, trainerTarget(s)))
 */
export const resumedRun = (s: Trainer, { state, extra }: Restored): { epoch: number; records: EpochRecord[] } => {
  if (state !== undefined) s.restore(state)
  const records = Array.isArray(extra?.['history']) ? extra['history'] as EpochRecord[] : []
  return { epoch: typeof extra?.['epoch'] === 'number' ? extra['epoch'] : 0, records }
}
