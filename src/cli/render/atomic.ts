/**
 * Writing output files so that readers never see half of one: the bytes go to a
 * temporary file beside the target, are flushed to disk, and the temporary file
 * is renamed over the target (atomic on POSIX file systems).
 *
 * @example
 * await writeFileAtomic('out/samples.png', samplesPng(batch))
 */
import { randomBytes } from 'node:crypto'
import { open, rename, unlink } from 'node:fs/promises'
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

/**
 * Writes `data` to `path` atomically: into `.<name>.<random>.tmp` in the same
 * directory, fsync, rename over `path`. On failure the temporary file is
 * removed and an {@link OutputError} naming `path` and the OS error code is thrown;
 * an existing file at `path` is then left as it was.
 *
 * @throws OutputError if any step fails (missing directory, parent is a file, no space…).
 * @example
 * await writeFileAtomic('out/report.html', reportHtml(report))
 */
export const writeFileAtomic = async (path: string, data: string | Uint8Array): Promise<void> => {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
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
