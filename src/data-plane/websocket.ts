import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import type { Exchange, UpgradeRequest } from './exchange.js'
import { REQUEST_ID_HEADER } from './respond.js'
import type { CompiledRoute } from './runtime.js'

/** Routes whose protocols allow an upgrade: Kong OSS proxies upgrades on http(s) routes. */
const UPGRADE_PROTOCOLS = new Set(['http', 'https', 'ws', 'wss'])

/**
 * Where an upgrade differs from an ordinary request. The walk (prepare, routing, bookkeeping,
 * access phase, target, forwarded headers, log phase, observers) is the gateway's one walk; the
 * upstream call is `ProxyCall` with undici's `upgrade` option. What is left here is the protocol:
 * which upgrades are tunnelled, and the tunnel once the upstream said 101.
 */

/** `Upgrade: websocket` (RFC 6455 §4.1: the token is case-insensitive). */
export function isWebSocket(req: IncomingMessage): boolean {
  const u = req.headers.upgrade
  return typeof u === 'string' && u.trim().toLowerCase() === 'websocket'
}

/**
 * Why an upgrade request is refused on this route, or null. Only WebSocket is tunnelled: any
 * other token (h2c, a made-up one) is ignored as Kong's nginx ignores it, and the request is
 * answered as ordinary HTTP on a connection that then ends, so nothing sent after it is ever
 * read unchecked. Node stops parsing a connection at an upgrade request, so a body it carries
 * cannot be read: such a request, and a WebSocket handshake that is not a bodiless GET
 * (RFC 6455 §4.1), gets a 400.
 */
export function upgradeRefusal(x: Exchange, route: CompiledRoute): GatewayError | null {
  if (x.hasBody) return new GatewayError('BAD_REQUEST', 'Bad request: an upgrade request carries no body')
  if (!x.upgrade!.websocket) return null
  if (x.ctx.method !== 'GET')
    return new GatewayError('BAD_REQUEST', 'Bad request: a WebSocket handshake is a GET')
  if (!route.entity.protocols.some((p) => UPGRADE_PROTOCOLS.has(p)))
    return new GatewayError('BAD_REQUEST', 'upgrade not allowed on this route')
  return null
}

/**
 * The upstream answered 101: the response object steps aside, the 101 is written as the
 * upstream sent it (plus the request id and the headers plugins queued), and the two sockets
 * are joined. The response's 'close' (runtime release, log phase, observers) fires when the
 * tunnel closes, as nginx logs a WebSocket when its connection ends.
 */
export function openTunnel(
  ctx: RequestContext,
  up: UpgradeRequest,
  rawHeaders: Buffer[],
  upstream: Duplex,
): void {
  const res = ctx.res
  const socket = up.socket
  up.tunnelled = true
  res.detachSocket(socket as Socket)
  socket.once('close', () => res.emit('close'))
  ctx.status = 101
  let head = 'HTTP/1.1 101 Switching Protocols\r\n'
  for (let i = 0; i < rawHeaders.length; i += 2)
    head += `${rawHeaders[i]!.toString('latin1')}: ${rawHeaders[i + 1]!.toString('latin1')}\r\n`
  const extra = ctx.responseHeaders
  if (extra !== null) for (let i = 0; i < extra.length; i += 2) head += `${extra[i]}: ${extra[i + 1]}\r\n`
  socket.write(`${head}${REQUEST_ID_HEADER}: ${ctx.id}\r\n\r\n`)
  if (up.head.length > 0) upstream.write(up.head)
  upstream.on('error', () => socket.destroy())
  socket.on('error', () => upstream.destroy())
  upstream.on('close', () => socket.destroy())
  socket.on('close', () => upstream.destroy())
  upstream.pipe(socket)
  socket.pipe(upstream)
}
