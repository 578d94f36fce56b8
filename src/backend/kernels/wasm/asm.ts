/**
 * A minimal WebAssembly assembler for tfppl's SIMD kernels on the tfjs wasm backend's memory
 * (`adam-simd.ts`, `softplus.ts`): one exported function per module, the memory imported
 * as `env.memory`. Instructions are written as byte arrays with the helpers below; the module
 * is validated by the engine when instantiated.
 */

/** Value type i32. */
export const I32 = 0x7f
/** Value type f32. */
export const F32 = 0x7d
/** Value type v128 (SIMD). */
export const V128 = 0x7b

/** Unsigned LEB128. @example leb(300)   // [0xac, 0x02] */
export const leb = (n: number): number[] => {
  const out: number[] = []
  do { let b = n & 0x7f; n >>>= 7; if (n !== 0) b |= 0x80; out.push(b) } while (n !== 0)
  return out
}

const str = (s: string): number[] => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))]
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body]
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()]

/** local.get of local `i`. @example get(0) */
export const get = (i: number): number[] => [0x20, ...leb(i)]
/** local.set of local `i`. @example set(3) */
export const set = (i: number): number[] => [0x21, ...leb(i)]
/** i32.const of an int32 (signed LEB128 immediate). @example i32(16) */
export const i32 = (n: number): number[] => {
  const out: number[] = []
  for (let v = n | 0, more = true; more;) {
    const b = v & 0x7f
    v >>= 7
    more = !((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0))
    out.push(more ? b | 0x80 : b)
  }
  return [0x41, ...out]
}
/** A SIMD instruction (prefix 0xfd). @example simd(SIMD.add) */
export const simd = (op: number): number[] => [0xfd, ...leb(op)]
/** A v128 constant with four equal f32 lanes. @example f32x4(0.5) */
export const f32x4 = (x: number): number[] => {
  const b = new Uint8Array(Float32Array.of(x, x, x, x).buffer)
  return [0xfd, 0x0c, ...b]
}
/** A v128 constant with four equal i32 lanes. @example i32x4(127) */
export const i32x4 = (x: number): number[] => [0xfd, 0x0c, ...new Uint8Array(Int32Array.of(x, x, x, x).buffer)]

/** SIMD opcodes used by tfppl's kernels. */
export const SIMD = {
  load: 0x00, store: 0x0b, splat: 0x13, ne: 0x42, or: 0x50, anyTrue: 0x53, nearest: 0x6a,
  i32Shl: 0xab, i32ShrS: 0xac, i32Add: 0xae, i32Sub: 0xb1,
  abs: 0xe0, sqrt: 0xe3, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7, min: 0xe8, max: 0xe9, truncSat: 0xf8,
} as const

/** v128.load of the address on the stack (alignment hint 1, offset 0). @example [...get(0), ...load()] */
export const load = (): number[] => [...simd(SIMD.load), 0, 0]
/** v128.store of the value on the stack at the address below it (alignment hint 1, offset 0). @example [...address, ...value, ...store()] */
export const store = (): number[] => [...simd(SIMD.store), 0, 0]

/** A function: parameter and result types, locals as [count, type] runs, and its instructions (without the final `end`). */
export interface WasmFunction { readonly params: number[]; readonly results: number[]; readonly locals: [number, number][]; readonly code: number[] }

/**
 * The bytes of a module that imports `env.memory` and exports `fn` as `name`.
 *
 * @example
 * const bytes = assemble('id', { params: [I32], results: [I32], locals: [], code: get(0) })
 */
export const assemble = (name: string, fn: WasmFunction): Uint8Array => {
  const body = [...vec(fn.locals.map(([n, t]) => [...leb(n), t])), ...fn.code, 0x0b]
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(fn.params.map((t) => [t])), ...vec(fn.results.map((t) => [t]))]])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]])),   // memory import, min 1 page, no max
    ...section(3, vec([[0]])),
    ...section(7, vec([[...str(name), 0x00, 0]])),
    ...section(10, vec([[...leb(body.length), ...body]])),
  ])
}

/** A `WebAssembly.Memory` (this project's TypeScript libs do not declare the WebAssembly namespace). */
export interface WasmMemory { readonly buffer: ArrayBuffer }

/** The part of the global `WebAssembly` API used here. */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly

/**
 * One function per (module, memory), instantiated on first use; undefined where the engine
 * cannot (no WebAssembly, no SIMD, no memory exposed, or a shared memory — the threaded build's —
 * which the module, declaring an unshared one, cannot import).
 *
 * @example
 * const adam = bindToMemory(ADAM_BYTES, 'adam', memory) as SimdAdam | undefined
 */
export const bindToMemory = (() => {
  const cache = new WeakMap<WasmMemory, Map<Uint8Array, unknown>>()
  return (bytes: Uint8Array, name: string, memory: WasmMemory | undefined): unknown => {
    if (memory === undefined) return undefined
    let perMemory = cache.get(memory)
    if (perMemory === undefined) cache.set(memory, (perMemory = new Map()))
    if (!perMemory.has(bytes)) {
      let f: unknown = null
      try {
        if (wasmApi !== undefined) f = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } }).exports[name] ?? null
      } catch { f = null }
      perMemory.set(bytes, f)
    }
    return perMemory.get(bytes) ?? undefined
  }
})()
