/**
 * The wasm heap as tfppl's SIMD kernels find it, in both builds of tfjs-backend-wasm: the single-threaded
 * ones expose their memory as `asm.memory`, the threaded one (pages with COOP/COEP) as `wasmMemory`, a
 * shared memory that the kernels' modules cannot import — they must then decline (undefined), so the
 * original kernels run, instead of failing inside a WeakMap with an undefined key.
 */
import { describe, expect, it } from 'vitest'
import { type WasmHeapBackend, heapMemory } from '../../../src/backend/kernels/heap.js'
import { simdSoftplus } from '../../../src/backend/kernels/wasm/softplus.js'
import { simdAdam } from '../../../src/backend/kernels/wasm/adam-simd.js'
import type { WasmMemory } from '../../../src/backend/kernels/wasm/asm.js'

/** The WebAssembly API (the repository's lib settings declare its types, not its value). */
const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory } }).WebAssembly

const backendWith = (wasm: Partial<WasmHeapBackend['wasm']>): WasmHeapBackend =>
  ({ wasm: { HEAPU8: new Uint8Array(16), ...wasm } }) as unknown as WasmHeapBackend

describe('heapMemory', () => {
  it('reads asm.memory (single-threaded builds) or wasmMemory (the threaded build), else undefined', () => {
    const m = new Memory({ initial: 1 })
    expect(heapMemory(backendWith({ asm: { memory: m } }))).toBe(m)
    expect(heapMemory(backendWith({ asm: {}, wasmMemory: m }))).toBe(m)
    expect(heapMemory(backendWith({}))).toBeUndefined()
  })

  it('the SIMD kernels decline a missing or a shared memory and bind to a plain one', () => {
    expect(simdSoftplus(undefined)).toBeUndefined()
    expect(simdAdam(undefined)).toBeUndefined()
    const shared = new Memory({ initial: 1, maximum: 2, shared: true })
    expect(simdSoftplus(shared)).toBeUndefined()
    expect(simdAdam(shared)).toBeUndefined()
    expect(typeof simdSoftplus(new Memory({ initial: 1 }))).toBe('function')
  })
})
