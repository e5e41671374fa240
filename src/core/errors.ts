/**
 * Every error Portico answers with, in one table: a code, its HTTP status and the message a
 * client sees (Kong's wording where Kong has one). Tests assert `code` and `status`, never the
 * wording, so messages may change without breaking anything.
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
  FORBIDDEN: { status: 403, message: 'You cannot consume this service' },
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
  // gateway itself
  INTERNAL: { status: 500, message: 'An unexpected error occurred' },
  UNAVAILABLE: { status: 503, message: 'Service unavailable' },
} as const satisfies Record<string, { status: number; message: string }>

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
