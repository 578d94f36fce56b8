/**
 * Plain PyTorch as an outside reference in `npm run bench`, when this machine has it: a child
 * process (`bench/pytorch-vae.py --serve`) that runs the same VAE step on request, so its rounds
 * interleave with tfppl's and both see the same minute of a shared machine. Optional: without
 * PyTorch (`apt-get install -y python3-torch`) the benchmark says so and goes on.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** A running PyTorch reference: `steps(n)` runs n steps and resolves to their times in ms. */
export interface PytorchReference {
  readonly torch: string
  readonly data: string
  readonly python: string
  readonly steps: (n: number) => Promise<number[]>
  readonly close: () => void
}

const SCRIPT = fileURLToPath(new URL('./pytorch-vae.py', import.meta.url))

/** Starts one interpreter; resolves undefined when it cannot run the script (no PyTorch, no Python). */
const tryStart = (python: string, threads: number): Promise<PytorchReference | undefined> => new Promise((resolve) => {
  const child = spawn(python, [SCRIPT, '--serve', '--threads', String(threads)], { stdio: ['pipe', 'pipe', 'ignore'] })
  const lines = createInterface({ input: child.stdout })
  const waiting: { done: (ms: number[]) => void; fail: (err: Error) => void }[] = []
  let ready = false
  child.on('error', () => resolve(undefined))
  child.on('exit', (code) => {
    if (!ready) resolve(undefined)
    for (const w of waiting.splice(0)) w.fail(new Error(`bench: the PyTorch reference (${python}) exited with code ${code} mid-run`))
  })
  lines.on('line', (line) => {
    if (ready) { waiting.shift()?.done((JSON.parse(line) as { ms: number[] }).ms); return }
    if (!line.startsWith('{"ready"')) return   // anything an import prints before the reference is up
    const first = JSON.parse(line) as { ready: boolean; torch: string; data: string }
    ready = true
    resolve({
      torch: first.torch, data: first.data, python,
      steps: (n) => new Promise((done, fail) => { waiting.push({ done, fail }); child.stdin.write(`${n}\n`) }),
      close: () => { child.stdin.end() },
    })
  })
})

/**
 * The first interpreter (TFPPL_PYTHON, then python3, then /usr/bin/python3) that imports torch and
 * finishes the reference's warm-up; undefined when none does.
 *
 * @example
 * const ref = await startPytorch(1); if (ref) console.log(await ref.steps(15)); ref?.close()
 */
export const startPytorch = async (threads: number): Promise<PytorchReference | undefined> => {
  const candidates = [process.env['TFPPL_PYTHON'], 'python3', '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== '')
  for (const python of candidates) {
    const ref = await tryStart(python, threads)
    if (ref !== undefined) return ref
  }
  return undefined
}
