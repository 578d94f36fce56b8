/**
 * Class fidelity of trained CVAE runs (from `tfppl train cvae`) by the judges of
 * bench/judges.ts, trained once for all runs: `--samples-per-class` class-conditional
 * samples per class and run. Writes bench/results/fashion-cvae-fidelity.json. Usage:
 *   npx tsx bench/cvae-fidelity.ts --run runs/a[,runs/b…] [--conv-judge-epochs 5] [--samples-per-class 1000] [--seed 0]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fashionMnist, initBackend } from 'tfppl'
import { openRun } from '../dist/cli/session.js'
import { trainJudges, verdicts } from './judges.js'

const flag = (name: string, fallback: string): string => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1]! : fallback }
const runs = flag('run', 'runs/fashion-cvae').split(',')
const [convEpochs, n, seed] = [Number(flag('conv-judge-epochs', '5')), Number(flag('samples-per-class', '1000')), Number(flag('seed', '0'))]
await initBackend()
const { train, test } = fashionMnist()
const judges = trainJudges(train, test, convEpochs)
const results = []
for (const run of runs) {
  const session = await openRun(run)
  console.log(run)
  results.push({ run, ...verdicts(session.model, judges, n, seed) })
  session.dispose()
}
mkdirSync('bench/results', { recursive: true })
writeFileSync('bench/results/fashion-cvae-fidelity.json', JSON.stringify({ samplesPerClass: n, convJudgeEpochs: convEpochs, seed, results }, null, 2) + '\n')
