import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { extname, join, relative } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

// Same-origin only: the bundle, its stylesheet and the Admin API; no inline script, no frames.
const HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
}

/** Answers a GET/HEAD under `/ui/`; the assets hold no data (the UI reads it with the admin token). */
export type StaticFiles = (method: string, path: string, res: ServerResponse) => void

/**
 * The admin UI's built files (dist/ui), read once into memory when the Admin API starts: a few
 * hundred kilobytes, served without touching the disk. Missing directory: a 404 that says how
 * to build it.
 *
 * @example
 *   const ui = staticFiles(fileURLToPath(new URL('../ui/', import.meta.url)))
 *   ui('GET', '/ui/', res)
 */
export function staticFiles(dir: string): StaticFiles {
  const files = new Map<string, { type: string; body: Buffer }>()
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name)
      if (statSync(full).isDirectory()) walk(full)
      else
        files.set(`/ui/${relative(dir, full).split('\\').join('/')}`, {
          type: TYPES[extname(name)] ?? 'application/octet-stream',
          body: readFileSync(full),
        })
    }
  }
  if (existsSync(dir)) walk(dir)
  return (method, path, res) => {
    if (path === '/ui') {
      res.writeHead(301, { location: '/ui/', 'content-length': 0 })
      res.end()
      return
    }
    const file = files.get(path.endsWith('/') ? `${path}index.html` : path)
    if (file === undefined || (method !== 'GET' && method !== 'HEAD')) {
      const body =
        files.size === 0
          ? '{"message":"the admin UI is not built: run npm run build"}'
          : file === undefined
            ? '{"message":"Not found"}'
            : '{"message":"Method not allowed"}'
      res.writeHead(file === undefined ? 404 : 405, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      })
      res.end(body)
      return
    }
    res.writeHead(200, { ...HEADERS, 'content-type': file.type, 'content-length': file.body.length })
    res.end(method === 'HEAD' ? undefined : file.body)
  }
}
