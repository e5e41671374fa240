/**
 * The small amount of HTTP plumbing every demo service shares: a listener with sane timeouts,
 * JSON replies, bounded body reading, and an error boundary so a bad request can never crash
 * the process. Plain node:http on purpose: the services stand in for "any backend", so they
 * should add as little of their own overhead to a benchmark as possible.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { DemoServer, ListenOptions } from './types.js'

/** Largest request body any demo service accepts (1 MiB); bigger ones get 413. */
export const MAX_BODY_BYTES = 1024 * 1024

/**
 * An error that maps to one JSON reply `{"error": code, "message": message}`.
 *
 * @example
 *   throw new HttpError(404, 'not_found', 'no user 42')
 */
export class HttpError extends Error {
  readonly status: number
  readonly code: string
  readonly headers: Record<string, string>

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.headers = headers
  }
}

/** A service's request handler; the URL is already parsed and `/healthz` already answered. */
export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void

/**
 * Sends `body` as JSON with an exact Content-Length (so keep-alive clients never wait for a
 * chunked terminator).
 *
 * @example
 *   sendJson(res, 201, { id: '4' }, { location: '/users/4' })
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(payload.length),
  })
  res.end(payload)
}

/**
 * Waits `ms`, but gives up as soon as the client goes away, so an aborted request or a
 * `close()` does not leave timers holding the process open. Resolves `false` when the client
 * is gone and there is nobody left to answer.
 *
 * @example
 *   if (!(await delay(120, res))) return
 */
export async function delay(ms: number, res: ServerResponse): Promise<boolean> {
  if (ms <= 0) return !res.destroyed
  const aborted = new AbortController()
  const onClose = () => aborted.abort()
  res.once('close', onClose)
  try {
    await sleep(ms, undefined, { signal: aborted.signal })
    return true
  } catch {
    return false
  } finally {
    res.off('close', onClose)
  }
}

/** Status and JSON body for errors the HTTP parser reports before any handler runs. */
function clientErrorReply(err: NodeJS.ErrnoException): [number, string] {
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, 'headers_too_large']
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'request_timeout']
  return [400, 'bad_request']
}

/**
 * Starts a node:http server for one demo service and returns its {@link DemoServer} handle.
 * Every response carries `X-Instance: <name>`; `GET /healthz` answers 200 for every service.
 *
 * @example
 *   const srv = await serve('echo', { port: 0 }, (req, res) => sendJson(res, 200, { ok: true }))
 */
export async function serve(name: string, opts: ListenOptions, handler: Handler): Promise<DemoServer> {
  const started = Date.now()
  const server = createServer((req, res) => {
    res.setHeader('x-instance', name)
    Promise.resolve()
      .then(() => {
        const url = parseTarget(req.url ?? '/')
        if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
          return sendJson(res, 200, {
            status: 'ok',
            name,
            uptime_s: Math.round((Date.now() - started) / 1000),
          })
        }
        return handler(req, res, url)
      })
      .catch((err: unknown) => fail(name, req, res, err))
  })
  // Longer than undici's 4 s idle default, so the gateway's pool (not this server) retires idle
  // sockets; otherwise a request can be written to a socket the server is closing (ECONNRESET).
  server.keepAliveTimeout = 10_000
  server.headersTimeout = 15_000
  server.requestTimeout = 30_000
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Malformed requests get a JSON 4xx instead of node's plain-text default; a reset socket
    // has nobody to answer.
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy()
    const [status, code] = clientErrorReply(err)
    const body = JSON.stringify({ error: code, message: err.message })
    socket.end(
      `HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  })

  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  let closing: Promise<void> | undefined
  return {
    name,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        // close() alone waits for keep-alive sockets to idle out; tests and Ctrl-C should not
        server.closeAllConnections()
      })),
  }
}

/** Parses origin-form (`/a?b`) and absolute-form (`http://h/a`) request targets; 400 otherwise. */
function parseTarget(target: string): URL {
  try {
    // prefixing keeps `//users` a path instead of a protocol-relative host
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target)
  } catch {
    throw new HttpError(400, 'bad_request', 'invalid request target')
  }
}

function fail(name: string, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  if (err instanceof HttpError) {
    // After a 413 the rest of the body is unread; closing the connection is cheaper than
    // draining it, and tells a keep-alive client not to reuse this socket.
    const close: Record<string, string> = err.status === 413 && !req.complete ? { connection: 'close' } : {}
    sendJson(res, err.status, { error: err.code, message: err.message }, { ...err.headers, ...close })
    return
  }
  // Anything else is a bug in the demo service; say so loudly but keep serving.
  console.error(`[${name}] ${req.method} ${req.url} failed:`, err)
  sendJson(res, 500, { error: 'internal', message: 'unexpected error' })
}
