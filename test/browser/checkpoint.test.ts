/**
 * Checkpoints through a real browser's IndexedDB (issue 20, point 6): a bundled user program trains a
 * small regression 5 steps on cpu in headless Chromium, saves params, Adam state and the SVI state with
 * `saveCheckpointIdb`, and takes a 6th step; the page is then reloaded (a new JavaScript context: only
 * IndexedDB persists), the program loads the checkpoint into a fresh store and optimizer, restores the
 * state, and takes the 6th step again. Both 6th steps must give the same loss, bit for bit, and the
 * same params; `listCheckpointsIdb` must list the key.
 */
import type { Browser } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveStatic, type StaticServer } from '../../examples/web/serve.js'
import { checkBuilt, launch, openPage, skipReason } from './chromium.js'
import { closeAll, userPage } from './user-page.js'

const PROGRAM = `import * as tf from '@tensorflow/tfjs-core'
import { constraints, elbo, gen, initBackend, listCheckpointsIdb, loadCheckpointIdb, normal, observe, param, sample, saveCheckpointIdb, svi } from 'tfppl'
const x = () => tf.linspace(-2, 2, 40)
const y = () => tf.add(tf.mul(x(), 1.5), tf.sin(tf.mul(x(), 7)))
const model = (x, y) => gen(function* () { const w = yield* sample('w', normal(0, 5)); yield* observe('y', normal(tf.mul(x, w), 0.5).toEvent(1), y) })
const guide = () => gen(function* () { yield* sample('w', normal(yield* param('loc', tf.scalar(0)), yield* param('scale', tf.scalar(0.5), { constraint: constraints.positive }))) })
const fresh = () => svi({ optimizer: tf.train.adam(0.05, 0.9, 0.999, 1e-7), loss: elbo(), seed: 3 })
const values = async (s) => ({ loc: (await s.params.value('loc').data())[0], scale: (await s.params.value('scale').data())[0] })
export const trainAndSave = async (key) => {
  await initBackend({ backend: 'cpu' })
  const s = fresh()
  for (let i = 0; i < 5; i++) await s.stepAsync(model, guide, x(), y())
  await saveCheckpointIdb(key, { store: s.params, optimizer: s.optimizer, state: s.state })
  const sixth = await s.stepAsync(model, guide, x(), y())
  return { sixth, ...(await values(s)), keys: await listCheckpointsIdb() }
}
export const loadAndStep = async (key) => {
  await initBackend({ backend: 'cpu' })
  const s = fresh()
  const { state } = await loadCheckpointIdb(key, { store: s.params, optimizer: s.optimizer })
  s.restore(state)
  const sixth = await s.stepAsync(model, guide, x(), y())
  return { sixth, ...(await values(s)), keys: await listCheckpointsIdb(), step: s.state.step }
}
`

describe.skipIf(skipReason() !== undefined)(`checkpoints through Chromium's IndexedDB survive a page reload${skipReason() === undefined ? '' : ` (skipped: ${skipReason()})`}`, () => {
  let dir = '', server: StaticServer | undefined, browser: Browser | undefined
  beforeAll(async () => {
    checkBuilt()
    const page = await userPage(PROGRAM)
    dir = page.dir
    server = await serveStatic(page.www)
    browser = await launch()
  }, 120_000)
  afterAll(() => closeAll(browser, server, dir))

  it('save, reload the page, load into a fresh svi: the next step equals the one taken before the reload', async () => {
    const { page, errors } = await openPage(browser!)
    try {
      const call = async (expr: string): Promise<Record<string, unknown>> => {
        await page.waitForFunction('window.app !== undefined', { timeout: 30_000 })
        return page.evaluate(expr).catch((e: unknown) => { throw new Error(`${expr} failed in the page: ${e instanceof Error ? e.message : String(e)}; console: ${errors.join(' | ')}`) }) as Promise<Record<string, unknown>>
      }
      await page.goto(server!.url)
      const before = await call("app.trainAndSave('regression-run')")
      await page.reload()
      const after = await call("app.loadAndStep('regression-run')")
      expect(before['keys']).toEqual(['regression-run'])
      expect(after['keys']).toEqual(['regression-run'])
      expect(after['step']).toBe(6)
      expect(after['sixth']).toBe(before['sixth'])
      expect({ loc: after['loc'], scale: after['scale'] }).toEqual({ loc: before['loc'], scale: before['scale'] })
    } finally {
      await page.close()
    }
  }, 120_000)
})
