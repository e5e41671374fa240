import type { Duplex } from 'node:stream'
import type { RequestContext } from '../core/context.js'
import type { Chain } from './chain.js'
import type { BufferedBody } from './request-buffer.js'
import type { CompiledRoute, Runtime } from './runtime.js'

/**
 * A request that came with `Upgrade` (Node hands its socket over on `'upgrade'`) and the bytes
 * that arrived after its head. For a WebSocket handshake only the upstream dispatch and the 101
 * differ from an ordinary request (see `ProxyCall`); everything before is the same walk. Any
 * other token is answered as an ordinary request, then the connection ends.
 */
export interface UpgradeRequest {
  readonly socket: Duplex
  readonly head: Buffer
  /** `Upgrade: websocket`: the only protocol tunnelled */
  readonly websocket: boolean
  /** set once the upstream answered 101 and the tunnel replaced the response */
  tunnelled: boolean
}

/**
 * One client request as the data plane walks it, HTTP or upgrade alike: the runtime it started
 * on (counted in `rt.inflight` until it is finished), the chain whose log phase runs at the end,
 * and what {@link Gateway.prepare} learnt from the head in its one pass over the raw headers.
 * One object per request (it replaces the former `Prepared` record, so the walk allocates no
 * more than before).
 */
export class Exchange {
  /** the route's chain once one matched, else the runtime's chain of unmatched requests */
  chain: Chain
  route: CompiledRoute | null = null
  /** Host header as the client sent it ('' when absent) */
  hostHeader = ''
  contentLength = 0
  chunked = false
  /** headers the client's `Connection` header declared hop-by-hop */
  dropped: Set<string> | null = null
  /** the client's body as the route's `request_buffering` read it (released when the request ends) */
  body: BufferedBody | null = null
  /** the response's slot among the gateway's in-flight responses (see inflight.ts) */
  slot = -1
  /** the client's connection is TLS (a TLS listener): X-Forwarded-Proto, route protocols */
  readonly scheme: 'http' | 'https'
  /** the request came over HTTP/2 (one stream of a shared connection) */
  readonly h2: boolean

  constructor(
    readonly rt: Runtime,
    readonly ctx: RequestContext,
    readonly upgrade: UpgradeRequest | null,
  ) {
    this.chain = rt.unmatched
    // read through HTTP/2's socket proxy too: `encrypted` is the TLS socket's own
    this.scheme = (ctx.req.socket as { encrypted?: boolean } | null)?.encrypted === true ? 'https' : 'http'
    this.h2 = ctx.req.httpVersionMajor === 2
  }

  /** the client sends a body (Content-Length > 0 or chunked) */
  get hasBody(): boolean {
    return this.chunked || this.contentLength > 0
  }
}
