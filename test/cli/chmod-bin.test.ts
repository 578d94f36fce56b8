/**
 * scripts/chmod-bin.mjs, run by `npm run build` after tsc: the bin files become executable, so
 * `npx tfppl` inside the repository (and `./dist/cli/main.js`) no longer fail with "Permission denied".
 */
import { spawnSync } from 'node:child_process'
import { promises as fs, readFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const SCRIPT = path.resolve('scripts/chmod-bin.mjs')
const run = (dir: string) => spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8', timeout: 30_000 })

describe('scripts/chmod-bin.mjs', () => {
  let root = ''
  beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-bin-')) })
  afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

  it('npm run build runs it after tsc', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> }
    expect(pkg.scripts['build']).toMatch(/^tsc -p tsconfig\.build\.json && node scripts\/chmod-bin\.mjs$/)
    expect(pkg.bin['tfppl']).toBe('dist/cli/main.js')
  })

  it.skipIf(process.platform === 'win32')('marks every bin of package.json executable, keeping the other mode bits', async () => {
    const dir = path.join(root, 'pkg')
    await fs.mkdir(path.join(dir, 'dist', 'cli'), { recursive: true })
    await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', bin: { x: 'dist/cli/main.js', y: 'dist/y.js' } }))
    await fs.writeFile(path.join(dir, 'dist', 'cli', 'main.js'), '#!/usr/bin/env node\n', { mode: 0o644 })
    await fs.writeFile(path.join(dir, 'dist', 'y.js'), '', { mode: 0o600 })
    const r = run(dir)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect((await fs.stat(path.join(dir, 'dist', 'cli', 'main.js'))).mode & 0o777).toBe(0o755)
    expect((await fs.stat(path.join(dir, 'dist', 'y.js'))).mode & 0o777).toBe(0o711)
  })

  it('a bin that tsc did not build is an error naming it', async () => {
    const dir = path.join(root, 'missing')
    await fs.mkdir(dir)
    await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', bin: 'dist/main.js' }))
    const r = run(dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`chmod-bin: ${path.join(dir, 'dist', 'main.js')} (the "bin" dist/main.js of ${path.join(dir, 'package.json')}) is missing (ENOENT)`)
  })
})
