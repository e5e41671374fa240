import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import { RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'
import { runAccess } from './chain.js'
import type { Gateway } from './gateway.js'
import { upstreamHeaders } from './headers.js'
import { sendError, sendFailure, sendReply } from './respond.js'
import { plainAddress } from './trust.js'
import { classifyUpstreamError } from './upstream-errors.js'

/** Routes whose protocols allow an upgrade: Kong OSS proxies upgrades on http(s) routes. */
const UPGRADE_PROTOCOLS = new Set(['http', 'https', 'ws', 'wss'])

/**
 * A WebSocket (or any `Upgrade`) request: the same checks, routing and access phase as any
 * request (auth applies to the handshake), then undici's upgrade dispatch and a raw pipe both
 * ways. Until the upstream answers 101, errors are written as normal JSON responses through a
 * ServerResponse attached to the socket.
 */
export async function handleUpgrade(gateway: Gateway, req: IncomingMessage, socket: Duplex, head: Buffer) {
  const rt = gateway.runtime
  const res = new ServerResponse(req)
  res.assignSocket(socket as Socket)
  res.shouldKeepAlive = false
  // a ServerResponse made by hand has none of the server's finish handling: an error answer
  // ends the connection here (an upgraded one is detached before this could fire)
  let upgraded = false
  res.once('finish', () => {
    if (!upgraded) socket.end()
  })
  const ctx = new RequestContext(req, res, crypto.randomUUID(), performance.now())
  try {
    gateway.prepare(ctx)
  } catch (err) {
    return sendFailure(ctx, rt.unmatched, err)
  }
  const match = rt.router.find(ctx.method, ctx.host, ctx.path, req)
  if (match === null) return sendError(ctx, rt.unmatched, new GatewayError('NO_ROUTE'))
  const route = match.value
  const service = route.service
  if (service === null) return sendError(ctx, route.chain, new GatewayError('NO_SERVICE'))
  if (!route.entity.protocols.some((p) => UPGRADE_PROTOCOLS.has(p))) {
    return sendError(ctx, route.chain, new GatewayError('BAD_REQUEST', 'upgrade not allowed on this route'))
  }
  ctx.route = route.info
  ctx.service = service.info
  ctx.captures = match.captures
  const stripped = match.strippedPath
  ctx.upstreamPath =
    service.basePath === '' ? stripped : service.basePath + (stripped === '/' ? '' : stripped)
  ctx.upstreamQuery = ctx.query
  const stop = await runAccess(route.chain, ctx)
  if (stop !== undefined) return sendReply(ctx, route.chain, stop)

  const target = service.balancer.pick(service.hashInput?.(ctx) ?? { hashKey: undefined })
  if (target === undefined) return sendError(ctx, route.chain, new GatewayError('NO_HEALTHY_TARGET'))
  const pool = service.pools.get(target)!
  const hostHeader = route.preserveHost ? (req.headers.host ?? '') : service.hostHeaders.get(target)!
  const headers = upstreamHeaders(
    ctx,
    {
      host: hostHeader,
      proto: 'http',
      port: String(req.socket.localPort ?? ''),
      forwardedHost: ctx.host,
      trusted: gateway.trust.trusts(plainAddress(req.socket.remoteAddress)),
    },
    null,
  )
  const path = ctx.upstreamQuery === '' ? ctx.upstreamPath : `${ctx.upstreamPath}?${ctx.upstreamQuery}`
  const upgrade = String(req.headers.upgrade ?? 'websocket')
  const handler: Dispatcher.DispatchHandler = {
    onConnect() {},
    onHeaders() {
      return true
    },
    onData() {
      return true
    },
    onComplete() {},
    onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, upstream: Duplex) {
      upgraded = true
      res.detachSocket(socket as Socket)
      gateway.trackUpgraded(socket)
      const lines = [`HTTP/1.1 ${statusCode} Switching Protocols`]
      const raw = rawHeaders ?? []
      for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]!.toString()}: ${raw[i + 1]!.toString()}`)
      socket.write(`${lines.join('\r\n')}\r\n\r\n`)
      if (head.length > 0) upstream.write(head)
      upstream.on('error', () => socket.destroy())
      socket.on('error', () => upstream.destroy())
      upstream.on('close', () => socket.destroy())
      socket.on('close', () => upstream.destroy())
      upstream.pipe(socket)
      socket.pipe(upstream)
    },
    onError(err: Error) {
      service.balancer.report(target, classifyUpstreamError(err).outcome)
      sendError(
        ctx,
        route.chain,
        new GatewayError(classifyUpstreamError(err).code, undefined, { cause: err }),
      )
    },
  }
  pool.dispatch({ path, method: 'GET', headers, upgrade, headersTimeout: service.readTimeout }, handler)
}
