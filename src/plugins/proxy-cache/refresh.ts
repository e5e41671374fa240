import type { TLSSocket } from 'node:tls'
import { request } from 'undici'
import type { RequestContext } from '../../core/context.js'

/**
 * Header that marks a background refresh this node sends to itself; its value is the node's
 * secret token, so a client cannot force a refresh by sending it (a wrong value is dropped).
 */
export const REFRESH_HEADER = 'x-portico-cache-refresh'

/** Request headers never replayed: framing, per-hop and per-request ones. */
const NOT_REPLAYED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'content-length',
  'expect',
  'x-request-id',
  REFRESH_HEADER,
])

/** A refresh gives up after this long (the upstream's own timeouts usually end it sooner). */
const REFRESH_TIMEOUT_MS = 60_000

/**
 * Prepares a replay of a request through this node's own proxy listener, marked as a refresh,
 * whose answer is discarded: the request takes the same route, authenticates as the same
 * consumer, and its response is stored by proxy-cache's response phase as any miss would be
 * (nginx's `proxy_cache_background_update` does the same with a subrequest). Everything is
 * captured now, so the replay may run after the client's connection is gone. Null when the
 * listener is TLS (no loopback replay): the caller refreshes in the foreground instead.
 *
 * @example
 *   const run = prepareReplay(ctx, node.token, null)
 *   run?.().finally(() => node.refreshing.delete(key))
 */
export function prepareReplay(
  ctx: RequestContext,
  token: string,
  body: Buffer | null,
): (() => Promise<void>) | null {
  const socket = ctx.req.socket
  if ((socket as TLSSocket).encrypted || socket.localPort === undefined) return null
  const host = socket.localAddress ?? '127.0.0.1'
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${socket.localPort}`
  const raw = ctx.req.rawHeaders
  const headers: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    if (!NOT_REPLAYED.has(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!)
  }
  headers.push(REFRESH_HEADER, token)
  const url = `${origin}${ctx.query === '' ? ctx.path : `${ctx.path}?${ctx.query}`}`
  const method = (ctx.method === 'HEAD' ? 'GET' : ctx.method) as 'GET'
  return () =>
    request(url, {
      method,
      headers,
      body: body ?? undefined,
      headersTimeout: REFRESH_TIMEOUT_MS,
      bodyTimeout: REFRESH_TIMEOUT_MS,
    })
      .then((res) => res.body.dump())
      .then(
        () => {},
        () => {},
      )
}
