/** Every test file runs on the backend `initBackend` chooses (TFPPL_BACKEND=wasm|cpu forces one). */
import { beforeAll } from 'vitest'
import { initBackend } from '../src/backend/init.js'

beforeAll(async () => {
  await initBackend()
})
