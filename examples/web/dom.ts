/**
 * The few browser APIs the demo page uses, typed here: this repository
 * type-checks everything against Node's types, and the DOM library, loaded by
 * one file, would change the types of every other file of the program.
 */

/** A 2-D canvas context, as far as the page draws. */
export interface Canvas2D {
  strokeStyle: string
  fillStyle: string
  createImageData: (width: number, height: number) => { readonly data: Uint8ClampedArray }
  putImageData: (image: { readonly data: Uint8ClampedArray }, x: number, y: number) => void
  clearRect: (x: number, y: number, w: number, h: number) => void
  beginPath: () => void
  moveTo: (x: number, y: number) => void
  lineTo: (x: number, y: number) => void
  stroke: () => void
  fillText: (text: string, x: number, y: number) => void
}

export interface CanvasElement { readonly width: number; readonly height: number; getContext: (kind: '2d', options?: { willReadFrequently?: boolean }) => Canvas2D | null }
export interface InputElement { value: string; addEventListener: (type: 'input', listener: () => void) => void }
export interface TextElement { textContent: string | null }

/** A module worker, seen from the page. */
export interface PageWorker<In, Out> {
  postMessage: (message: In) => void
  onmessage: ((event: { readonly data: Out }) => void) | null
  onerror: ((event: { readonly message: string }) => void) | null
}

/** The page's global scope. */
export interface BrowserWindow {
  readonly document: { getElementById: (id: string) => unknown }
  readonly location: { readonly search: string; readonly href: string }
  readonly Worker: new <In, Out>(url: URL, options: { type: 'module' }) => PageWorker<In, Out>
  requestAnimationFrame: (callback: () => void) => number
  tfpplDemo?: unknown
}

/** A worker's global scope, seen from the worker. */
export interface WorkerScope<In, Out> {
  readonly location: { readonly href: string }
  postMessage: (message: Out) => void
  onmessage: ((event: { readonly data: In }) => void) | null
}
