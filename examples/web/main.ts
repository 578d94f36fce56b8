/**
 * The demo page: starts the training worker and draws what it reports — the
 * loss curve, reconstructions of held-out digits, and the decoded image of the
 * latent point the two sliders choose. The main thread only draws (a few small
 * canvases, at most once a frame); all tensor work runs in the worker.
 *
 * URL options: `?steps=N` (default 3000) and `?backend=wasm|cpu|…` to force a backend.
 */
import type { BrowserWindow, CanvasElement, InputElement, TextElement } from './dom.js'
import type { FromWorker, ToWorker } from './protocol.js'

const page = globalThis as unknown as BrowserWindow

const SIDE = 28

/** What the page has seen, for people (the status line) and for the browser tests (`window.tfpplDemo`). */
const state = { backend: '', readyMs: -1, initMs: -1, steps: 0, losses: [] as number[], stepMs: [] as number[], decodedId: -1, decodedStep: -1, done: false, error: '' }
page.tfpplDemo = state

const el = <T>(id: string): T => {
  const e = page.document.getElementById(id)
  if (e === null) throw new Error(`demo page: no element #${id}`)
  return e as T
}
const status = el<TextElement>('status'), lossCanvas = el<CanvasElement>('loss')
const reconCanvas = el<CanvasElement>('recon'), latentCanvas = el<CanvasElement>('latent')
/** The canvases' contexts, in memory (small canvases, redrawn pixel by pixel). */
const context = new Map([lossCanvas, reconCanvas, latentCanvas].map((c) => [c, c.getContext('2d', { willReadFrequently: true })]))
const sliders = [el<InputElement>('z1'), el<InputElement>('z2')]

/** Draws `n` images of {0..1} pixels side by side into `canvas` at row `row` (grey levels, black on white). */
const drawImages = (canvas: CanvasElement, images: Float32Array, n: number, row: number): void => {
  const ctx = context.get(canvas)
  if (ctx === undefined || ctx === null) return
  const img = ctx.createImageData(n * SIDE, SIDE)
  for (let k = 0; k < n; k++) {
    for (let p = 0; p < SIDE * SIDE; p++) {
      const v = 255 - Math.round(255 * images[k * SIDE * SIDE + p]!)
      const at = 4 * ((p / SIDE | 0) * n * SIDE + k * SIDE + (p % SIDE))
      img.data[at] = img.data[at + 1] = img.data[at + 2] = v
      img.data[at + 3] = 255
    }
  }
  ctx.putImageData(img, 0, row * SIDE)
}

/** The loss curve (−ELBO per image against step), its range from the losses after the first tenth. */
const drawLosses = (): void => {
  const ctx = context.get(lossCanvas), ys = state.losses
  if (ctx === undefined || ctx === null || ys.length < 2) return
  const { width: w, height: h } = lossCanvas
  const tail = ys.slice(Math.floor(ys.length / 10))
  const lo = Math.min(...tail), hi = Math.max(...tail)
  ctx.clearRect(0, 0, w, h)
  ctx.strokeStyle = '#1565c0'
  ctx.beginPath()
  ys.forEach((y, i) => {
    const px = (i / (ys.length - 1)) * (w - 1), py = h - 4 - ((Math.min(y, hi) - lo) / (hi - lo || 1)) * (h - 8)
    if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py)
  })
  ctx.stroke()
  ctx.fillStyle = '#333'
  ctx.fillText(`${hi.toFixed(1)}`, 4, 12)
  ctx.fillText(`${lo.toFixed(1)}`, 4, h - 6)
}

let framePending = false
const redrawSoon = (): void => {
  if (framePending) return
  framePending = true
  page.requestAnimationFrame(() => {
    framePending = false
    drawLosses()
    const last = state.losses.length - 1
    const ms = state.stepMs.slice(-20).reduce((a, b) => a + b, 0) / Math.min(20, state.stepMs.length || 1)
    status.textContent = state.error !== '' ? state.error
      : `backend ${state.backend} · step ${state.steps} · loss ${last >= 0 ? state.losses[last]!.toFixed(1) : '–'} nats/image · ${ms.toFixed(0)} ms/step${state.done ? ' · done' : ''}`
  })
}

// Blank images now: the first drawing of a page costs tens of ms (measured 60 ms here), better at load than during training.
;[0, 1].forEach((row) => drawImages(reconCanvas, new Float32Array(8 * SIDE * SIDE), 8, row))
drawImages(latentCanvas, new Float32Array(SIDE * SIDE), 1, 0)

const worker = new page.Worker<ToWorker, FromWorker>(new URL('./worker.js', import.meta.url), { type: 'module' })
const send = (m: ToWorker): void => { worker.postMessage(m) }
let nextId = 0
const askDecode = (): void => { send({ type: 'decode', id: ++nextId, z: sliders.map((s) => Number(s.value)) }) }
sliders.forEach((s) => s.addEventListener('input', askDecode))

worker.onmessage = (e) => {
  const m = e.data
  switch (m.type) {
    case 'ready':
      Object.assign(state, { backend: m.backend, readyMs: performance.now(), initMs: m.initMs })
      performance.mark('tfppl-demo:ready')   // training starts: for the long-task check of test/browser/demo.test.ts
      el<TextElement>('backend').textContent = `${m.backend} (${m.detail}; started in ${m.initMs.toFixed(0)} ms)`
      el<TextElement>('skipped').textContent = m.skipped.join('\n') || 'none'
      askDecode()
      break
    case 'loss': state.steps = m.step; state.losses.push(m.loss); state.stepMs.push(m.ms); break
    case 'recon': drawImages(reconCanvas, m.originals, m.n, 0); drawImages(reconCanvas, m.recons, m.n, 1); break
    case 'decoded': drawImages(latentCanvas, m.pixels, 1, 0); state.decodedId = m.id; state.decodedStep = m.step; break
    case 'done': state.done = true; break
    case 'error': state.error = `error: ${m.message}`; break
  }
  redrawSoon()
}
worker.onerror = (e) => { state.error = `worker error: ${e.message}`; redrawSoon() }

const params = new URLSearchParams(page.location.search)
const backend = params.get('backend')
send({ type: 'start', steps: Number(params.get('steps') ?? 3000), ...(backend === null ? {} : { backend }) })
