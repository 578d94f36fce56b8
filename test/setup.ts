/**
 * Every test file runs on the backend `initBackend` chooses (TFPPL_BACKEND=wasm|cpu forces one),
 * on the Node platform, as `tfppl` in Node does: TFPPL_* variables, the accelerator, checkpoint files.
 */
import { beforeAll } from 'vitest'
import { initBackend } from '../src/backend/init.js'
import { installNodePlatform } from '../src/platform-node.js'

installNodePlatform()

beforeAll(async () => {
  await initBackend()
})
