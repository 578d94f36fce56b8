/**
 * Checkpointing inside `fit` where there is no file system (browsers, workers): `checkpoint.dir`
 * is the key of the run's checkpoint in IndexedDB (`checkpoint-idb.ts`, the default database),
 * saved in one transaction after an epoch and resumed from with `resume: true`. The portable
 * platform (`platform.ts`) provides it; `fit` loads it only for a run that checkpoints.
 */
import { sha256Web } from './checkpoint-digest.js'
import { listCheckpointsIdb, loadCheckpointIdb, saveCheckpointIdb } from './checkpoint-idb.js'
import { CheckpointError } from './checkpoint-manifest.js'
import { epochCheckpoint, resumedRun, trainerTarget } from './fit-checkpoint-run.js'
import type { EpochRecord, Trainer } from './fit-types.js'

/**
 * Saves the run after `epoch` under the key `dir` (in one transaction: a failed save leaves the previous checkpoint).
 *
 * @example await saveEpoch(s, 'vae', 3, history)
 */
export const saveEpoch = (s: Trainer, dir: string, epoch: number, records: readonly EpochRecord[]): Promise<void> =>
  saveCheckpointIdb(dir, epochCheckpoint(s, epoch, records))

/**
 * Loads the checkpoint under the key `dir` into `s` when there is one; `init` first creates the
 * params and modules (from one batch) so that every saved weight has a place to go.
 *
 * @example const r = await resumeFrom(s, 'vae', async () => s.init(model, guide, firstBatch))
 */
export const resumeFrom = async (s: Trainer, dir: string, init: () => Promise<void>): Promise<{ epoch: number; records: EpochRecord[] } | undefined> => {
  if (!(await listCheckpointsIdb()).includes(dir)) return undefined
  await init()
  return resumedRun(s, await loadCheckpointIdb(dir, trainerTarget(s)))
}

/**
 * Checks, before any training, that checkpoints can be saved under the key `dir`: a non-empty key,
 * an IndexedDB that opens and `crypto.subtle` to hash with; a {@link CheckpointError} otherwise, so
 * a page that cannot store them fails at once instead of after the first epoch.
 *
 * @example await checkCheckpointDir('vae')
 */
export const checkCheckpointDir = async (dir: string): Promise<void> => {
  try {
    if (typeof dir !== 'string' || dir === '') throw new CheckpointError(`the key must be a non-empty string; got ${JSON.stringify(dir)}`)
    await sha256Web(new Uint8Array(0))
    await listCheckpointsIdb()
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`fit: checkpoint.dir '${dir}' cannot hold checkpoints (in IndexedDB, this host having no files): ${e.message}`, dir, e.code)
    throw e
  }
}
