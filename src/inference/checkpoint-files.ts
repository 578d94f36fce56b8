/**
 * The file-system half of a checkpoint save: write both files into a fresh
 * temporary directory next to the target, fsync them, and swap directories by
 * renames (target → target.backup, temp → target), so that at every moment
 * either the previous complete checkpoint or the new one is on disk. Also the
 * repairs a crashed save may need (a lone backup put back, stale temps removed).
 */
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { CheckpointError, errnoOf } from './checkpoint-manifest.js'
import type { Manifest } from './checkpoint-manifest.js'

/** The stages of a save, in order (for {@link SaveHooks}). @example const stage: SaveStage = 'swapped' */
export type SaveStage = 'temp-created' | 'files-written' | 'old-moved-aside' | 'swapped' | 'done'

/**
 * Test hooks: called after each stage of a save; a hook that throws aborts the save there.
 *
 * @example await saveCheckpoint(dir, { store }, { onStage: (s) => { if (s === 'files-written') throw new Error('crash') } })
 */
export interface SaveHooks {
  readonly onStage?: (stage: SaveStage) => void | Promise<void>
}

/** The two files of a checkpoint directory. @example path.join(dir, MANIFEST) */
export const MANIFEST = 'manifest.json'
/** @see MANIFEST @example path.join(dir, WEIGHTS) */
export const WEIGHTS = 'weights.bin'
/** Where the previous checkpoint waits during a swap. @example backupOf('/runs/vae/checkpoint')   // '/runs/vae/checkpoint.backup' */
export const backupOf = (target: string): string => `${target}.backup`

/** The hex SHA-256 of `weights.bin`, recorded in the manifest. @example sha256(await fs.readFile('ckpt/weights.bin')) === manifest.weightsSha256 */
export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** Whether `p` exists. @example await exists('/runs/vae/checkpoint') */
export const exists = async (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false)

/** Runs one file-system step of a save; an OS error becomes a CheckpointError naming `target`, the path and the code. */
const osStep = async <A>(target: string, what: string, f: () => Promise<A>): Promise<A> => {
  try {
    return await f()
  } catch (e) {
    const code = errnoOf(e) ?? 'EUNKNOWN'
    const detail = e instanceof Error ? e.message : String(e)
    throw new CheckpointError(`saveCheckpoint '${target}': cannot ${what}: ${detail.includes(code) ? detail : `${code}: ${detail}`}; the previous checkpoint, if any, is unchanged`, target, code)
  }
}

const writeSynced = async (file: string, data: Uint8Array | string): Promise<void> => {
  const h = await fs.open(file, 'wx')
  try { await h.writeFile(data); await h.sync() } finally { await h.close() }
}

/** fsync a directory so renames in it are durable (not supported everywhere: best effort). */
const syncDir = async (dir: string): Promise<void> => {
  try { const h = await fs.open(dir, 'r'); try { await h.sync() } finally { await h.close() } } catch { /* best effort */ }
}

/** Refuses to replace a directory holding anything but checkpoint files (nothing of the user's is ever deleted). */
export const checkReplaceable = async (target: string, p: string): Promise<void> => {
  const stat = await fs.stat(p).catch(() => undefined)
  if (stat === undefined) return
  if (!stat.isDirectory()) throw new CheckpointError(`saveCheckpoint '${target}': '${p}' exists and is not a directory (ENOTDIR)`, target, 'ENOTDIR')
  const foreign = (await fs.readdir(p)).filter((n) => n !== MANIFEST && n !== WEIGHTS)
  if (foreign.length > 0) throw new CheckpointError(`saveCheckpoint '${target}': '${p}' holds files that are not part of a checkpoint (${foreign.join(', ')}); refusing to replace it`, target, 'ENOTEMPTY')
}

/** Finishes an interrupted swap: puts the previous checkpoint back if only the backup exists, or drops a stale backup. */
export const repair = async (target: string): Promise<void> => {
  const backup = backupOf(target)
  if (!(await exists(backup))) return
  if (!(await exists(target))) return osStep(target, `move the backup '${backup}' of an interrupted save back`, () => fs.rename(backup, target))
  await checkReplaceable(target, backup)
  await osStep(target, `remove the stale backup '${backup}'`, () => fs.rm(backup, { recursive: true, force: true }))
}

const isAlive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true } catch (e) { return errnoOf(e) === 'EPERM' }
}

/** Removes temporary directories left by saves of processes that no longer run. */
export const removeStaleTemps = async (target: string): Promise<void> => {
  const prefix = `${path.basename(target)}.tmp-`
  const names = await fs.readdir(path.dirname(target)).catch((): string[] => [])
  for (const n of names.filter((x) => x.startsWith(prefix))) {
    const pid = /^(\d+)-[0-9a-f]{12}$/.exec(n.slice(prefix.length))?.[1]
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) await fs.rm(path.join(path.dirname(target), n), { recursive: true, force: true }).catch(() => undefined)
  }
}

/** Creates the parent of `target` if missing (a parent that is a file is ENOTDIR, not EEXIST). */
export const ensureParent = async (target: string): Promise<void> => {
  const parent = path.dirname(target)
  const stat = await fs.stat(parent).catch(() => undefined)
  if (stat !== undefined && !stat.isDirectory()) throw new CheckpointError(`saveCheckpoint '${target}': the parent '${parent}' is not a directory (ENOTDIR)`, target, 'ENOTDIR')
  await osStep(target, `create the directory '${parent}'`, () => fs.mkdir(parent, { recursive: true }))
}

/** Writes both files into `temp` and fsyncs them and the directory. */
export const writeTemp = async (target: string, temp: string, manifest: Manifest, bytes: Uint8Array, hooks: SaveHooks): Promise<void> => {
  await osStep(target, `create the temporary directory '${temp}'`, () => fs.mkdir(temp))
  await hooks.onStage?.('temp-created')
  await osStep(target, `write '${path.join(temp, WEIGHTS)}'`, () => writeSynced(path.join(temp, WEIGHTS), bytes))
  await osStep(target, `write '${path.join(temp, MANIFEST)}'`, () => writeSynced(path.join(temp, MANIFEST), JSON.stringify(manifest, null, 1)))
  await syncDir(temp)
  await hooks.onStage?.('files-written')
}

/** `target` → backup, temp → `target`, backup removed; on failure before the second rename the backup is moved back. */
export const swap = async (target: string, temp: string, hooks: SaveHooks): Promise<void> => {
  const backup = backupOf(target)
  const hadOld = await exists(target)
  if (hadOld) await osStep(target, `move the previous checkpoint aside to '${backup}'`, () => fs.rename(target, backup))
  try {
    await hooks.onStage?.('old-moved-aside')
    await osStep(target, `move '${temp}' into place`, () => fs.rename(temp, target))
  } catch (e) {
    if (hadOld) await fs.rename(backup, target).catch(() => undefined)
    throw e
  }
  await syncDir(path.dirname(target))
  try {
    await hooks.onStage?.('swapped')
  } finally {
    if (hadOld) await fs.rm(backup, { recursive: true, force: true }).catch(() => undefined)
    await syncDir(path.dirname(target))
  }
  await hooks.onStage?.('done')
}
