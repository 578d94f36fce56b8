// Sums vitest JSON reports and prints the closing line CI reads: "N passed, N failed".
// Usage: node scripts/count-tests.mjs report.json [more.json …]
import { readFileSync } from 'node:fs'

let passed = 0
let failed = 0
for (const file of process.argv.slice(2)) {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'))
    passed += r.numPassedTests ?? 0
    // A file that fails without a failed test (it did not load) counts as one failure.
    const loadErrors = (r.testResults ?? []).filter((s) => s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed')).length
    failed += (r.numFailedTests ?? 0) + loadErrors
  } catch (err) {
    console.error(`count-tests: cannot read ${file}: ${err.message}`)
    failed += 1
  }
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
