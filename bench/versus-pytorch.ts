/**
 * tfppl's training step against its PyTorch twin (bench/pytorch-vae.py), the way `npm run bench` times
 * them: in repetitions that interleave 1 and 2 threads, each repetition a few rounds in which a block
 * of tfppl steps and a block of PyTorch steps (a served child process) alternate, and then the same
 * PyTorch step run alone (a fresh `pytorch-vae.py`, nothing else of ours running) as the check on the
 * in-round figure.
 *
 * What keeps the in-round reference honest (bench/RESULTS.md, "The PyTorch reference"):
 * - each side runs in its own block with the other idle, and every block starts after a quiet gap
 *   (`gapMs`): an OpenBLAS pthread worker busy-waits ≈ 0.1 s after its last product before it sleeps
 *   (and libgomp's workers spin too), so a block started straight after the other side's block shares
 *   its cores with that spinning thread. The other side's CPU use during every timed block is
 *   measured and reported (`idleCpu`: the servers, this process, the other thread count's server), as are
 *   the idle servers' during the standalone run;
 * - every repetition starts fresh PyTorch servers, and the script keeps glibc from unmapping freed
 *   memory (bench/pytorch-vae.py, `keep_freed_memory`): one process's allocator state sets at most
 *   one repetition's figure;
 * - with one thread both processes (and the standalone run) are pinned to the same core; with two,
 *   to the same two;
 * - the in-round figure is the median over repetitions of each repetition's median, printed with
 *   each side's spread (min–max over repetitions) and the standalone figure of the same repetitions.
 */
import { cpus } from 'node:os'
import { quantile } from './images.js'
import { cpuMsOf, pinSelf, standalonePytorch, startPytorch } from './pytorch-reference.js'
import type { PytorchReference, TorchModel } from './pytorch-reference.js'

/** How long each comparison runs. */
export interface VersusPlan {
  readonly repetitions: number
  readonly rounds: number
  readonly steps: number
  readonly warmup: number
  readonly standaloneSteps: number
  /** Run the standalone script in every repetition (else once, in the middle one). */
  readonly standaloneEveryRepetition: boolean
  readonly gapMs: number
}

/** One model at one thread count: medians and spreads of both sides, the standalone figure and the idle-side check. */
export interface VersusRow {
  readonly model: TorchModel
  readonly threads: number
  readonly cpus: string
  /** tfppl: median over repetitions of each repetition's median ms/step, and those per-repetition medians. */
  readonly medianMs: number
  readonly dslReps: number[]
  /** PyTorch in the same rounds, likewise. */
  readonly torchMs: number
  readonly torchReps: number[]
  /** PyTorch run alone (bench/pytorch-vae.py), medians of its runs. */
  readonly standaloneMs: number
  readonly standaloneReps: number[]
  /** CPU time per step (median over repetitions of repetition medians): tfppl's process, PyTorch in the rounds, PyTorch alone. */
  readonly cpuMs: { readonly dsl: number; readonly torch: number; readonly standalone: number }
  /** CPU time the other side used while a side's block ran, as a share of that block's wall time: the largest seen. */
  readonly idleCpu: { readonly torchWhileDsl: number; readonly dslWhileTorch: number; readonly otherServerWhileTorch: number; readonly serverWhileStandalone: number }
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms))
const median = (xs: readonly number[]): number => quantile(xs, 0.5)

/** The CPU list a run with `threads` threads is pinned to: the last `threads` CPUs. */
export const cpuList = (threads: number): string => {
  const n = cpus().length
  return Array.from({ length: Math.min(threads, n) }, (_, i) => n - Math.min(threads, n) + i).join(',')
}

/**
 * tfppl's `step(i)` (ms for one step on batch i, configured for `threads` by `configure`) against
 * PyTorch's twin of `model`, for every thread count in `threadCounts`, interleaved by repetition.
 * Resolves undefined when no Python with torch is found.
 *
 * @example const rows = await versusPytorch('mlp-vae', [1, 2], (t) => setNative(true, t), (i) => timeOne(i), plan)
 */
