/**
 * A small static file server for the demo and the browser tests: it sends the
 * cross-origin isolation headers (COOP/COEP) that SharedArrayBuffer, and with it
 * tfjs-backend-wasm's threaded build, need, and `application/wasm` for `.wasm`
 * files (so the browser can compile them while they download).
 */
import { createServer, type Server } from 'node:http'
import { promises as fs } from 'node:fs'
import * as path from 'node:path'

/** Headers sent with every file: the page is cross-origin isolated. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.bin': 'application/octet-stream',
  '.map': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon',
}

/** A running server: its base URL (ending in `/`) and how to stop it. */
export interface StaticServer {
  readonly url: string
  readonly close: () => Promise<void>
}

/** The file under `root` a request path names, or undefined when it escapes `root`. */
const fileFor = (root: string, urlPath: string): string | undefined => {
  const rel = decodeURIComponent(urlPath.split('?')[0] ?? '/')
  const file = path.resolve(root, '.' + (rel.endsWith('/') ? rel + 'index.html' : rel))
  return file === root || file.startsWith(root + path.sep) ? file : undefined
}

/**
 * Serves the files under `root` on 127.0.0.1 (`port` 0: any free port), with {@link ISOLATION_HEADERS}.
 * Files may be cached for `maxAge` seconds (default 0: revalidate each time, with an ETag).
 *
 * @example
 * const server = await serveStatic('examples/web/dist', { port: 8080 })
 * console.log(server.url)   // http://127.0.0.1:8080/
 */
export const serveStatic = async (root: string, opts: { readonly port?: number; readonly maxAge?: number } = {}): Promise<StaticServer> => {
  const base = path.resolve(root)
  const server: Server = createServer((req, res) => {
    void (async () => {
      const file = fileFor(base, req.url ?? '/')
      const stat = file === undefined ? undefined : await fs.stat(file).catch(() => undefined)
      if (file === undefined || stat === undefined || !stat.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...ISOLATION_HEADERS }).end(`not found: ${req.url ?? ''}\n`)
        return
      }
      const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`
      const headers = { ...ISOLATION_HEADERS, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': `max-age=${opts.maxAge ?? 0}`, ETag: etag }
      if (req.headers['if-none-match'] === etag) { res.writeHead(304, headers).end(); return }
      res.writeHead(200, { ...headers, 'Content-Length': String(stat.size) })
      res.end(req.method === 'HEAD' ? undefined : await fs.readFile(file))
    })().catch((e: unknown) => { if (!res.headersSent) res.writeHead(500).end(String(e)) })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
