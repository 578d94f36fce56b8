/**
 * The package's entries as users get them, from the built `dist/` (`npm run build` first, as .ci/run does):
 * - a five-line program importing 'tfppl' bundles for the browser (esbuild, platform 'browser', no
 *   externals: a `node:` module or Node builtin anywhere on the way is a build error), and the root
 *   brings none of the Node-only modules and not the `@tensorflow/tfjs` umbrella;
 * - tfppl's own code in that bundle names no Node global (`process`, `Buffer`, `setImmediate`, …);
 * - the bundle runs where there is no Node (a worker-like context without those globals) and
 *   trains to the same losses as the Node entry;
 * - in Node, 'tfppl' is the Node entry (initBackend, loadCheckpoint, mnistDigits, the accelerator
 *   started as the sources start it), and `--conditions=browser` gives the core.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, promises as fs, readdirSync, realpathSync, statSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as vm from 'node:vm'
import { type BuildOptions, build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backendInfo } from '../../src/backend/init.js'

const ROOT = path.resolve('.')
/** ROOT with symlinks resolved, as esbuild names the files it reads. */
const REAL_ROOT = realpathSync(ROOT)

/** Modules of dist/ that need Node: the root must not reach them under the `browser` condition. */
const NODE_ONLY = ['node.js', 'platform-node.js', 'backend/native.js', 'inference/checkpoint.js', 'inference/checkpoint-files.js',
  'inference/fit-checkpoint.js', 'data/idx.js', 'data/mnist-digits.js', 'data/fashion-mnist.js', 'data/node.js', 'data/index.js']

/** What tfppl's own code may import in a browser. */
const BROWSER_PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-core/dist/register_all_gradients.js', '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-webgpu', 'fp-ts/lib/Either.js', 'io-ts']

/** A Node global or module named in code (a property `x.process` aside; `globalThis.process` included). */
const NODE_NAMES = /(?<![\w$.])(process|Buffer|setImmediate|require|__dirname|__filename|global)(?![\w$])|globalThis\.(process|Buffer|setImmediate|require)\b|\bnode:[a-z_]+|import\.meta/g

const FIVE_LINES = `import { initBackend, normal, kl } from 'tfppl'
const info = await initBackend()
const d = normal(0, 1)
console.log(info.name, info.nativeStatus)
console.log('kl =', kl(d, d).dataSync()[0])
`

/** A few SVI steps and two epochs of fit on cpu, as a module exporting `run`: the same losses wherever it runs. */
const TRAIN = `import * as tf from '@tensorflow/tfjs-core'
import { constraints, elbo, gen, initBackend, normal, observe, param, sample, svi } from 'tfppl'
export const run = async () => {
  await initBackend({ backend: 'cpu' })
  const x = tf.linspace(-2, 2, 50), y = tf.add(tf.mul(x, 1.5), tf.randomNormal([50], 0, 0.3, 'float32', 1))
  const model = (x, y) => gen(function* () { const w = yield* sample('w', normal(0, 5)); yield* observe('y', normal(tf.mul(x, w), 0.3).toEvent(1), y) })
  const guide = () => gen(function* () { yield* sample('w', normal(yield* param('loc', tf.scalar(0)), yield* param('scale', tf.scalar(0.5), { constraint: constraints.positive }))) })
  const s = svi({ optimizer: tf.train.adam(0.05), loss: elbo(), seed: 0 })
  const losses = []
  for (let i = 0; i < 5; i++) losses.push(s.step(model, guide, x, y))
  const history = await s.fit(model, guide, [x, y], { epochs: 2, batchSize: 25 })
  return { losses, epochs: history.epochs.map((r) => r.trainLoss), loc: s.params.value('loc').dataSync()[0] }
}
`

/** The newest source file, when it is newer than the build. */
const newerSource = (built: number): string | undefined =>
  readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .find((f) => statSync(path.join(ROOT, 'src', f)).mtimeMs > built)

/** Fails at once, saying what to do, when dist/ is missing or older than src/. */
const checkBuilt = (): void => {
  const entry = path.join(ROOT, 'dist', 'node.js')
  if (!existsSync(entry)) throw new Error('dist/node.js is missing: run `npm run build` first (.ci/run does)')
  const newer = newerSource(statSync(entry).mtimeMs)
  if (newer !== undefined) throw new Error(`src/${newer} is newer than dist/: run \`npm run build\` first (.ci/run does)`)
}

/** Runs esbuild for the browser from `dir` (where node_modules/tfppl links to this package); its errors in the failure message. */
const bundle = async (dir: string, entry: string, opts: BuildOptions = {}) => {
  try {
    const r = await build({ absWorkingDir: dir, entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false,
      metafile: true, logLevel: 'silent', ...opts })
    const out = r.outputFiles?.[0], meta = r.metafile
    if (out === undefined || meta === undefined) throw new Error('esbuild returned no bundle')
    return { text: out.text, inputs: Object.keys(meta.inputs).map((f) => path.resolve(dir, f)), imports: Object.values(meta.outputs).flatMap((o) => o.imports.map((i) => i.path)) }
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string } | null }[] }).errors ?? []
    throw new Error(`esbuild failed for the browser:\n${errors.map((x) => `${x.location?.file ?? ''}: ${x.text}`).join('\n') || String(e)}`)
  }
}

