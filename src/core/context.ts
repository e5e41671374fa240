import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { type Slot, slotCount } from './slot.js'

/** What plugins see of a route or a service: enough to key and label on. */
export interface EntityInfo {
  readonly id: string
  readonly name?: string | undefined
}

/** The authenticated consumer, as set by an auth plugin. */
export interface ConsumerInfo {
  readonly id: string
  readonly username?: string | undefined
  readonly custom_id?: string | undefined
}

/** The credential that authenticated the request (`X-Credential-Identifier`). */
export interface CredentialInfo {
  readonly id: string
  readonly identifier: string
}

/**
 * What a plugin asks for when it answers a client itself but wants the request to reach the
 * upstream anyway, with nobody waiting for the answer (a stale answer served while its
 * fresh copy is fetched, nginx's `proxy_*_background_update`). Set it on {@link RequestContext.afterReply} in the
 * access phase, next to the reply. Once the reply is on its way, the data plane continues a
 * copy of the request in the same process: the copy (`background` true, a new request id, the
 * same route, consumer, upstream edits and buffered body, its response going nowhere) re-enters
 * the access phase at `from`, then runs the rest of it, the upstream call, the response, body
 * and log phases. Observers (metrics, access log) do not see it: it is not a client's request.
 */
export interface BackgroundContinuation {
  /**
   * the plugin instance asking (compared by identity): the copy's access phase starts at it (it
   * sees `ctx.background`). Typed `object` so this file does not import plugin.ts, which imports it.
   */
  readonly from: object
  /** the copy's method, when it must differ (a HEAD's entry is refreshed with a GET) */
  readonly method?: string
  /** called with the copy before it goes on: the plugin's own state for it goes here */
  prepare(copy: RequestContext): void
  /**
   * called once when the copy is finished, whatever happened; with `started` false when it
   * could not run at all (a client body that was streamed, not buffered, cannot be replayed)
   */
  done(copy: RequestContext, started: boolean): void
}

/**
 * One request's state, created once per request by the data plane and handed through every
 * phase. Fields are all initialised in the constructor so every instance has the same shape
 * (V8 keeps property access monomorphic on the hot path).
 *
 * Plugins change what goes upstream with {@link setUpstreamHeader} /
 * {@link removeUpstreamHeader} and add to what goes back with {@link addResponseHeader}; the
 * data plane applies these edits once, when it builds the upstream request and the response.
 *
 * @example
 *   access(ctx) {
 *     ctx.setUpstreamHeader('x-consumer-id', consumer.id)
 *     ctx.addResponseHeader('x-served-by', 'edge-1')
 *   }
 */
