// Marks the package's `bin` files executable, after `tsc` has written them (tsc writes 0644, so
// `npx tfppl` and `./dist/cli/main.js` failed with "Permission denied").
// Usage: node scripts/chmod-bin.mjs [package directory, default: this repository]
import { chmodSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const manifest = join(root, 'package.json')

let pkg
try {
  pkg = JSON.parse(readFileSync(manifest, 'utf8'))
} catch (err) {
  console.error(`chmod-bin: cannot read ${manifest} (${err.message}); expected a package.json with a "bin" field`)
  process.exit(1)
}

const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {})
for (const bin of bins) {
  const file = join(root, bin)
  let mode
  try {
    mode = statSync(file).mode
  } catch (err) {
    console.error(`chmod-bin: ${file} (the "bin" ${bin} of ${manifest}) is missing (${err.code ?? err.message}); expected tsc to have built it`)
    process.exit(1)
  }
  chmodSync(file, (mode & 0o7777) | 0o111)
}
