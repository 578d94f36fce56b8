/** `tfppl train` defaults: per-model hidden layers, and flags winning over defaults. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { planTraining } from '../../src/cli/train-config.js'

const root = mkdtempSync(join(tmpdir(), 'tfppl-plan-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('planTraining', () => {
  it('gives the CVAE two hidden layers of 512 and the VAE one of 400 by default', async () => {
    expect((await planTraining('cvae', { out: join(root, 'c') })).config.hidden).toEqual([512, 512])
    expect((await planTraining('vae', { out: join(root, 'v') })).config.hidden).toEqual([400])
  })
  it('takes --hidden over the default', async () => {
    expect((await planTraining('cvae', { out: join(root, 'h'), hidden: [64] })).config.hidden).toEqual([64])
  })
})
