/**
 * The Adam update as a small WebAssembly SIMD function that runs on the tfjs wasm backend's own
 * memory (it imports that `WebAssembly.Memory`): the stock-wasm path of `TfpplAdam`, for users
 * without the native accelerator. Four floats per instruction, the same float32 operations in the
 * same order as `native/adam.c` (IEEE f32x4 arithmetic is exact per lane), so the two agree bit for
 * bit. The module (≈ 200 bytes) is assembled from its instructions (`asm.ts`); no toolchain needed.
 */

import { assemble, bindToMemory, f32x4, F32, get, I32, i32, load, set, simd, SIMD, store, V128 } from './asm.js'
import type { WasmMemory } from './asm.js'
export type { WasmMemory } from './asm.js'

/** The exported function: (n4, x, g, m, v, x2, m2, v2 byte offsets, b1, b2, 1−b1, 1−b2, ε, c1, c2, −lr) → 1 if some g or some x′ was not finite. */
export type SimdAdam = (n4: number, x: number, g: number, m: number, v: number, x2: number, m2: number, v2: number,
  b1: number, b2: number, ob1: number, ob2: number, eps: number, c1: number, c2: number, negLr: number) => number

// Parameters 0–7: n4 (floats, a multiple of 4), then the byte offsets x, g, m, v, x2, m2, v2; 8–15: the f32 constants.
const [N4, X, G, M, V, X2, M2, V2] = [0, 1, 2, 3, 4, 5, 6, 7]
// Locals: 16 off (i32, bytes), 17 end (i32), 18 bad, 19 g, 20 m, 21 v, 22–29 the splatted constants, 30 x′ (v128).
const [OFF, END, BAD, GV, MV, VV, XV] = [16, 17, 18, 19, 20, 21, 30]
const K = (i: number): number => 22 + i   // splat of parameter 8 + i: 0 b1, 1 b2, 2 ob1, 3 ob2, 4 eps, 5 c1, 6 c2, 7 −lr

/** v128.load/store at (base + off). */
const loadAt = (base: number): number[] => [...get(base), ...get(OFF), 0x6a, ...load()]
const storeAt = (base: number, value: number[]): number[] => [...get(base), ...get(OFF), 0x6a, ...value, ...store()]
const f4 = (op: keyof typeof SIMD, a: number[], b: number[] = []): number[] => [...a, ...b, ...simd(SIMD[op])]

const code = (): number[] => {
  const splats = Array.from({ length: 8 }, (_, i) => [...get(8 + i), ...simd(SIMD.splat), ...set(K(i))]).flat()
  const m = f4('add', f4('mul', loadAt(M), get(K(0))), f4('mul', get(GV), get(K(2))))
  const v = f4('add', f4('mul', loadAt(V), get(K(1))), f4('mul', f4('mul', get(GV), get(GV)), get(K(3))))
  const step = f4('div', f4('div', get(MV), get(K(5))), f4('add', f4('sqrt', f4('div', get(VV), get(K(6)))), get(K(4))))
  const loop = [
    ...loadAt(G), ...set(GV),
    // bad |= (g − g ≠ 0): g − g is NaN exactly when g is NaN or ±∞.
    ...f4('or', get(BAD), f4('ne', f4('sub', get(GV), get(GV)), f32x4(0))), ...set(BAD),
    ...m, ...set(MV), ...v, ...set(VV),
    ...storeAt(M2, get(MV)), ...storeAt(V2, get(VV)),
    ...f4('add', f4('mul', step, get(K(7))), loadAt(X)), ...set(XV), ...storeAt(X2, get(XV)),
    // bad |= (x′ − x′ ≠ 0): the update overflowed (or made a NaN) in this lane.
    ...f4('or', get(BAD), f4('ne', f4('sub', get(XV), get(XV)), f32x4(0))), ...set(BAD),
    ...get(OFF), ...i32(16), 0x6a, ...set(OFF),                   // off += 16
    ...get(OFF), ...get(END), 0x49, 0x0d, 0,                      // br_if (off < end, unsigned) → loop
  ]
  return [
    ...splats,
    ...get(N4), ...i32(2), 0x74, ...set(END),                     // end = n4 << 2
    ...get(END), 0x45, 0x04, 0x40, ...i32(0), 0x0f, 0x0b,         // if (end == 0) return 0
    0x03, 0x40, ...loop, 0x0b,                                     // loop … end
    ...get(BAD), ...simd(SIMD.anyTrue),                            // v128.any_true(bad)
  ]
}

const BYTES = assemble('adam', {
  params: Array.from({ length: 16 }, (_, i) => (i < 8 ? I32 : F32)), results: [I32],
  locals: [[2, I32], [4 + 8 + 1, V128]], code: code(),
})

/**
 * The SIMD Adam bound to `memory` (instantiated once per memory), or undefined where this
 * JavaScript engine has no wasm SIMD.
 *
 * @example
 * const adam = simdAdam(backend.wasm.asm.memory); adam?.(n & ~3, …)
 */
export const simdAdam = (memory: WasmMemory | undefined): SimdAdam | undefined => bindToMemory(BYTES, 'adam', memory) as SimdAdam | undefined
