/**
 * A user's program as a browser page, for the browser tests: a temporary project whose node_modules
 * links to this package (built dist/) and to its tfjs, the program bundled for the browser by esbuild
 * into `www/app.js` (exposed as `window.app`), a page loading it, and, when asked, tfjs-backend-wasm's
 * `.wasm` files in `www/wasm/`.
 */
import { promises as fs } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { build } from 'esbuild'
import type { Browser } from 'puppeteer-core'
import type { StaticServer } from '../../examples/web/serve.js'
import { ROOT } from './chromium.js'

const PAGE = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>tfppl test</title><script type="module">import * as app from "./app.js"; window.app = app</script>'

/**
 * Writes `program` (an ES module importing 'tfppl') into a new temporary project and builds its page;
 * returns the project folder (`program.mjs` runs there in Node too) and the page's folder.
 *
 * @example const { dir, www } = await userPage(PROGRAM, { wasm: true }); server = await serveStatic(www)
 */
export const userPage = async (program: string, opts: { readonly wasm?: boolean } = {}): Promise<{ dir: string; www: string }> => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-page-'))
  await fs.mkdir(path.join(dir, 'node_modules'))
  await fs.symlink(ROOT, path.join(dir, 'node_modules', 'tfppl'), 'dir')
  await fs.symlink(path.join(ROOT, 'node_modules', '@tensorflow'), path.join(dir, 'node_modules', '@tensorflow'), 'dir')   // the user's own tfjs
  await fs.writeFile(path.join(dir, 'program.mjs'), program)
  const www = path.join(dir, 'www')
  await build({ absWorkingDir: dir, entryPoints: ['program.mjs'], outfile: path.join(www, 'app.js'), bundle: true, splitting: false, platform: 'browser', format: 'esm', logLevel: 'silent' })
  await fs.writeFile(path.join(www, 'index.html'), PAGE)
  if (opts.wasm === true) {
    const wasmDir = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')
    await fs.mkdir(path.join(www, 'wasm'))
    for (const f of (await fs.readdir(wasmDir)).filter((f) => f.endsWith('.wasm'))) await fs.copyFile(path.join(wasmDir, f), path.join(www, 'wasm', f))
  }
  return { dir, www }
}

/**
 * Closes what a browser test opened: the browser, the static server, the temporary folder (each if there).
 *
 * @example afterAll(() => closeAll(browser, server, dir))
 */
export const closeAll = async (browser: Browser | undefined, server: StaticServer | undefined, dir: string): Promise<void> => {
  await browser?.close()
  await server?.close()
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true })
}
