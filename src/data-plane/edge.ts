import type http from 'node:http'
import net from 'node:net'
import tls from 'node:tls'
import type { H2Server } from './h2.js'
import type { OcspStapler } from './ocsp.js'
import { contextOptions, type KeyPair, type TlsOptions } from './tls.js'

/** One proxy listener in Kong's syntax: `0.0.0.0:8443 ssl http2`. */
export interface ListenSpec {
  host: string
  port: number
  /** TLS on this port */
  ssl: boolean
  /** HTTP/2: by ALPN with `ssl` (HTTP/1.1 still offered), by prior knowledge without */
  http2: boolean
}

/** What a TLS listener serves: the node's options, its default pair, and the runtime's SNI choice. */
export interface EdgeTls {
  options: TlsOptions
  /** served when the client sends no server name or one no SNI entity matches */
  defaultPair: KeyPair
  /** the current runtime's context for a server name, null for the default */
  select(servername: string): tls.SecureContext | null
  /** a handshake that failed (counted, never logged per client) */
  onHandshakeError(): void
  /** staples OCSP responses (tls.Server's 'OCSPRequest') */
  ocsp: OcspStapler
}

/** The HTTP/2 connection preface starts with these bytes (RFC 9113 §3.4); no HTTP/1 method does. */
const PRI = Buffer.from('PRI')

/**
 * A cleartext `http2` listener: the first bytes say which protocol the client speaks (the
 * HTTP/2 preface, or an HTTP/1.x request line), as nginx does on such a port. The connection
 * is handed to the right server with the bytes read so far.
 */
function sniff(socket: net.Socket, http1: http.Server, h2: H2Server, timeoutMs: number): void {
  const chunks: Buffer[] = []
  let length = 0
  const timer = setTimeout(() => socket.destroy(), timeoutMs)
  timer.unref()
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk)
    length += chunk.length
    const head = chunks.length === 1 ? chunk : Buffer.concat(chunks)
    const n = Math.min(PRI.length, length)
    const maybeH2 = head.subarray(0, n).equals(PRI.subarray(0, n))
    if (maybeH2 && length < PRI.length) return
    clearTimeout(timer)
    socket.off('data', onData)
    socket.off('close', onClose)
    socket.pause()
    if (maybeH2) {
      // the HTTP/2 session reads what is buffered on the socket before its own reads
      socket.unshift(head)
      h2.adopt(socket)
      return
    }
    // node:http parses from the socket's handle: the bytes already read go to its parser as
    // the data event it listens to, then reading resumes
    http1.emit('connection', socket)
    socket.emit('data', head)
    socket.resume()
  }
  const onClose = (): void => clearTimeout(timer)
  socket.on('data', onData)
  socket.once('close', onClose)
  socket.on('error', () => socket.destroy())
}

/**
 * A proxy listener that is not the plain HTTP/1.1 server itself: a TLS server (ALPN `h2` and
 * `http/1.1`, or `http/1.1` alone; certificates chosen per server name by the SNI callback, so
 * a certificate change reaches the next handshake without a restart), or a cleartext server
 * that tells HTTP/2 prior knowledge from HTTP/1.1. Either way the connection ends up on the one
 * HTTP/1.1 server or the one HTTP/2 server, which share the gateway.
 */
export function createEdge(
  spec: ListenSpec,
  http1: http.Server,
  h2: H2Server,
  edgeTls: EdgeTls | null,
  handshakeTimeoutMs: number,
): net.Server {
  if (!spec.ssl) {
    return net.createServer((socket) => {
      if (spec.http2) sniff(socket, http1, h2, handshakeTimeoutMs)
      else http1.emit('connection', socket)
    })
  }
  if (edgeTls === null) throw new Error('a TLS listener needs a certificate')
  const server = tls.createServer({
    ...contextOptions(edgeTls.defaultPair, edgeTls.options),
    ALPNProtocols: spec.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
    handshakeTimeout: handshakeTimeoutMs,
    SNICallback: (servername, callback) => {
      // the runtime's table, read at each handshake: a swapped runtime is used at once
      callback(null, edgeTls.select(servername) ?? undefined)
    },
  })
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    if (socket.alpnProtocol === 'h2') h2.adopt(socket)
    else http1.emit('connection', socket)
  })
  server.on('OCSPRequest', edgeTls.ocsp.handle)
  server.on('tlsClientError', (_err, socket) => {
    edgeTls.onHandshakeError()
    socket.destroy()
  })
  return server
}
