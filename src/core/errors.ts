/**
 * Every error Portico answers with, in one table: a code, its HTTP status and the message a
 * client sees (Kong's wording where Kong has one). Tests assert `code` and `status`, never the
 * wording, so messages may change without breaking anything. Plugins answer through
 * {@link reply}; the data plane through {@link GatewayError}.
 *
 * `exit: true` marks the answers Kong sends with `kong.response.exit` (the body exactly as the
 * plugin gives it, no `request_id`); the others are `kong.response.error` bodies:
 * `{"message", "request_id"}`.
 *
 * @example
 *   throw new GatewayError('UPSTREAM_TIMEOUT')          // → 504 {"message":"The upstream server is timing out"}
 *   throw new GatewayError('BAD_REQUEST', 'bad path')  // → 400 {"message":"bad path"}
 */
export const ERRORS = {
  // client side: rejected before any upstream call
  BAD_REQUEST: { status: 400, message: 'Bad request' },
  AMBIGUOUS_FRAMING: { status: 400, message: 'Bad request: ambiguous message framing' },
  BAD_PATH: { status: 400, message: 'Bad request: invalid path' },
  HOST_MISMATCH: { status: 400, message: 'Bad request: request target and Host disagree' },
  DUPLICATE_HOST: { status: 400, message: 'Bad request: duplicate Host header' },
  REQUEST_TIMEOUT: { status: 408, message: 'Request timeout' },
  BODY_TOO_LARGE: { status: 413, message: 'Request size limit exceeded' },
  URI_TOO_LONG: { status: 414, message: 'Request-URI too long' },
  HEADERS_TOO_LARGE: { status: 431, message: 'Request header fields too large' },
  NO_ROUTE: { status: 404, message: 'no Route matched with those values' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  // authentication and authorisation (key-auth, basic-auth, jwt, acl): Kong's wording
  UNAUTHORIZED: { status: 401, message: 'Unauthorized' },
  /** jwt answers with `kong.response.exit`: `{"message":"Invalid signature"}` or the claim errors */
  TOKEN_REJECTED: { status: 401, message: 'Unauthorized', exit: true },
  FORBIDDEN: { status: 403, message: 'You cannot consume this service' },
  /** ip-restriction (status and message configurable) */
  IP_FORBIDDEN: { status: 403, message: 'IP address not allowed' },
  /** an auth plugin's `anonymous` names no consumer (Kong logs it and answers 500 with this) */
  ANONYMOUS_MISSING: { status: 500, message: 'anonymous consumer is configured but does not exist' },
  // rate-limiting (status and message configurable: error_code, error_message)
  RATE_LIMITED: { status: 429, message: 'API rate limit exceeded' },
  // request-size-limiting
  LENGTH_REQUIRED: { status: 411, message: 'A valid Content-Length header is required' },
  EXPECTATION_FAILED: { status: 417, message: 'Request size limit exceeded' },
  /** request-termination: the configured status and body, as `kong.response.exit` sends them */
  TERMINATED: { status: 503, message: 'Service unavailable', exit: true },
  // Admin API endpoints of plugins
  SCHEMA_VIOLATION: { status: 400, message: 'schema violation' },
  // upstream side: mapped in one place (data-plane/upstream-errors.ts)
  UPSTREAM_CONNECT_FAILED: {
    status: 502,
    message: 'An invalid response was received from the upstream server',
  },
  UPSTREAM_BAD_RESPONSE: {
    status: 502,
    message: 'An invalid response was received from the upstream server',
  },
  NO_HEALTHY_TARGET: { status: 503, message: 'failure to get a peer from the ring-balancer' },
  UPSTREAM_DNS_FAILED: { status: 503, message: 'name resolution failed' },
  NO_SERVICE: { status: 503, message: 'no Service found with those values' },
  // every connection to the upstream busy and its wait queue full (node setting `upstreamPool`)
  UPSTREAM_BUSY: { status: 503, message: 'The upstream is busy: too many requests waiting for a connection' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream server is timing out' },
  // proxy-cache: `Cache-Control: only-if-cached` and nothing cached (RFC 9111 §5.2.1.7)
  CACHE_ONLY_IF_CACHED: { status: 504, message: 'Gateway Timeout: not in cache (only-if-cached)' },
  // request-queue: every slot taken and the queue full, or the wait ran out (with Retry-After)
  QUEUE_FULL: { status: 503, message: 'The upstream is busy: the request queue is full' },
  QUEUE_TIMEOUT: { status: 503, message: 'The upstream is busy: no slot freed within the queue wait' },
  // circuit-breaker: open, the request failed fast without an upstream call (with Retry-After)
  CIRCUIT_OPEN: { status: 503, message: 'The upstream is unavailable: its circuit breaker is open' },
  // gateway itself
  INTERNAL: { status: 500, message: 'An unexpected error occurred' },
  UNAVAILABLE: { status: 503, message: 'Service unavailable' },
} as const satisfies Record<string, { status: number; message: string; exit?: true }>

export type ErrorCode = keyof typeof ERRORS

/** A failure with a code from {@link ERRORS}; the data plane turns it into a JSON reply. */
export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  /** extra response headers (for example `Retry-After`) */
  readonly headers: Record<string, string> | undefined

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(
      message ?? ERRORS[code].message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'GatewayError'
    this.code = code
    this.status = ERRORS[code].status
    this.headers = options?.headers
  }
}

/** Error body shape shared by every gateway-generated error. */
export function errorBody(message: string, requestId: string | undefined): string {
  return requestId === undefined
    ? JSON.stringify({ message })
    : JSON.stringify({ message, request_id: requestId })
}

/** Kong's DB error code for a schema violation (kong/db/errors.lua), sent in Admin API bodies. */
export const KONG_SCHEMA_VIOLATION = 2

/** What {@link reply} may change of the table's answer. */
export interface ReplyOptions {
  /** a status other than the table's (a plugin's configured one: `error_code`, `status`) */
  status?: number
  /** a message other than the table's, in the usual `{"message"}` body */
  message?: string
  /** extra headers, lower-case names (`www-authenticate`, `retry-after`) */
  headers?: Record<string, string> | undefined
  /**
   * the whole body instead of `{"message"}`: an object is sent as JSON, a string or Buffer as
   * is (give its `content-type` in `headers`), null for no body at all
   */
  body?: object | string | Buffer | null
}

/** An answer built by {@link reply}: a plugin's `Reply` and an Admin API response alike. */
export interface ErrorReply {
  status: number
  headers: Record<string, string>
  /** an object is sent as JSON by whoever writes it; undefined: no body */
  body: object | string | Buffer | undefined
}

const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * The one way a plugin (or a plugin's Admin API endpoint) answers instead of the upstream: the
 * code's status and message from {@link ERRORS}, changed only where `options` says. Bodies are
 * Kong's: `{"message","request_id"}` (`kong.response.error`), or for the `exit` codes and for a
 * whole `body` given, exactly that (`kong.response.exit`). Admin endpoints pass `ctx` null: the
 * Admin API's bodies carry no request id.
 *
 * @example
 *   return reply(ctx, 'UNAUTHORIZED', { message: 'No API key found in request', headers: { 'www-authenticate': 'Key' } })
 *   return reply(ctx, 'TOKEN_REJECTED', { message: 'Invalid signature' })   // {"message":"Invalid signature"}
 *   return reply(null, 'NOT_FOUND')                                         // an Admin API 404
 */
export function reply(
  ctx: { readonly id: string } | null,
  code: ErrorCode,
  options?: ReplyOptions,
): ErrorReply {
  const entry: { status: number; message: string; exit?: true } = ERRORS[code]
  const headers: Record<string, string> = { 'content-type': JSON_TYPE, ...options?.headers }
  const status = options?.status ?? entry.status
  const given = options?.body
  if (given === null) {
    delete headers['content-type']
    return { status, headers, body: undefined }
  }
  if (given !== undefined) return { status, headers, body: given }
  const message = options?.message ?? entry.message
  // field order as Kong's: message, then request_id
  const body = entry.exit === true || ctx === null ? { message } : { message, request_id: ctx.id }
  return { status, headers, body }
}