/** The dist/ files (relative) and the packages (`@scope/name` or `name`) among a bundle's inputs (absolute paths: esbuild's are relative to its working directory). */
const inputsOf = (inputs: readonly string[]) => ({
  dist: inputs.filter((f) => f.startsWith(path.join(REAL_ROOT, 'dist') + path.sep)).map((f) => path.relative(path.join(REAL_ROOT, 'dist'), f)),
  packages: [...new Set(inputs.flatMap((f) => {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.slice(f.lastIndexOf('node_modules/')))
    return m === null ? [] : [m[1]!]
  }))],
})

/** Runs `node` (cwd: this package; `env` added to this process's) on a module's source; its last stdout line parsed as JSON. */
const nodeJson = (source: string, args: readonly string[] = [], cwd = ROOT, env: Record<string, string> = {}): Record<string, unknown> => {
  const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', source], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } })
  const last = r.stdout.trim().split('\n').pop() ?? ''
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`node exited ${r.status}: ${r.stderr.split('\n').slice(-8).join('\n')}`)
  return JSON.parse(last) as Record<string, unknown>
}

describe('the package for the browser and for Node (built dist/)', () => {
  let dir = ''
  beforeAll(async () => {
    checkBuilt()
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tfppl-bundle-'))
    await fs.mkdir(path.join(dir, 'node_modules'))
    await fs.symlink(ROOT, path.join(dir, 'node_modules', 'tfppl'), 'dir')
    await fs.symlink(path.join(ROOT, 'node_modules', '@tensorflow'), path.join(dir, 'node_modules', '@tensorflow'), 'dir')   // the user's own tfjs-core
    await fs.writeFile(path.join(dir, 'five.mjs'), FIVE_LINES)
    await fs.writeFile(path.join(dir, 'train.mjs'), TRAIN)
    await fs.writeFile(path.join(dir, 'everything.mjs'), "import * as tfppl from 'tfppl'\nconsole.log(Object.keys(tfppl).length)\n")
  })
  afterAll(async () => { if (dir !== '') await fs.rm(dir, { recursive: true, force: true }) })

  it("a five-line program importing 'tfppl' bundles for the browser with no externals; no Node-only module, no umbrella; GPU backends load on demand", async () => {
    const b = await build({ absWorkingDir: dir, entryPoints: ['five.mjs'], bundle: true, platform: 'browser', format: 'esm', splitting: true, outdir: 'out',
      write: false, metafile: true, logLevel: 'silent', minify: true })
    // What loads with the page: the entry and the chunks it imports statically; the rest loads when a dynamic import() runs.
    const outs = b.metafile.outputs
    const eager = new Set<string>()
    const visit = (file: string): void => {
      if (eager.has(file)) return
      eager.add(file)
      for (const i of outs[file]!.imports) if (i.kind === 'import-statement') visit(i.path)
    }
    visit(Object.keys(outs).find((f) => outs[f]!.entryPoint === 'five.mjs')!)
    const inputsIn = (files: readonly string[]) => files.flatMap((f) => Object.keys(outs[f]!.inputs).map((i) => path.resolve(dir, i)))
    const lazy = inputsOf(inputsIn(Object.keys(outs).filter((f) => !eager.has(f)))).packages
    const { dist, packages } = inputsOf(inputsIn([...eager]))
    const entry = { bytes: [...eager].reduce((n, f) => n + outs[f]!.bytes, 0) }
    expect(dist).toContain('index.js')
    expect(dist.filter((f) => NODE_ONLY.includes(f))).toEqual([])
    expect(packages.filter((p) => /^@tensorflow\/tfjs(-backend-webgl|-backend-webgpu|-layers|-converter|-data)?$/.test(p))).toEqual([])
    expect(lazy).toEqual(expect.arrayContaining(['@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-webgpu']))   // chunks fetched when initBackend tries them
    expect(entry.bytes).toBeLessThan(700_000)   // measured 551 KB minified (150 KB gzipped); the umbrella made it 1.2 MB
  })

  it('every name of the root bundles for the browser, and tfppl\'s own code names no Node global or module', async () => {
    const all = await bundle(dir, 'everything.mjs')
    expect(inputsOf(all.inputs).dist.filter((f) => NODE_ONLY.includes(f))).toEqual([])
    const own = await bundle(ROOT, './dist/index.js', { packages: 'external', minifyWhitespace: true, minifySyntax: true })
    expect(own.text.match(NODE_NAMES) ?? []).toEqual([])
    expect([...new Set(own.imports)].filter((p) => !BROWSER_PACKAGES.includes(p))).toEqual([])
  })

  it('the bundle runs without Node (a worker-like context) and trains to the losses of the Node entry', async () => {
    const b = await bundle(dir, 'train.mjs', { format: 'iife', globalName: 'app' })
    const lines: string[] = []
    const log = (...xs: unknown[]) => { lines.push(xs.join(' ')) }
    const context = vm.createContext({ console: { ...console, log }, setTimeout, clearTimeout, MessageChannel, TextEncoder, TextDecoder, performance, URL, queueMicrotask, atob, btoa })
    vm.runInContext('globalThis.self = globalThis; globalThis.WorkerGlobalScope = function WorkerGlobalScope() {}', context)
    expect(vm.runInContext('[typeof process, typeof require, typeof Buffer, typeof setImmediate].join()', context)).toBe('undefined,undefined,undefined,undefined')
    vm.runInContext(b.text, context)
    const inBrowser = await (vm.runInContext('app.run()', context) as Promise<unknown>)
    const inNode = nodeJson("const { run } = await import('./train.mjs'); console.log(JSON.stringify(await run()))", [], dir)
    expect(JSON.parse(JSON.stringify(inBrowser))).toEqual(inNode)
    expect(lines.filter((l) => l.startsWith('epoch '))).toHaveLength(2)   // fit's progress through the portable platform
  })

  it("in Node, 'tfppl' is the Node entry: initBackend, loadCheckpoint, the datasets, the accelerator as the sources start it", () => {
    const names = ['initBackend', 'loadCheckpoint', 'saveCheckpoint', 'mnistDigits', 'fashionMnist', 'idxDataset', 'normal', 'svi']
    const r = nodeJson(`const tp = await import('tfppl'), n = await import('tfppl/node'), x = await import('tfppl/internals'); const i = await tp.initBackend()
      console.log(JSON.stringify({ kinds: ${JSON.stringify(names)}.map((k) => typeof tp[k]), same: n.initBackend === tp.initBackend, name: i.name, native: i.native, nativeStatus: i.nativeStatus,
        internals: [typeof x.subSeed, typeof x.scoped, typeof tp.subSeed, typeof tp.scoped] }))`)
    expect(r['kinds']).toEqual(names.map(() => 'function'))
    expect(r['internals']).toEqual(['function', 'function', 'undefined', 'undefined'])   // building blocks under 'tfppl/internals', not at the root
    expect(r['same']).toBe(true)
    const here = backendInfo()   // the sources, on the Node platform (test/setup.ts), with the same environment
    expect({ name: r['name'], native: r['native'], nativeStatus: r['nativeStatus'] }).toEqual({ name: here.name, native: here.native, nativeStatus: here.nativeStatus })
    const addon = existsSync(path.join(ROOT, 'native', 'build', 'Release', 'tfppl_native.node'))
    if (here.name === 'wasm' && process.env['TFPPL_NATIVE'] !== '0' && addon) expect(r['nativeStatus']).toMatch(/^active \(OpenBLAS/)
  })

  it("under the browser condition, Node resolves 'tfppl' to the core: no checkpoint files, no accelerator, no tensorflow", () => {
    const r = nodeJson(`const tp = await import('tfppl'); const i = await tp.initBackend({ backend: 'wasm' })
      const tensorflow = await tp.initBackend({ backend: 'tensorflow' }).then(() => 'started', (e) => e.name + ': ' + e.message)
      console.log(JSON.stringify({ loadCheckpoint: typeof tp.loadCheckpoint, mnistDigits: typeof tp.mnistDigits, initBackend: typeof tp.initBackend,
        name: i.name, native: i.native, nativeStatus: i.nativeStatus, skipped: i.skipped, tensorflow }))`, ['--conditions=browser'])
    expect(r).toMatchObject({ loadCheckpoint: 'undefined', mnistDigits: 'undefined', initBackend: 'function', name: 'wasm', native: false })
    expect(r['nativeStatus']).toMatch(/^unavailable: the accelerator is a Node addon/)
    expect(r['tensorflow']).toMatch(/^BackendError: the backend 'tensorflow' was requested \(initBackend option\) but is unavailable: .*Node only/)
  })

  it('the core alone in Node chooses automatically without tensorflow, saying why', () => {
    const r = nodeJson(`const tp = await import('./dist/index.js'); const i = await tp.initBackend()
      console.log(JSON.stringify({ name: i.name, skipped: i.skipped }))`, [], undefined, { TFPPL_BACKEND: 'cpu' })
    expect(r['name']).toBe('wasm')   // TFPPL_BACKEND is not read by the core: no environment on the portable platform
    expect(r['skipped']).toEqual([   // the browser order, webgpu → webgl → wasm → cpu: no GPU API in Node without its entry
      expect.stringMatching(/^@tensorflow\/tfjs-backend-webgpu: no WebGPU here \(navigator\.gpu is undefined\)/),
      expect.stringMatching(/^@tensorflow\/tfjs-backend-webgl: no WebGL2 context/),
    ])
  })
})
