/**
 * Creating the run directory of `tfppl train` (`--out`). Node's recursive
 * `mkdir` never returns for a path such as `/proc/x`, where `mkdir` fails with
 * ENOENT under a parent that exists (it retries the parent and the child
 * forever), so the missing folders are created one at a time here, and any
 * refusal is a UsageError naming the folder, the reason and what was expected.
 */
import { constants, promises as fs } from 'node:fs'
import * as path from 'node:path'
import { UsageError } from './errors.js'

const codeOf = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'UNKNOWN'
}

/** What is at `p`: a directory, something else, nothing (or a file on the way), or the OS error code. */
const kindOf = async (p: string): Promise<'dir' | 'file' | 'none' | string> => {
  try {
    return (await fs.stat(p)).isDirectory() ? 'dir' : 'file'
  } catch (e) {
    const code = codeOf(e)
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'none' : code
  }
}

/** The OS refusal in words. */
const reason = (code: string, dir: string): string => {
  switch (code) {
    case 'EACCES': case 'EPERM': return 'EACCES: permission denied'
    case 'EROFS': return 'EROFS: a read-only file system'
    case 'ENOSPC': return 'ENOSPC: no space left on the device'
    case 'ENOENT': return `ENOENT: ${path.dirname(dir)} exists but refuses new folders`
    default: return code
  }
}

const refuse = (out: string, dir: string, why: string, verb = 'create'): UsageError =>
  new UsageError(`tfppl train: --out ${out}: cannot ${verb} ${dir} (${why}); expected a directory path that can be created and written`)

/** The missing folders of `abs`, outermost first, below its nearest existing ancestor (which must be a directory). */
const missingFolders = async (out: string, abs: string): Promise<string[]> => {
  const missing: string[] = []
  for (let p = abs; ; p = path.dirname(p)) {
    const kind = await kindOf(p)
    if (kind === 'dir') return missing
    if (kind === 'file') throw refuse(out, abs, `${p} is a file, not a directory`)
    if (kind !== 'none') throw refuse(out, abs, reason(kind, p))
    missing.unshift(p)
    if (path.dirname(p) === p) return missing
  }
}

/**
 * Creates the run directory `out` (and its missing parents) and checks that it can be written;
 * a UsageError naming `--out`, the folder and the reason otherwise. Never hangs. Returns the
 * folders it created, outermost first (see {@link removeCreated}).
 *
 * @example await createRunDir('runs/vae')
 */
export const createRunDir = async (out: string): Promise<readonly string[]> => {
  const abs = path.resolve(out)
  const created: string[] = []
  for (const dir of await missingFolders(out, abs)) {
    try {
      await fs.mkdir(dir)
      created.push(dir)
    } catch (e) {
      const code = codeOf(e)
      if (code === 'EEXIST' && (await kindOf(dir)) === 'dir') continue   // made meanwhile by someone else
      throw refuse(out, dir, code === 'EEXIST' ? `${dir} is a file, not a directory` : reason(code, dir))
    }
  }
  try {
    await fs.access(abs, constants.W_OK)
  } catch (e) {
    await removeCreated(created)
    throw refuse(out, abs, reason(codeOf(e), abs), 'write in')
  }
  return created
}

/**
 * Removes the folders {@link createRunDir} created (innermost first) when the command fails before
 * writing into them: a refused run leaves no trace. A folder that is not empty is left as it is.
 *
 * @example const created = await createRunDir(out); try { … } catch (e) { await removeCreated(created); throw e }
 */
export const removeCreated = async (created: readonly string[]): Promise<void> => {
  for (const dir of [...created].reverse()) {
    try { await fs.rmdir(dir) } catch { /* not empty, or gone: leave it */ }
  }
}
