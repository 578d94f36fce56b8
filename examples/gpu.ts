/**
 * The GPU opt-in: install `@tensorflow/tfjs-node-gpu` (CUDA) or `@tensorflow/tfjs-node`
 * and the same code runs on the native `tensorflow` backend — no code changes.
 *   npm install @tensorflow/tfjs-node-gpu && npx tsx examples/gpu.ts
 * Force a backend with TFPPL_BACKEND=tensorflow|wasm|cpu (a forced backend that
 * cannot load is an error, never a silent fallback). Without a GPU, the wasm backend
 * runs with the native CPU accelerator when it is built (apt-get install -y libopenblas-dev,
 * then npm rebuild tfppl); the last line says whether it is on.
 */
import { backendInfo, initBackend } from 'tfppl'

await initBackend()
const info = backendInfo()
console.log(`backend: ${info.name} (${info.package})${info.gpu ? ' on the GPU' : ''}`)
for (const reason of info.skipped) console.log(`  skipped ${reason}`)
console.log(`native CPU accelerator: ${info.nativeStatus}`)
