import http2 from 'node:http2'
import type { Duplex } from 'node:stream'
import type { Gateway } from './gateway.js'
import type { ServerLimits } from './server.js'

/** HTTP/2 limits of the proxy listeners (RFC 9113 SETTINGS, and the rapid-reset guard). */
export interface H2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open at once */
  maxConcurrentStreams: number
  /** SETTINGS_INITIAL_WINDOW_SIZE: per-stream flow-control window (bytes) */
  initialWindowSize: number
  /** memory one session may hold in nghttp2 (MB) before new streams are refused */
  maxSessionMemory: number
  /**
   * streams a client may reset (or have refused) in a burst, refilled at `resetRate` a second;
   * beyond, the connection gets GOAWAY(ENHANCE_YOUR_CALM) and is closed (CVE-2023-44487)
   */
  resetBurst: number
  resetRate: number
}

export const DEFAULT_H2_LIMITS: H2Limits = {
  maxConcurrentStreams: 128,
  initialWindowSize: 65_535,
  maxSessionMemory: 10,
  resetBurst: 200,
  resetRate: 100,
}

/**
 * The rapid-reset guard: a token bucket per session, spent by every stream that closes with an
 * error code (the client's RST_STREAM, almost always: the gateway resets a stream itself only
 * when an upstream fails mid-body). Each such stream cost a request walk, perhaps an upstream
 * call; a client that resets at line rate empties the bucket within `resetBurst` streams and
 * loses its connection, so its cost is bounded by the handshake it must redo. Streams refused
 * for going over the concurrency limit never reach here: `maxSessionRejectedStreams` bounds them.
 */
function guardResets(
  session: http2.ServerHttp2Session,
  socket: Duplex | null,
  limits: H2Limits,
  onCut: () => void,
): void {
  let tokens = limits.resetBurst
  let at = performance.now()
  session.on('stream', (stream) => {
    stream.once('close', () => {
      if (stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) return
      const now = performance.now()
      tokens = Math.min(limits.resetBurst, tokens + ((now - at) / 1000) * limits.resetRate)
      at = now
      if (--tokens >= 0 || session.closed || session.destroyed) return
      onCut()
      // GOAWAY(ENHANCE_YOUR_CALM): nghttp2 ignores every stream the client opens after it, and
      // the session closes once the streams it has are done (all reset); destroying at once
      // would drop the GOAWAY before it is written. A client that holds on is cut after 1 s.
      session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM)
      session.close()
      const timer = setTimeout(() => {
        session.destroy()
        socket?.destroy()
      }, 1000)
      timer.unref()
      session.once('close', () => clearTimeout(timer))
    })
  })
}

/** What the node counts about its HTTP/2 sessions and TLS handshakes. */
export interface H2Stats {
  sessions: number
  /** sessions closed by the rapid-reset guard */
  resetCutoffs: number
  /** TLS handshakes that failed on the proxy listeners (counted here, never logged per client) */
  tlsHandshakeErrors: number
}

/**
 * The HTTP/2 side of the proxy: a cleartext HTTP/2 server that never listens itself; the TLS
 * listeners hand it (`adopt`) the connections that chose `h2` by ALPN, and a plain `http2`
 * listener those that open with the HTTP/2 preface. Its requests walk the same {@link Gateway} as HTTP/1.1
 * ones (node:http2's compatibility request and response).
 */
export function createH2Server(gateway: Gateway, limits: ServerLimits, h2: H2Limits) {
  const server = http2.createServer({
    settings: {
      maxConcurrentStreams: h2.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderSize,
      initialWindowSize: h2.initialWindowSize,
      enablePush: false,
    },
    maxSessionMemory: h2.maxSessionMemory,
    // the header count limit of HTTP/1.1, plus the four pseudo-headers
    maxHeaderListPairs: gateway.limits.maxHeaders + 5,
    maxSessionRejectedStreams: h2.resetBurst,
    maxSessionInvalidFrames: 100,
  })
  const sessions = new Set<http2.ServerHttp2Session>()
  const stats: H2Stats = { sessions: 0, resetCutoffs: 0, tlsHandshakeErrors: 0 }
  // the connection being handed over: node:http2 makes its session (and emits 'session')
  // synchronously inside emit('connection'), so the guard learns the raw socket here
  let adopting: Duplex | null = null
  const adopt = (socket: Duplex): void => {
    adopting = socket
    try {
      server.emit('connection', socket)
    } finally {
      adopting = null
    }
  }
  server.on('session', (session) => {
    const socket = adopting
    sessions.add(session)
    stats.sessions++
    session.once('close', () => sessions.delete(session))
    // an idle connection is closed as an idle HTTP/1.1 keep-alive one would be
    session.setTimeout(limits.keepAliveTimeout, () => session.close())
    guardResets(session, socket, h2, () => stats.resetCutoffs++)
  })
  server.on('request', gateway.handle as never)
  server.on('checkContinue', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    req.once('resume', () => {
      if (!res.headersSent) res.writeContinue()
    })
    gateway.handle(req as never, res as never)
  })
  // a malformed stream or session is nghttp2's to refuse; nothing to log per client
  server.on('sessionError', () => {})
  return { server, adopt, sessions, stats }
}

export type H2Server = ReturnType<typeof createH2Server>

/** Graceful end: GOAWAY to every session (open streams finish), destroyed at the deadline. */
export function drainH2(h2: H2Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (h2.sessions.size === 0) return resolve()
    let open = h2.sessions.size
    const timer = setTimeout(() => {
      for (const s of h2.sessions) s.destroy()
      resolve()
    }, deadlineMs)
    timer.unref()
    for (const s of h2.sessions) {
      s.close(() => {
        if (--open === 0) {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  })
}
