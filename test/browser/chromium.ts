/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by
 * puppeteer-core (no browser is ever downloaded). The suite runs in one of CI's
 * three `npm test` runs (wasm with the accelerator), and is skipped, saying why,
 * where Chromium is absent.
 */
import { existsSync, statSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'

export const CHROMIUM = '/usr/bin/chromium'

/** Why the browser suite does not run here, or undefined when it does. */
export const skipReason = (): string | undefined =>
  !existsSync(CHROMIUM) ? `${CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)`
    : process.env['TFPPL_BACKEND'] === 'cpu' || process.env['TFPPL_NATIVE'] === '0' ? 'the browser tests run once, in the TFPPL_BACKEND=wasm TFPPL_NATIVE=1 run of .ci/run'
      : undefined

/** The repository root (the tests run from it, as vitest does). */
export const ROOT = path.resolve('.')

/**
 * Fails at once, saying what to do, when dist/ is missing or older than src/ (the bundles are built from dist/).
 * `TFPPL_STALE_DIST_OK=1` accepts an older dist/ (while src/ is being edited around you).
 */
export const checkBuilt = (): void => {
  const entry = path.join(ROOT, 'dist', 'index.js')
  if (!existsSync(entry)) throw new Error('dist/index.js is missing: run `npm run build` first (.ci/run does)')
  if (process.env['TFPPL_STALE_DIST_OK'] === '1') return
  const built = statSync(entry).mtimeMs
  const newer = readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .find((f) => f.endsWith('.ts') && statSync(path.join(ROOT, 'src', f)).mtimeMs > built)
  if (newer !== undefined) throw new Error(`src/${newer} is newer than dist/: run \`npm run build\` first (.ci/run does)`)
}

/**
 * Starts headless Chromium: software WebGL (SwiftShader through ANGLE) and WebGPU (SwiftShader's Vulkan, which
 * Debian's chromium ships), no sandbox (CI runs as root), and no throttling of background work, so timings are
 * those of a visible tab.
 */
export const launch = (): Promise<Browser> => puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--headless=new', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
    '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-dev-shm-usage'],
  protocolTimeout: 180_000,
})

/** A new page whose console errors and uncaught exceptions are collected in `errors`, for failure messages. */
export const openPage = async (browser: Browser): Promise<{ page: Page; errors: string[] }> => {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
  page.on('pageerror', (e) => { errors.push(e instanceof Error ? e.message : String(e)) })
  return { page, errors }
}
