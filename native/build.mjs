// Builds the optional native accelerator at install (node-gyp, against the installed
// Node headers). Never fails the install: without a compiler or OpenBLAS, tfppl runs
// on stock wasm and `backendInfo().nativeStatus` says why.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
if (process.env.TFPPL_NATIVE === '0') {
  console.log('tfppl: TFPPL_NATIVE=0, native accelerator not built')
  process.exit(0)
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`tfppl: the native accelerator is built on linux x64 only (this is ${process.platform} ${process.arch}); using stock wasm`)
  process.exit(0)
}
// node-gyp: npm puts it on PATH for install scripts; otherwise npm's bundled copy.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
const prefix = resolve(dirname(process.execPath), '..')
const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined)
const gypArgs = ['rebuild', ...(nodedir === undefined ? [] : [`--nodedir=${nodedir}`])]
const attempts = [['node-gyp', gypArgs], ...(existsSync(bundled) ? [[process.execPath, [bundled, ...gypArgs]]] : [])]
for (const [cmd, args] of attempts) {
  const r = spawnSync(cmd, args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  if (r.error?.code === 'ENOENT') continue
  if (r.status === 0) {
    console.log('tfppl: native accelerator built (native/build/Release/tfppl_native.node)')
    process.exit(0)
  }
  const why = `${r.stderr ?? ''}`.split('\n').filter((l) => /error|cannot find|not found/i.test(l)).slice(0, 3).join(' | ')
  console.log(`tfppl: the native accelerator did not build (${why || `node-gyp exit ${r.status}`}); tfppl runs on stock wasm. For it: apt-get install -y libopenblas-dev build-essential, then npm rebuild tfppl`)
  process.exit(0)
}
console.log('tfppl: node-gyp not found; the native accelerator was not built (tfppl runs on stock wasm)')

