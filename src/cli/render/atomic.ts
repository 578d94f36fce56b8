/**
 * Writing output files so that readers never see half of one: the bytes go to a
 * temporary file beside the target, are flushed to disk, and the temporary file
 * is renamed over the target (atomic on POSIX file systems).
 *
 * @example
 * await writeFileAtomic('out/samples.png', samplesPng(batch))
 */
import { randomBytes } from 'node:crypto'
import { open, readdir, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { TfpplError } from '../../errors.js'

/**
 * An output file that could not be written. `path` is the target, `code` the
 * operating system's error code (`ENOENT`, `ENOTDIR`, `EACCES`, `ENOSPC`…) or
 * `'UNKNOWN'`.
 *
 * @example
 * try { await writeFileAtomic(p, data) } catch (e) { if (e instanceof OutputError) console.error(e.path, e.code) }
 */
export class OutputError extends TfpplError {
  constructor(readonly path: string, readonly code: string, detail: string) {
    super(`cannot write ${path}: ${code} (${detail})`)
  }
}

const errorCode = (e: unknown): string =>
  typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'UNKNOWN'

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Flushes a directory's entries (so the rename survives a crash); best effort, as some systems refuse. */
const syncDir = async (dir: string): Promise<void> => {
  try {
    const handle = await open(dir, 'r')
    try { await handle.sync() } finally { await handle.close() }
  } catch {
    // Directory fsync is not supported everywhere; the file itself is already on disk.
  }
}

/** The temporary file of one write to `path`: `.<name>.<pid>-<random>.tmp`, beside it. */
const tempFor = (path: string): string => join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`)

const isAlive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true } catch (e) { return errorCode(e) === 'EPERM' }
}

/** Removes the temporary files that writes to `path` by processes no longer running (killed mid-write) left behind; best effort. */
const removeStaleTemps = async (path: string): Promise<void> => {
  const prefix = `.${basename(path)}.`
  for (const name of await readdir(dirname(path)).catch((): string[] => [])) {
    const pid = name.startsWith(prefix) ? /^(\d+)-[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length))?.[1] : undefined
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) await unlink(join(dirname(path), name)).catch(() => undefined)
  }
}

/**
 * Writes `data` to `path` atomically: into `.<name>.<pid>-<random>.tmp` in the same
 * directory, fsync, rename over `path`. Temporary files of earlier writes to `path`
 * whose process no longer runs (killed mid-write) are removed first. On failure the
 * temporary file is removed and an {@link OutputError} naming `path` and the OS error
 * code is thrown; an existing file at `path` is then left as it was.
 *
 * @throws OutputError if any step fails (missing directory, parent is a file, no space…).
 * @example
 * await writeFileAtomic('out/report.html', reportHtml(report))
 */
export const writeFileAtomic = async (path: string, data: string | Uint8Array): Promise<void> => {
  await removeStaleTemps(path)
  const tmp = tempFor(path)
  let created = false
  try {
    const handle = await open(tmp, 'wx')
    created = true
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
    created = false
  } catch (e) {
    if (created) await unlink(tmp).catch(() => undefined)
    throw new OutputError(path, errorCode(e), errorText(e))
  }
  await syncDir(dirname(path))
}
