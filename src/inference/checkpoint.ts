/**
 * Checkpoints: params, module weights and buffers, optimizer state and the SVI counters in
 * `dir/manifest.json` + `dir/weights.bin`, saved so that at every moment either
 * the previous complete checkpoint or the new complete one is on disk: both
 * files go to a fresh temporary directory next to `dir`, are fsynced, and the
 * directories are swapped by renames (`dir` → `dir.backup`, temp → `dir`).
 * Loading validates everything before changing anything (`checkpoint-restore.ts`, shared with
 * the browser's stores).
 */
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { encodeCheckpoint } from './checkpoint-codec.js'
import { weightsProblem } from './checkpoint-digest.js'
import { CheckpointError, decodeCheckpoint, errnoOf } from './checkpoint-manifest.js'
import { restoreCheckpoint } from './checkpoint-restore.js'
import type { Restored, RestoreTarget } from './checkpoint-restore.js'
import { MANIFEST, WEIGHTS, backupOf, checkReplaceable, ensureParent, exists, removeStaleTemps, repair, sha256, swap, writeTemp } from './checkpoint-files.js'
import type { SaveHooks } from './checkpoint-files.js'
import type { Checkpoint, CheckpointStore } from './checkpoint-codec.js'
import type { Manifest } from './checkpoint-manifest.js'

export { CheckpointError } from './checkpoint-manifest.js'
export type { Checkpoint, CheckpointState, CheckpointStore } from './checkpoint-codec.js'

export type { SaveHooks, SaveStage } from './checkpoint-files.js'

/**
 * Saves params, module weights and buffers and (optionally) the optimizer, the SVI state and
 * extra JSON into `dir` (created if missing), atomically: a crash at any moment
 * leaves either the previous complete checkpoint or the new one. A directory that
 * cannot be written is a {@link CheckpointError} naming the path and the OS error
 * code, and the previous checkpoint is left as it was.
 *
 * @example
 * await saveCheckpoint('runs/vae', { store: s.params, optimizer: s.optimizer, state: s.state, extra: { epoch: 10 } })
 */
export const saveCheckpoint = async (dir: string, c: Checkpoint, hooks: SaveHooks = {}): Promise<void> => {
  const { manifest, bytes } = await encodeCheckpoint(c, sha256)   // everything is read before the disk is touched
  const target = path.resolve(dir)
  await ensureParent(target)
  await repair(target)
  await checkReplaceable(target, target)
  await removeStaleTemps(target)
  const temp = `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`
  try {
    await writeTemp(target, temp, manifest, bytes, hooks)
    await swap(target, temp, hooks)
  } finally {
    await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined)
  }
}

/** The directory to read: `target`, or the backup an interrupted save left when `target` is missing. */
const sourceOf = async (target: string): Promise<string> => {
  if (await exists(target)) return target
  if (await exists(backupOf(target))) return backupOf(target)
  throw new CheckpointError(`loadCheckpoint: no checkpoint at '${target}' (ENOENT)`, target, 'ENOENT')
}

const readFile = async (file: string): Promise<Buffer> => {
  try {
    return await fs.readFile(file)
  } catch (e) {
    const code = errnoOf(e) ?? 'EUNKNOWN'
    throw new CheckpointError(`loadCheckpoint: cannot read '${file}': ${e instanceof Error ? e.message : String(e)}`, file, code)
  }
}

/**
 * Reads the manifest and the weights it describes. If they do not match (size or
 * SHA-256) they are read once more, in case a concurrent save swapped the
 * directory between the two reads; a second mismatch is a corrupt checkpoint.
 */
const readCheckpoint = async (target: string, attempt = 1): Promise<{ manifest: Manifest; bytes: Uint8Array }> => {
  const source = await sourceOf(target)
  const manifestFile = path.join(source, MANIFEST), weightsFile = path.join(source, WEIGHTS)
  const manifest = decodeCheckpoint(manifestFile, (await readFile(manifestFile)).toString('utf8'))
  const bytes = new Uint8Array(await readFile(weightsFile))
  const problem = await weightsProblem(manifest, bytes, sha256, { weights: `'${weightsFile}'`, manifest: `'${manifestFile}'`, kind: 'file' })
  if (problem === undefined) return { manifest, bytes }
  if (attempt < 2) return readCheckpoint(target, attempt + 1)
  throw new CheckpointError(`loadCheckpoint: ${problem}`, weightsFile)
}

/**
 * Restores a checkpoint into `c.store` (and `c.optimizer`): existing params are
 * assigned (shapes must match), missing params are created, modules must already
 * be registered (run `svi.init(...)` or one step first). Module buffers (see
 * `NetworkWithBuffers`) are restored by name; a checkpoint saved before a module
 * had buffers (e.g. a VQ-VAE's EMA codebook before tfppl saved it) loads, leaving
 * those buffers as they are (a fresh model's: as initialised). Everything is checked
 * before anything changes. Returns the saved SVI state and extra JSON.
 *
 * @example
 * const s = svi({ optimizer: tf.train.adam(1e-3), loss: elbo(), seed: 1 })
 * const { state, extra } = await loadCheckpoint('runs/vae', { store: s.params, optimizer: s.optimizer })
 */
export const loadCheckpoint = async (dir: string, c: RestoreTarget): Promise<Restored> => {
  const { manifest, bytes } = await readCheckpoint(path.resolve(dir))
  return restoreCheckpoint('loadCheckpoint', manifest, bytes, c)
}

/**
 * Saves only the params and module weights (and buffers) of a store (atomically, like {@link saveCheckpoint}).
 *
 * @example await saveParams('models/guide', s.params)
 */
export const saveParams = (dir: string, store: CheckpointStore): Promise<void> => saveCheckpoint(dir, { store })

/**
 * Loads params and module weights (and buffers) into a store (see {@link loadCheckpoint}); optimizer data, if any, is ignored.
 *
 * @example await loadParams('models/guide', paramStore())
 */
export const loadParams = async (dir: string, store: CheckpointStore): Promise<void> => { await loadCheckpoint(dir, { store }) }
