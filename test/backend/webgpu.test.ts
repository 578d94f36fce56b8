/**
 * WebGPU in Node (issue 20, point 7): the optional `webgpu` package (Dawn) with tfjs-backend-webgpu, on
 * Chromium's SwiftShader Vulkan driver here (a software GPU: this tests correctness, not speed). A child
 * process (the driver's environment is read at start-up) trains the same small VAE on cpu and on webgpu
 * with `stepAsync` and `fit`; the losses must agree within 1e-3 relative (measured: ≈ 1e-7, float32
 * rounding of different kernels), `numTensors` must stay flat, the synchronous `step` must refuse, and
 * any other synchronous read must be one clear BackendError (not a ReferenceError from inside tfjs).
 * Before training, `evaluate` and `initAsync` on fresh stores create the params without a synchronous
 * read, and fail on data failing validation with the store left empty.
 * Skipped, saying why, where Debian's `chromium` (which ships the driver) is absent; `.ci/run` installs it.
 * Runs in the first of CI's three configurations only: the child picks its own backends.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
const once = process.env['TFPPL_BACKEND'] !== 'cpu' && process.env['TFPPL_NATIVE'] !== '0'
const why = !existsSync(ICD) ? `no software Vulkan driver at ${ICD} (apt-get install -y chromium)` : !once ? 'runs in the first CI configuration only' : ''

interface Fresh { evaluated: number; initialised: number; entries: number; warnings: string[]; errors: string[]; left: number; error?: string }
interface Run { fresh: Fresh; gamma: number[] | { error: string }; losses: number[]; fitted: number[]; tensors: number[]; evaluated: number; stepError: string; syncError: string; info: { name: string; adapter?: { software: boolean; architecture: string } }; error?: string }

const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12)

let ran: { cpu: Run; webgpu: Run } | undefined
/** The child's results on cpu and webgpu (it runs once, for the first test that asks). */
const results = (): { cpu: Run; webgpu: Run } => {
  if (ran !== undefined) return ran
  const tsx = path.resolve('node_modules/.bin/tsx')
  const r = spawnSync(tsx, ['test/backend/fixtures/gpu-steps.ts', 'cpu', 'webgpu'], {
    encoding: 'utf8', timeout: 240_000,
    env: { ...process.env, VK_ICD_FILENAMES: ICD, LD_LIBRARY_PATH: '/usr/lib/chromium', TFPPL_BACKEND: '' },
  })
  const last = r.stdout.trim().split('\n').pop() ?? ''
  expect(last.startsWith('{'), `the child printed no result (exit ${r.status}): ${r.stderr.slice(-2000)}`).toBe(true)
  return ran = JSON.parse(last) as { cpu: Run; webgpu: Run }
}

describe.skipIf(why !== '')(`webgpu in Node${why === '' ? '' : ` (skipped: ${why})`}`, () => {
  it('trains a VAE with stepAsync and fit to the cpu backend\'s losses within 1e-3 relative, numTensors flat; step refuses', () => {
    const { cpu, webgpu } = results()
    expect(cpu.error).toBeUndefined()
    expect(webgpu.error).toBeUndefined()
    expect(webgpu.info.name).toBe('webgpu')
    expect(webgpu.info.adapter?.software).toBe(true)   // SwiftShader, reported as a software device
    expect(webgpu.losses).toHaveLength(20)
    webgpu.losses.forEach((l, i) => expect(relative(l, cpu.losses[i]!), `step ${i}: ${l} vs ${cpu.losses[i]}`).toBeLessThan(1e-3))
    webgpu.fitted.forEach((l, i) => expect(relative(l, cpu.fitted[i]!), `fit epoch ${i + 1}`).toBeLessThan(1e-3))
    expect(relative(webgpu.evaluated, cpu.evaluated)).toBeLessThan(1e-3)
    expect(cpu.losses[19]!).toBeLessThan(cpu.losses[0]! - 5)   // it trains: the loss falls
    expect(new Set(webgpu.tensors.slice(2)).size).toBe(1)      // flat after the first steps (params and Adam moments made)
    expect(webgpu.stepError).toMatch(/svi\.step reads the loss back synchronously, which the 'webgpu' backend cannot do.*stepAsync/)
    expect(cpu.stepError).toBe('')
    expect(webgpu.syncError).toMatch(/^BackendError: webgpu in Node cannot read a tensor synchronously .*await t\.data\(\)/)   // not tfjs's ReferenceError from inside
    expect(cpu.syncError).toBe('')
  }, 300_000)

  it('draws Gamma samples without a synchronous read: E[log X] = ψ(α) within 5 standard errors (α = 0.5, 3; 4,000 draws)', () => {
    const { webgpu } = results()
    const [psi, trigamma] = [[-1.9635100260214235, 0.9227843350984671], [Math.PI ** 2 / 2, 0.3949340668482264]]   // ψ, ψ′ at 0.5 and 3
    expect(Array.isArray(webgpu.gamma), JSON.stringify(webgpu.gamma)).toBe(true)
    ;(webgpu.gamma as number[]).forEach((m, j) => expect(Math.abs(m - psi[j]!)).toBeLessThan(5 * Math.sqrt(trigamma[j]! / 4000)))
  }, 300_000)

  it('evaluate and initAsync on a fresh store create the params without a synchronous read; failing on bad data, they leave the store empty', () => {
    const { cpu, webgpu } = results()
    for (const r of [cpu, webgpu]) {
      expect(r.error).toBeUndefined()
      expect(r.fresh.error).toBeUndefined()
      expect(r.fresh.entries).toBe(2)                          // the encoder and decoder modules
      expect(r.fresh.warnings).toEqual(['fresh-params'])       // evaluate's only: initAsync's store was not empty any more
      expect(r.fresh.initialised).toBe(r.fresh.evaluated)      // same params, same seed
      expect(r.fresh.errors.slice(0, 2)).toEqual(Array(2).fill(expect.stringMatching(/^SupportError: .*bernoulli\.logProb: value outside the support .*got 2 at index \[0, 0\]/)))
      expect(r.fresh.left).toBe(0)
    }
    expect(relative(webgpu.fresh.evaluated, cpu.fresh.evaluated)).toBeLessThan(1e-3)
    expect(webgpu.fresh.errors[2]).toMatch(/^BackendError: webgpu in Node cannot read a tensor synchronously/)   // the synchronous init
    expect(cpu.fresh.errors[2]).toMatch(/^SupportError: /)
  }, 300_000)
})
