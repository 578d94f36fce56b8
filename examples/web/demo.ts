/**
 * `npm run demo`: builds the demo page (see `build.ts`) and serves it on
 * http://127.0.0.1:8080/ (or `PORT`; any free port when that one is taken),
 * with the COOP/COEP headers of `serve.ts`. Ctrl-C stops it.
 */
import { buildWeb } from './build.js'
import { serveStatic, type StaticServer } from './serve.js'

const { outDir } = await buildWeb()
const port = Number(process.env['PORT'] ?? 8080)
const server: StaticServer = await serveStatic(outDir, { port }).catch(() => serveStatic(outDir, { port: 0 }))
console.log(`tfppl demo: ${server.url}   (serving ${outDir}; Ctrl-C to stop)`)
process.once('SIGINT', () => { void server.close().then(() => process.exit(0)) })