export const versusPytorch = async (
  model: TorchModel, threadCounts: readonly number[], configure: (threads: number) => void,
  step: (i: number) => number, plan: VersusPlan,
): Promise<{ rows: VersusRow[]; torch: string; python: string } | undefined> => {
  const allCpus = cpuList(cpus().length)
  const refs = new Map<number, PytorchReference>()
  let about: { torch: string; python: string } | undefined
  /** Fresh PyTorch servers, one per thread count (the previous ones closed); false when none can start. */
  const restart = async (): Promise<boolean> => {
    for (const r of refs.values()) r.close()
    refs.clear()
    for (const t of threadCounts) {
      const ref = await startPytorch(t, model, cpuList(t))
      if (ref === undefined) { for (const r of refs.values()) r.close(); return false }
      refs.set(t, ref)
      about ??= { torch: ref.torch, python: ref.python }
    }
    return true
  }
  if (!await restart()) return undefined
  /** CPU ms used so far by the idle PyTorch servers (all of them, or all but `except`). */
  const serversCpu = (except?: PytorchReference): number => [...refs.values()].filter((r) => r !== except).reduce((sum, r) => sum + cpuMsOf(r.pid), 0)
  const acc = new Map(threadCounts.map((t) => [t, { dsl: [] as number[], torch: [] as number[], alone: [] as number[], dslCpu: [] as number[], torchCpu: [] as number[], aloneCpu: [] as number[], torchWhileDsl: 0, dslWhileTorch: 0, otherServerWhileTorch: 0, serverWhileStandalone: 0 }]))
  let done = 0
  for (const t of threadCounts) { pinSelf(cpuList(t)); configure(t); for (let i = 0; i < plan.warmup; i++) step(done++) }
  for (let rep = 0; rep < plan.repetitions; rep++) {
    // A fresh server in every repetition: one process's state (its allocator, where its pages landed) sets one repetition, not all.
    if (rep > 0 && !await restart()) throw new Error(`bench: the PyTorch reference (${about!.python}) did not start again for repetition ${rep + 1}`)
    // Alternate which thread count goes first, so neither always follows the other.
    const order = rep % 2 === 0 ? threadCounts : [...threadCounts].reverse()
    for (const t of order) {
      const a = acc.get(t)!, ref = refs.get(t)!
      pinSelf(cpuList(t)); configure(t)
      for (let i = 0; i < 2; i++) step(done++)   // settle after the switch, untimed
      const dsl: number[] = [], torch: number[] = [], dslCpu: number[] = [], torchCpu: number[] = []
      for (let r = 0; r < plan.rounds; r++) {
        for (const side of r % 2 === 0 ? ['dsl', 'torch'] as const : ['torch', 'dsl'] as const) {
          await sleep(plan.gapMs)
          const t0 = performance.now()
          if (side === 'dsl') {
            const c0 = serversCpu()
            for (let i = 0; i < plan.steps; i++) { const u0 = process.cpuUsage(); dsl.push(step(done++)); const u = process.cpuUsage(u0); dslCpu.push((u.user + u.system) / 1000) }
            a.torchWhileDsl = Math.max(a.torchWhileDsl, (serversCpu() - c0) / (performance.now() - t0))
          } else {
            const u0 = process.cpuUsage(), o0 = serversCpu(ref)
            const got = await ref.steps(plan.steps); torch.push(...got.ms); torchCpu.push(...got.cpuMs)
            const u = process.cpuUsage(u0)
            a.dslWhileTorch = Math.max(a.dslWhileTorch, (u.user + u.system) / 1000 / (performance.now() - t0))
            a.otherServerWhileTorch = Math.max(a.otherServerWhileTorch, (serversCpu(ref) - o0) / (performance.now() - t0))
          }
        }
      }
      a.dsl.push(median(dsl)); a.torch.push(median(torch)); a.dslCpu.push(median(dslCpu)); a.torchCpu.push(median(torchCpu))
      if (plan.standaloneEveryRepetition || rep === Math.floor(plan.repetitions / 2)) {
        await sleep(plan.gapMs)
        const c0 = serversCpu(), t0 = performance.now()
        const alone = standalonePytorch(ref.python, model, t, plan.standaloneSteps, 5, cpuList(t))
        a.alone.push(alone.medianMs); a.aloneCpu.push(alone.cpuMedianMs)
        a.serverWhileStandalone = Math.max(a.serverWhileStandalone, (serversCpu() - c0) / (performance.now() - t0))
      }
    }
  }
  pinSelf(allCpus)
  for (const r of refs.values()) r.close()
  const rows = threadCounts.map((t): VersusRow => {
    const a = acc.get(t)!
    return {
      model, threads: t, cpus: cpuList(t),
      medianMs: median(a.dsl), dslReps: a.dsl, torchMs: median(a.torch), torchReps: a.torch,
      standaloneMs: median(a.alone), standaloneReps: a.alone,
      cpuMs: { dsl: median(a.dslCpu), torch: median(a.torchCpu), standalone: median(a.aloneCpu) },
      idleCpu: { torchWhileDsl: a.torchWhileDsl, dslWhileTorch: a.dslWhileTorch, otherServerWhileTorch: a.otherServerWhileTorch, serverWhileStandalone: a.serverWhileStandalone },
    }
  })
  return { rows, ...about! }
}
