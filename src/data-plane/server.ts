import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import type { Duplex } from 'node:stream'
import type { Gateway } from './gateway.js'

/** Connection-level limits (DESIGN §5). Timeouts are checked every second so they fire on time. */
export interface ServerLimits {
  /** largest request head in bytes (Node answers 431 beyond it) */
  maxHeaderSize: number
  /** the whole request head must arrive within this (ms) */
  headersTimeout: number
  /** the whole request, body included, must arrive within this (ms); 0 = none */
  requestTimeout: number
  keepAliveTimeout: number
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxHeaderSize: 16_384,
  headersTimeout: 10_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 75_000,
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request header fields too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request timeout'],
}

/**
 * Parser-level failures (Node answers them before any 'request' event): strict parsing refuses
 * ambiguous framing, bad header bytes and oversized heads. We answer them in Portico's JSON
 * shape and close the connection.
 */
function onClientError(err: NodeJS.ErrnoException & { bytesParsed?: number }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad request']
  const body = JSON.stringify({ message })
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** The limits every listener of the node applies (proxy, admin, status; plain or TLS). */
function listenerOptions(limits: ServerLimits): http.ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: 1000,
  }
}

/**
 * The proxy listener: strict parsing (never `insecureHTTPParser`), limits, the gateway's
 * handler, WebSocket upgrades.
 */
export function createProxyServer(gateway: Gateway, limits: ServerLimits): http.Server {
  const server = http.createServer(
    { ...listenerOptions(limits), insecureHTTPParser: false, joinDuplicateHeaders: false },
    gateway.handle,
  )
  // one more than the limit so the gateway can see the limit was passed and answer 431
  server.maxHeadersCount = gateway.limits.maxHeaders + 1
  server.on('clientError', onClientError)
  server.on('upgrade', gateway.handleUpgrade)
  // `Expect: 100-continue` (RFC 9110 §10.1.1): the 100 goes out when something starts reading
  // the body (the upstream stream, a plugin's reader); a request answered before that (a 401, a
  // 413 on its Content-Length) is answered without it, and node:http closes that connection
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.once('resume', () => {
      if (!res.headersSent) res.writeContinue()
    })
    gateway.handle(req, res)
  })
  return server
}

/** A plain listener for the status endpoints (and the admin API): same strictness, own handler. */
export function createPlainServer(handler: http.RequestListener, limits: ServerLimits): http.Server {
  const server = http.createServer(listenerOptions(limits), handler)
  server.on('clientError', onClientError)
  return server
}

/** The same listener over TLS (admin and status with `ssl`): the node's default certificate. */
export function createTlsServer(
  handler: http.RequestListener,
  limits: ServerLimits,
  tlsOptions: https.ServerOptions,
): http.Server {
  const server = https.createServer({ ...tlsOptions, ...listenerOptions(limits) }, handler)
  server.on('clientError', onClientError)
  return server
}

/** Listen and resolve with the bound address (port 0 → a free port). */
export function listen(
  server: net.Server,
  host: string,
  port: number,
): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const a = server.address()
      if (a === null || typeof a === 'string') return reject(new Error('no address'))
      resolve({ host: a.address, port: a.port })
    })
  })
}

/**
 * Graceful stop: no new connections, idle keep-alive connections closed now, busy ones get
 * `Connection: close` on their current response (the gateway's `draining` flag), and whatever
 * is still open at the deadline is cut.
 */
export function drain(server: http.Server, gateway: Gateway | null, deadlineMs: number): Promise<void> {
  gateway?.startDraining()
  return new Promise((resolve) => {
    // a connection whose response just finished is idle now: close it before the client reuses it
    const sweep = setInterval(() => server.closeIdleConnections(), 100)
    let poll: NodeJS.Timeout | undefined
    const timer = setTimeout(() => {
      server.closeAllConnections()
      clearInterval(poll)
      resolve()
    }, deadlineMs)
    timer.unref()
    const done = (): void => {
      clearTimeout(timer)
      clearInterval(sweep)
      clearInterval(poll)
      resolve()
    }
    // a server that never listened (its connections come from TLS or HTTP/2-capable fronts)
    // has nothing to close: it is drained once its last response is done
    if (server.listening) server.close(done)
    else {
      poll = setInterval(() => {
        if ((gateway?.inProgress ?? 0) > 0) return
        server.closeAllConnections()
        done()
      }, 100)
    }
    server.closeIdleConnections()
  })
}
