import type { UpstreamEntity } from '../../core/entities.js'

/**
 * Kong's defaults for `upstream.healthchecks` (Admin API 3.x): every interval and counter is 0,
 * so checks are off until configured. A fresh object each call, safe to modify.
 *
 * @example
 *   const hc = defaultHealthchecks()
 *   hc.passive.unhealthy.tcp_failures = 3
 */
export function defaultHealthchecks(): UpstreamEntity['healthchecks'] {
  return {
    active: {
      type: 'http',
      http_path: '/',
      timeout: 1,
      concurrency: 10,
      https_verify_certificate: true,
      headers: null,
      healthy: { interval: 0, successes: 0, http_statuses: [200, 302] },
      unhealthy: {
        interval: 0,
        http_failures: 0,
        tcp_failures: 0,
        timeouts: 0,
        http_statuses: [429, 404, 500, 501, 502, 503, 504, 505],
      },
    },
    passive: {
      type: 'http',
      healthy: {
        successes: 0,
        http_statuses: [
          200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308,
        ],
      },
      unhealthy: { http_failures: 0, tcp_failures: 0, timeouts: 0, http_statuses: [429, 500, 503] },
    },
    threshold: 0,
  }
}

/**
 * An upstream entity with Kong's defaults (round-robin, no hashing, checks off), for a service
 * that points at a plain host and for tests. `overrides` are shallow.
 *
 * @example
 *   const u = defaultUpstream({ id: 'u1', name: 'users', algorithm: 'least-connections' })
 */
export function defaultUpstream(
  overrides: Partial<UpstreamEntity> & { id: string; name: string },
): UpstreamEntity {
  return {
    algorithm: 'round-robin',
    hash_on: 'none',
    hash_fallback: 'none',
    hash_on_cookie_path: '/',
    slots: 10_000,
    healthchecks: defaultHealthchecks(),
    ...overrides,
  }
}
