/**
 * The Adam update as a small WebAssembly SIMD function that runs on the tfjs wasm backend's own
 * memory (it imports that `WebAssembly.Memory`): the stock-wasm path of `TfpplAdam`, for users
 * without the native accelerator. Four floats per instruction, the same float32 operations in the
 * same order as `native/adam.c` (IEEE f32x4 arithmetic is exact per lane), so the two agree bit for
 * bit. The module (≈ 200 bytes) is assembled here from its instructions; no toolchain needed.
 */

/** The exported function: (n4, x, g, m, v, x2, m2, v2 byte offsets, b1, b2, 1−b1, 1−b2, ε, c1, c2, −lr) → 1 if some g was not finite. */
export type SimdAdam = (n4: number, x: number, g: number, m: number, v: number, x2: number, m2: number, v2: number,
  b1: number, b2: number, ob1: number, ob2: number, eps: number, c1: number, c2: number, negLr: number) => number

const leb = (n: number): number[] => {
  const out: number[] = []
  do { let b = n & 0x7f; n >>>= 7; if (n !== 0) b |= 0x80; out.push(b) } while (n !== 0)
  return out
}
const str = (s: string): number[] => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))]
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body]
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()]

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b
const get = (i: number): number[] => [0x20, ...leb(i)], set = (i: number): number[] => [0x21, ...leb(i)]
const simd = (op: number): number[] => [0xfd, ...leb(op)]
const OP = { load: 0x00, store: 0x0b, splat: 0x13, ne: 0x42, or: 0x50, anyTrue: 0x53, sqrt: 0xe3, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7 } as const

// Parameters 0–7: n4 (floats, a multiple of 4), then the byte offsets x, g, m, v, x2, m2, v2; 8–15: the f32 constants.
const [N4, X, G, M, V, X2, M2, V2] = [0, 1, 2, 3, 4, 5, 6, 7]
// Locals: 16 off (i32, bytes), 17 end (i32), 18 bad, 19 g, 20 m, 21 v, 22–29 the splatted constants (v128).
const [OFF, END, BAD, GV, MV, VV] = [16, 17, 18, 19, 20, 21]
const K = (i: number): number => 22 + i   // splat of parameter 8 + i: 0 b1, 1 b2, 2 ob1, 3 ob2, 4 eps, 5 c1, 6 c2, 7 −lr

/** v128.load/store at (base + off). */
const load = (base: number): number[] => [...get(base), ...get(OFF), 0x6a, ...simd(OP.load), 0, 0]
const storeAt = (base: number, value: number[]): number[] => [...get(base), ...get(OFF), 0x6a, ...value, ...simd(OP.store), 0, 0]
const f4 = (op: keyof typeof OP, a: number[], b: number[] = []): number[] => [...a, ...b, ...simd(OP[op])]

const body = (): number[] => {
  const splats = Array.from({ length: 8 }, (_, i) => [...get(8 + i), ...simd(OP.splat), ...set(K(i))]).flat()
  const m = f4('add', f4('mul', load(M), get(K(0))), f4('mul', get(GV), get(K(2))))
  const v = f4('add', f4('mul', load(V), get(K(1))), f4('mul', f4('mul', get(GV), get(GV)), get(K(3))))
  const step = f4('div', f4('div', get(MV), get(K(5))), f4('add', f4('sqrt', f4('div', get(VV), get(K(6)))), get(K(4))))
  const loop = [
    ...load(G), ...set(GV),
    // bad |= (g − g ≠ 0): g − g is NaN exactly when g is NaN or ±∞.
    ...f4('or', get(BAD), f4('ne', f4('sub', get(GV), get(GV)), [0xfd, 0x0c, ...Array<number>(16).fill(0)])), ...set(BAD),
    ...m, ...set(MV), ...v, ...set(VV),
    ...storeAt(M2, get(MV)), ...storeAt(V2, get(VV)),
    ...storeAt(X2, f4('add', f4('mul', step, get(K(7))), load(X))),
    ...get(OFF), 0x41, 16, 0x6a, ...set(OFF),                    // off += 16
    ...get(OFF), ...get(END), 0x49, 0x0d, 0,                      // br_if (off < end, unsigned) → loop
  ]
  const code = [
    ...splats,
    ...get(N4), 0x41, 2, 0x74, ...set(END),                       // end = n4 << 2
    ...get(END), 0x45, 0x04, 0x40, 0x41, 0, 0x0f, 0x0b,           // if (end == 0) return 0
    0x03, 0x40, ...loop, 0x0b,                                     // loop … end
    ...get(BAD), ...simd(OP.anyTrue), 0x0b,                        // v128.any_true(bad); end of function
  ]
  const locals = vec([[...leb(2), I32], [...leb(4 + 8), V128]])
  const fn = [...locals, ...code]
  return [...leb(fn.length), ...fn]
}

/** The module's bytes. */
const bytes = (): Uint8Array => Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec(Array.from({ length: 16 }, (_, i) => [i < 8 ? I32 : F32])), ...vec([[I32]])]])),
  ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]])),   // memory import, min 1 page, no max
  ...section(3, vec([[0]])),
  ...section(7, vec([[...str('adam'), 0x00, 0]])),
  ...section(10, vec([body()])),
])

/** A `WebAssembly.Memory` (this project's TypeScript libs do not declare the WebAssembly namespace). */
export interface WasmMemory { readonly buffer: ArrayBuffer }

/** The part of the global `WebAssembly` API used here. */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly

const instances = new WeakMap<WasmMemory, SimdAdam | null>()

/**
 * The SIMD Adam bound to `memory` (instantiated once per memory), or undefined where this
 * JavaScript engine has no wasm SIMD.
 *
 * @example
 * const adam = simdAdam(backend.wasm.asm.memory); adam?.(n & ~3, …)
 */
export const simdAdam = (memory: WasmMemory): SimdAdam | undefined => {
  let f = instances.get(memory)
  if (f === undefined) {
    try {
      if (wasmApi === undefined) throw new Error('no WebAssembly')
      f = new wasmApi.Instance(new wasmApi.Module(bytes()), { env: { memory } }).exports['adam'] as SimdAdam
    } catch {
      f = null
    }
    instances.set(memory, f)
  }
  return f ?? undefined
}
