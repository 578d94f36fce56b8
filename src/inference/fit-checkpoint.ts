/**
 * Checkpointing inside `fit`: save params, optimizer and SVI state (plus the
 * epoch and history) after an epoch; resume from the last one. `fit.ts` loads
 * this module (and with it Node's file system) only for a run that checkpoints.
 */
import * as path from 'node:path'
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js'
import { MANIFEST, backupOf, checkReplaceable, ensureParent, exists } from './checkpoint-files.js'
import { CheckpointError } from './checkpoint-manifest.js'
import { epochCheckpoint, resumedRun, trainerTarget } from './fit-checkpoint-run.js'
import type { EpochRecord, Trainer } from './fit-types.js'

/**
 * Saves the run after `epoch` (atomically: an interrupted save leaves the previous checkpoint).
 *
 * @example await saveEpoch(s, 'runs/vae', 3, history)
 */
export const saveEpoch = (s: Trainer, dir: string, epoch: number, records: readonly EpochRecord[]): Promise<void> =>
  saveCheckpoint(dir, epochCheckpoint(s, epoch, records))

/**
 * Loads the checkpoint in `dir` into `s` when there is one; `init` first creates the
 * params and modules (from one batch) so that every saved weight has a place to go.
 *
 * @example const r = await resumeFrom(s, 'runs/vae', async () => s.init(model, guide, firstBatch))
 */
export const resumeFrom = async (s: Trainer, dir: string, init: () => Promise<void>): Promise<{ epoch: number; records: EpochRecord[] } | undefined> => {
  if (!(await exists(path.join(dir, MANIFEST))) && !(await exists(backupOf(dir)))) return undefined
  await init()
  return resumedRun(s, await loadCheckpoint(dir, trainerTarget(s)))
}

/**
 * Checks, before any training, that checkpoints can be saved to `dir`: its parent is (or can be made)
 * a directory and `dir` holds nothing but checkpoint files; a {@link CheckpointError} otherwise,
 * so an unwritable directory fails at once instead of after the first epoch.
 *
 * @example await checkCheckpointDir('runs/vae/checkpoint')
 */
export const checkCheckpointDir = async (dir: string): Promise<void> => {
  const target = path.resolve(dir)
  try {
    await ensureParent(target)
    await checkReplaceable(target, target)
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`fit: checkpoint.dir '${dir}' cannot hold checkpoints: ${e.message}`, e.path, e.code)
    throw e
  }
}
