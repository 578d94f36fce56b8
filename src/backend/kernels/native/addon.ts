/**
 * The native accelerator's functions as TypeScript sees them: the addon's exports
 * (`native/tfppl_native.c`), one group per kernel file here and C source there. Types only: the
 * loader (`../../native.ts`, Node only) produces a value of this type; the kernels in this folder
 * receive it from `register.ts`, so the browser core never imports the loader.
 */

/** The addon's functions (offsets in bytes, strides in elements; see native/*.c). */
export interface NativeAddon {
  readonly gemm: (heap: ArrayBuffer, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    offA: number, strideA: number, offB: number, strideB: number, offC: number) => void
  readonly unary: (kind: number, heap: ArrayBuffer, offIn: number, offOut: number, n: number) => void
  readonly adam: (heap: ArrayBuffer, n: number, offX: number, offG: number, offM: number, offV: number,
    offX2: number, offM2: number, offV2: number, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number) => boolean
  /** `adam` for every variable of a step in one call: `table` holds 8 numbers per variable, n and the 7 offsets (absent from an addon built before it). */
  readonly adamAll?: (heap: ArrayBuffer, table: Float64Array, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number) => boolean
  readonly dense: (heap: ArrayBuffer, m: number, n: number, k: number, act: number, offX: number, offW: number, offB: number, offY: number) => void
  readonly denseGrad: (heap: ArrayBuffer, which: number, m: number, n: number, k: number, act: number,
    offDy: number, offY: number, offOther: number, offOut: number) => void
  /** Whether every one of the n floats at `off` lies in set `kind` (0 finite, 1 positive, 2 {0, 1}, 3 [0, 1]). */
  readonly check: (kind: number, heap: ArrayBuffer, off: number, n: number) => boolean
  /** `inner` (≥ 1, dividing n): values summed per output (1: elementwise); the gradients read one dy per `inner` values. */
  readonly bernoulliLogProb: (heap: ArrayBuffer, n: number, offX: number, offL: number, offOut: number, inner: number) => void
  readonly bernoulliLogProbGrad: (heap: ArrayBuffer, n: number, offDy: number, offX: number, offL: number, offOut: number, inner: number) => void
  /** `locAll`/`scaleAll`: 1 when the parameter holds n values, 0 when one value is broadcast. */
  readonly normalLogProb: (heap: ArrayBuffer, n: number, offX: number, offLoc: number, locAll: number, offScale: number, scaleAll: number, offOut: number, inner: number) => void
  /** `which`: 0 ∂/∂x, 1 ∂/∂loc, 2 ∂/∂scale, elementwise. */
  readonly normalLogProbGrad: (which: number, heap: ArrayBuffer, n: number, offDy: number, offX: number, offLoc: number, locAll: number,
    offScale: number, scaleAll: number, offOut: number, inner: number) => void
  /** out[g] = 0 where x = v on all `inner` values of group g, −∞ elsewhere (absent from an addon built before it). */
  readonly pointMassLogProb?: (heap: ArrayBuffer, n: number, offX: number, offV: number, offOut: number, inner: number) => void
  /** log Gamma(α, 1) draws for the n α at `offAlpha` (seed: 0 … 2³² − 1). */
  readonly gammaLogSample: (heap: ArrayBuffer, n: number, offAlpha: number, offOut: number, seed: number) => void
  /** dy · d log z/dα (dy = 1 when `hasDy` is 0); `quadrature`: 12 Gauss–Laguerre nodes, then their weights. */
  readonly gammaLogGrad: (heap: ArrayBuffer, n: number, offAlpha: number, offLogZ: number, offDy: number, hasDy: number,
    offOut: number, quadrature: Float64Array) => void
  /** out[j] = Σ_{i<m} x[i·n + j] (float32, in ascending i). */
  readonly sumLeading: (heap: ArrayBuffer, m: number, n: number, offX: number, offOut: number) => void
  /** out[k] = x[idx[k]], rows of `row` 4-byte elements; false (nothing written) when an index lies outside [0, rows) (absent from an addon built before it). */
  readonly gatherRows?: (heap: ArrayBuffer, count: number, row: number, rows: number, offX: number, offIdx: number, offOut: number) => boolean
  /** out[s] = Σ_{i: ids[i] = s} x[i] over `count` float32 rows of `row`, ids outside [0, segments) dropped (absent from an addon built before it). */
  readonly segmentSumRows?: (heap: ArrayBuffer, count: number, row: number, segments: number, offX: number, offIds: number, offOut: number) => void
  /** out[i] = the first c minimising (‖x_i‖² − 2 x_i·e_c) + ‖e_c‖² (int32), X [n, d], E [k, d] (absent from an addon built before it). */
  readonly nearestCodes?: (heap: ArrayBuffer, n: number, k: number, d: number, offX: number, offBook: number, offOut: number) => void
  /** A convolution (`which` 0) or transposed convolution (1) with bias and activation (0 linear, 2 relu) in one call (absent from an addon built before it). */
  readonly convLayer?: (which: number, heap: ArrayBuffer, ...geomActThenOffsets: number[]) => void
  /** The accelerator's threads (native/parallel.c): products where a second thread paid (every side ≥ 32, m·n·k ≥ 2²²) are split between them, and convolutions of ≥ 2²¹ multiply-adds split their images; `everyProduct` 1: every product split. OpenBLAS itself stays at one thread. */
  readonly setThreads: (n: number, everyProduct?: number) => void
  /** The OpenBLAS build loaded, e.g. 'OpenBLAS 0.3.21, pthread build' (absent from an addon built before it). */
  readonly blasInfo?: () => string
}
