/**
 * Main-thread tasks from a Chromium trace (puppeteer's `page.tracing`), with their CPU time: a task that the
 * PerformanceObserver calls long (> 50 ms of wall time) may only have waited for a core on a busy machine.
 */

/** The categories {@link tasksAfterMark} reads. */
export const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'toplevel']

/** One task of the renderer's main thread: start (ms after the mark), wall and CPU duration (ms). */
export interface MainThreadTask { readonly at: number; readonly wall: number; readonly cpu: number }

interface TraceEvent { readonly name: string; readonly ph: string; readonly pid: number; readonly tid: number; readonly ts: number; readonly dur?: number; readonly tdur?: number }

/**
 * The tasks the thread that set the user-timing mark `mark` (`performance.mark(mark)` on the page) ran from the mark on,
 * the one that set it included (its `at` is negative). Throws, saying so, when the trace has no such mark.
 */
export const tasksAfterMark = (trace: Uint8Array, mark: string): MainThreadTask[] => {
  const events = (JSON.parse(new TextDecoder().decode(trace)) as { traceEvents: TraceEvent[] }).traceEvents
  const m = events.find((e) => e.name === mark)
  if (m === undefined) throw new Error(`the trace has no user-timing mark '${mark}' (${events.length} events)`)
  return events
    .filter((e) => e.ph === 'X' && e.name === 'RunTask' && e.pid === m.pid && e.tid === m.tid && e.ts + (e.dur ?? 0) >= m.ts)
    .map((e) => ({ at: (e.ts - m.ts) / 1000, wall: (e.dur ?? 0) / 1000, cpu: (e.tdur ?? e.dur ?? 0) / 1000 }))
}
