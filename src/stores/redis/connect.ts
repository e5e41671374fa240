import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { RedisSettings } from '../../core/services.js'

/**
 * Connection options for the request path (DESIGN §2.7): no offline queue (a command on a
 * disconnected client fails at once instead of waiting), a short connect timeout, and retries
 * every 100 ms–2 s so a Redis that comes back is used again within 2 s.
 */
export const REQUEST_PATH_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  lazyConnect: false,
  retryStrategy: (times) => Math.min(100 * times, 2000),
}

/**
 * Builds an ioredis client from `PORTICO_REDIS_URL`: `redis://` or `rediss://` for one node,
 * `redis+cluster://h1:p1,h2:p2` for Cluster, `redis+sentinel://h1:p1,h2:p2/mymaster` for Sentinel.
 *
 * @example
 *   const client = connectRedis('redis://127.0.0.1:6379/0')
 */
export function connectRedis(url: string, extra: RedisOptions = {}): Redis | Cluster {
  const u = new URL(url)
  const auth = {
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  }
  const hosts = (): Array<{ host: string; port: number }> =>
    u.host.split(',').map((hp) => {
      const [host, port] = hp.split(':')
      return { host: host ?? '127.0.0.1', port: Number(port ?? 6379) }
    })
  const opts = { ...REQUEST_PATH_OPTIONS, ...auth, ...extra }
  switch (u.protocol) {
    case 'redis:':
    case 'rediss:':
      return new Redis({
        ...opts,
        host: u.hostname || '127.0.0.1',
        port: Number(u.port || 6379),
        db: Number(u.pathname.slice(1) || 0),
        tls: u.protocol === 'rediss:' ? tlsOptions(u) : undefined,
      })
    case 'redis+cluster:':
      return new Cluster(hosts(), { redisOptions: opts, enableOfflineQueue: false })
    case 'redis+sentinel:': {
      const name = u.pathname.slice(1) || 'mymaster'
      return new Redis({ ...opts, sentinels: hosts(), name })
    }
    default:
      throw new Error(
        `unsupported Redis URL scheme '${u.protocol}' (redis://, rediss://, redis+cluster://, redis+sentinel://)`,
      )
  }
}

/**
 * TLS options of a `rediss://` URL: the certificate is verified unless `ssl_verify=false`
 * (Kong's `config.redis.ssl_verify`), `server_name=` sets the SNI.
 */
function tlsOptions(u: URL): { rejectUnauthorized: boolean; servername?: string } {
  const servername = u.searchParams.get('server_name') ?? undefined
  const verify = u.searchParams.get('ssl_verify') !== 'false'
  return servername === undefined
    ? { rejectUnauthorized: verify }
    : { rejectUnauthorized: verify, servername }
}

/** Kong's per-plugin `config.redis` fields → a URL, so one code path builds every client. */
export function settingsToUrl(s: RedisSettings): string {
  const scheme = s.ssl ? 'rediss' : 'redis'
  const auth = s.password ? `${encodeURIComponent(s.username ?? '')}:${encodeURIComponent(s.password)}@` : ''
  const query = new URLSearchParams()
  if (s.ssl && s.ssl_verify !== undefined) query.set('ssl_verify', String(s.ssl_verify))
  if (s.ssl && s.server_name !== undefined) query.set('server_name', s.server_name)
  const q = query.size > 0 ? `?${query}` : ''
  return `${scheme}://${auth}${s.host ?? '127.0.0.1'}:${s.port ?? 6379}/${s.database ?? 0}${q}`
}