export class RequestContext {
  /**
   * The client's request and response: node:http's objects for HTTP/1.1, node:http2's
   * compatibility objects (same API: headers, rawHeaders, url, socket, writeHead, write, end,
   * 'close') for HTTP/2. Plugins read and answer through the context; nothing depends on which.
   */
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** request id (`X-Request-Id` / `Kong-Request-ID` style), also in every error body */
  id: string
  /** `performance.now()` at accept */
  readonly start: number
  readonly method: string
  /** method sent upstream (request-transformer's `http_method` changes it) */
  upstreamMethod: string
  /** lower-case host without port */
  host: string
  /** normalised path (dot segments and duplicate slashes resolved): what was matched */
  path: string
  /** raw query string without `?`, '' when absent */
  query: string
  /** the real client address (X-Forwarded-For honoured only from trusted proxies) */
  clientIp: string
  route: EntityInfo | null
  service: EntityInfo | null
  /** named captures of a regex route path */
  captures: Record<string, string> | null
  /** every group of a regex route path by position, named ones included (null: no regex) */
  positionalCaptures: Array<string | null> | null
  consumer: ConsumerInfo | null
  credential: CredentialInfo | null
  /** set when the consumer is the configured anonymous one */
  anonymous: boolean
  /** path sent upstream (after strip_path and the service path) */
  upstreamPath: string
  /** query sent upstream; plugins may rewrite it */
  upstreamQuery: string
  /** replaced request body (request-transformer), or null to stream the client's */
  upstreamBody: Buffer | null
  /**
   * largest request body accepted (bytes, 0 = no limit): the node's limit, which plugins may
   * lower (request-size-limiting); a body read by a plugin or streamed upstream is cut past it
   */
  maxBody: number
  /** header name (lower-case) → value, or null to remove; applied after the client's headers */
  upstreamHeaderEdits: Map<string, string | string[] | null> | null
  /**
   * the spelling a plugin gave a header it set, when not lower-case (lower-case name → as
   * given): the upstream gets it so (Kong sends a header name as the plugin wrote it); null
   * until such a name is set
   */
  upstreamHeaderNames: Map<string, string> | null
  /** extra response headers as a flat `[name, value, …]` list */
  responseHeaders: string[] | null
  /**
   * plugins' own per-request facts, by {@link Slot} index; null until a plugin writes one (most
   * requests on plain routes never allocate it). Read and written through {@link get}/{@link set}.
   */
  slots: unknown[] | null
  /** `performance.now()` when the upstream request was sent / its headers arrived (NaN if never) */
  upstreamStart: number
  upstreamHeadersAt: number
  /** final status sent to the client */
  status: number
  /** target that served the request, `host:port`, '' when none */
  target: string
  /** the data plane's in-flight upstream call (cancelled if the client leaves first) */
  upstreamCall: { clientClosed(): void } | null
  /** W3C `traceparent` sent upstream (this hop's span as parent), '' until one is sent */
  traceparent: string
  /** set by a plugin that answered but wants the request continued upstream (see {@link BackgroundContinuation}) */
  afterReply: BackgroundContinuation | null
  /** this context is such a continuation: no client waits for its response */
  background: boolean
  /** Kong's latency headers the answer carries (data-plane/latency.ts bits, the node's `headers` setting); 0 = none */
  latencyHeaders: number

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    start: number,
    method: string = req.method ?? 'GET',
  ) {
    this.req = req
    this.res = res
    this.id = id
    this.start = start
    this.method = method
    this.upstreamMethod = this.method
    this.host = ''
    this.path = '/'
    this.query = ''
    this.clientIp = ''
    this.route = null
    this.service = null
    this.captures = null
    this.positionalCaptures = null
    this.consumer = null
    this.credential = null
    this.anonymous = false
    this.upstreamPath = '/'
    this.upstreamQuery = ''
    this.upstreamBody = null
    this.maxBody = 0
    this.upstreamHeaderEdits = null
    this.upstreamHeaderNames = null
    this.responseHeaders = null
    this.slots = null
    this.upstreamStart = Number.NaN
    this.upstreamHeadersAt = Number.NaN
    this.status = 0
    this.target = ''
    this.upstreamCall = null
    this.traceparent = ''
    this.afterReply = null
    this.background = false
    this.latencyHeaders = 0
  }

  /** The client's request headers (Node's lower-cased object, built lazily by Node). */
  get headers(): IncomingHttpHeaders {
    return this.req.headers
  }

  /** First value of a request header as the client sent it (after any upstream edit). */
  header(name: string): string | undefined {
    const edited = this.upstreamHeaderEdits?.get(name)
    if (edited !== undefined) return edited === null ? undefined : Array.isArray(edited) ? edited[0] : edited
    const v = this.req.headers[name]
    return Array.isArray(v) ? v[0] : v
  }

  setUpstreamHeader(name: string, value: string | string[]): void {
    const edits = this.upstreamHeaderEdits ?? (this.upstreamHeaderEdits = new Map())
    const lower = name.toLowerCase()
    edits.set(lower, value)
    if (lower !== name) (this.upstreamHeaderNames ??= new Map()).set(lower, name)
    else this.upstreamHeaderNames?.delete(lower)
  }

  removeUpstreamHeader(name: string): void {
    const edits = this.upstreamHeaderEdits ?? (this.upstreamHeaderEdits = new Map())
    edits.set(name.toLowerCase(), null)
  }

  addResponseHeader(name: string, value: string): void {
    const list = this.responseHeaders ?? (this.responseHeaders = [])
    list.push(name, value)
  }

  /** A plugin's fact for this request, or the slot's initial value when none was set. */
  get<T>(slot: Slot<T>): T {
    const v = this.slots?.[slot.index]
    return v === undefined ? slot.initial : (v as T)
  }

  /** Sets a plugin's fact for this request; returns it (typed as given: `get(s) ?? set(s, fresh)`). */
  set<T, V extends T>(slot: Slot<T>, value: V): V {
    // every slot is declared at module load, before any request: the array never grows
    ;(this.slots ??= new Array(slotCount()))[slot.index] = value
    return value
  }
}
