/**
 * Plain PyTorch as an outside reference in `npm run bench`, when this machine has it: a child
 * process (`bench/pytorch-vae.py --serve`) that runs the same training step on request, so its blocks
 * alternate with tfppl's and both see the same minute of a shared machine; and the same script run
 * alone (a fresh process, nothing else of ours running), the figure the in-round one must agree with.
 * Optional: without PyTorch (`apt-get install -y python3-torch`) the benchmark says so and goes on.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The models bench/pytorch-vae.py has twins of. */
export type TorchModel = 'mlp-vae' | 'conv-vae' | 'vq-vae'

/** A running PyTorch reference: `steps(n)` runs n steps and resolves to their times in ms (wall clock, inside the step) and the process's CPU time in each. */
export interface PytorchReference {
  readonly torch: string
  readonly data: string
  readonly python: string
  readonly pid: number | undefined
  readonly steps: (n: number) => Promise<{ ms: number[]; cpuMs: number[] }>
  readonly close: () => void
}

const SCRIPT = fileURLToPath(new URL('./pytorch-vae.py', import.meta.url))

/** `cmd args` run on `cpus` (taskset's list form, e.g. '1' or '0,1') when given. */
const pinned = (cpus: string | undefined, cmd: string, args: string[]): [string, string[]] =>
  cpus === undefined ? [cmd, args] : ['taskset', ['-c', cpus, cmd, ...args]]

/** Starts one interpreter; resolves undefined when it cannot run the script (no PyTorch, no Python). */
const tryStart = (python: string, model: TorchModel, threads: number, cpus: string | undefined): Promise<PytorchReference | undefined> => new Promise((resolve) => {
  const [cmd, args] = pinned(cpus, python, [SCRIPT, '--serve', '--model', model, '--threads', String(threads)])
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'] })
  const lines = createInterface({ input: child.stdout })
  const waiting: { done: (r: { ms: number[]; cpuMs: number[] }) => void; fail: (err: Error) => void }[] = []
  let ready = false
  child.on('error', () => resolve(undefined))
  child.on('exit', (code) => {
    if (!ready) resolve(undefined)
    for (const w of waiting.splice(0)) w.fail(new Error(`bench: the PyTorch reference (${python}) exited with code ${code} mid-run`))
  })
  lines.on('line', (line) => {
    if (ready) { waiting.shift()?.done(JSON.parse(line) as { ms: number[]; cpuMs: number[] }); return }
    if (!line.startsWith('{"ready"')) return   // anything an import prints before the reference is up
    const first = JSON.parse(line) as { ready: boolean; torch: string; data: string }
    ready = true
    resolve({
      torch: first.torch, data: first.data, python, pid: child.pid,
      steps: (n) => new Promise((done, fail) => { waiting.push({ done, fail }); child.stdin.write(`${n}\n`) }),
      close: () => { child.stdin.end() },
    })
  })
})

const candidates = (): string[] => [process.env['TFPPL_PYTHON'], '/usr/bin/python3', 'python3'].filter((p): p is string => p !== undefined && p !== '')

/**
 * The first interpreter (TFPPL_PYTHON, then /usr/bin/python3, then python3) that imports torch and
 * finishes the reference's warm-up, serving `model`'s step with `threads` threads, on `cpus` when given;
 * undefined when none does.
 *
 * @example
 * const ref = await startPytorch(1); if (ref) console.log((await ref.steps(15)).ms); ref?.close()
 */
export const startPytorch = async (threads: number, model: TorchModel = 'mlp-vae', cpus?: string): Promise<PytorchReference | undefined> => {
  for (const python of candidates()) {
    const ref = await tryStart(python, model, threads, cpus)
    if (ref !== undefined) return ref
  }
  return undefined
}

/** What bench/pytorch-vae.py prints when run alone. */
export interface StandaloneRun { readonly medianMs: number; readonly p10Ms: number; readonly p90Ms: number; readonly cpuMedianMs: number; readonly steps: number }

/**
 * `bench/pytorch-vae.py` run alone (a fresh process; this one waits, idle), `steps` steps after `warmup`:
 * the figure the in-round reference is checked against.
 *
 * @example const alone = standalonePytorch('/usr/bin/python3', 'conv-vae', 1, 30, 5, '1')
 */
export const standalonePytorch = (python: string, model: TorchModel, threads: number, steps: number, warmup: number, cpus?: string): StandaloneRun => {
  const [cmd, args] = pinned(cpus, python, [SCRIPT, '--model', model, '--threads', String(threads), '--steps', String(steps), '--warmup', String(warmup)])
  const out = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const line = out.stdout.trim().split('\n').pop() ?? ''
  if (out.status !== 0 || !line.startsWith('{')) throw new Error(`bench: ${python} ${SCRIPT} --model ${model} exited with ${out.status}`)
  return JSON.parse(line) as StandaloneRun
}

/**
 * Pins every thread of this process to `cpus` (taskset's list form); false when taskset is missing or refuses.
 *
 * @example pinSelf('1')   // this process's threads (and the children it starts after) run on CPU 1 only
 */
export const pinSelf = (cpus: string): boolean => {
  try { execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' }); return true } catch { return false }
}

/** CPU time (user + system, ms) a process has used so far, from /proc; NaN where /proc is not there. */
export const cpuMsOf = (pid: number | undefined): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10   // clock ticks of 10 ms
  } catch { return Number.NaN }
}
