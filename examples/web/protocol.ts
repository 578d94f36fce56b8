/** The messages between the demo page and its training worker. */

/** Page → worker. */
export type ToWorker =
  /** Start training: `steps` SVI steps at most; `backend` forces one (else initBackend's automatic choice). */
  | { readonly type: 'start'; readonly steps: number; readonly backend?: string }
  /** Decode the latent point `z` (the explorer's sliders); answered by a `decoded` message with the same `id`. */
  | { readonly type: 'decode'; readonly id: number; readonly z: readonly number[] }

/** Worker → page. */
export type FromWorker =
  /** The backend is up (after `initMs` ms; `skipped`: the backends tried before it, and why) and the data loaded. */
  | { readonly type: 'ready'; readonly backend: string; readonly detail: string; readonly skipped: readonly string[]; readonly initMs: number; readonly nTrain: number; readonly zDim: number }
  /** One step done: its loss (−ELBO, nats per image) and duration. */
  | { readonly type: 'loss'; readonly step: number; readonly loss: number; readonly ms: number }
  /** Test digits and their reconstructions (means of p(x | z = μ(x))), `n` images of `side`² pixels each. */
  | { readonly type: 'recon'; readonly step: number; readonly n: number; readonly originals: Float32Array; readonly recons: Float32Array }
  /** The decoded image of the point asked for by `decode` `id` (sent again after training moves it). */
  | { readonly type: 'decoded'; readonly id: number; readonly step: number; readonly pixels: Float32Array }
  /** Training stopped after `steps` steps. */
  | { readonly type: 'done'; readonly steps: number }
  | { readonly type: 'error'; readonly message: string }
