/**
 * Ctrl-C during training: the first SIGINT asks training to stop after the
 * current step (the checkpoint and metrics are saved then); a second one
 * quits at once (the last complete checkpoint is intact: saves are atomic).
 */
import { EXIT } from './errors.js'

/** A stop request raised by SIGINT (or by an AbortSignal, for tests and embedding). */
export interface Interrupt {
  readonly requested: () => boolean
  /** Removes the SIGINT listener. */
  readonly dispose: () => void
}

/**
 * Listens for SIGINT (and `signal`, if given) until `dispose()`; `notify` is called on the first request.
 *
 * @example
 * const stop = listenForInterrupt(() => console.error('stopping after this step'))
 * try { … if (stop.requested()) return 'stop' … } finally { stop.dispose() }
 */
export const listenForInterrupt = (notify: () => void, signal?: AbortSignal): Interrupt => {
  let requested = false
  const request = (): void => {
    if (requested) return
    requested = true
    notify()
  }
  const onSigint = (): void => {
    if (requested) process.exit(EXIT.interrupted)
    request()
  }
  process.on('SIGINT', onSigint)
  if (signal?.aborted === true) request()
  signal?.addEventListener('abort', request, { once: true })
  return {
    requested: () => requested,
    dispose: () => { process.off('SIGINT', onSigint); signal?.removeEventListener('abort', request) },
  }
}
