import type { ErrorCode } from '../core/errors.js'
import type { Outcome } from './upstream/types.js'

/** How an upstream failure is answered and what passive health checks learn from it. */
export interface UpstreamFailure {
  code: ErrorCode
  outcome: Outcome
  /** the request certainly never reached the upstream: safe to retry whatever the method */
  notSent: boolean
}

const CONNECT_ERRNOS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ECONNABORTED',
])
const DNS_ERRNOS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME'])

/**
 * The one place where an upstream failure becomes a status (as @fastify/reply-from does):
 * timeouts → 504, refused/reset/garbled → 502, DNS → 503. Everything the proxy cannot classify
 * is a 502: the upstream side failed, not the gateway.
 *
 * @example
 *   const f = classifyUpstreamError(err)   // { code: 'UPSTREAM_TIMEOUT', outcome: 'timeout', notSent: false }
 */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const e = err as { code?: string; cause?: { code?: string } } | null
  const code = e?.code ?? ''
  const errno = e?.cause?.code ?? code
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { code: 'UPSTREAM_TIMEOUT', outcome: 'timeout', notSent: true }
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'PORTICO_WRITE_TIMEOUT':
      return { code: 'UPSTREAM_TIMEOUT', outcome: 'timeout', notSent: false }
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'HPE_INVALID_CONSTANT':
    case 'PORTICO_BAD_STATUS':
      return { code: 'UPSTREAM_BAD_RESPONSE', outcome: 'http_failure', notSent: false }
  }
  if (DNS_ERRNOS.has(errno)) return { code: 'UPSTREAM_DNS_FAILED', outcome: 'tcp_failure', notSent: true }
  if (CONNECT_ERRNOS.has(errno))
    return { code: 'UPSTREAM_CONNECT_FAILED', outcome: 'tcp_failure', notSent: true }
  return { code: 'UPSTREAM_BAD_RESPONSE', outcome: 'tcp_failure', notSent: false }
}
