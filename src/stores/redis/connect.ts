import { readFileSync } from 'node:fs'
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
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

export interface HostPort {
  host: string
  port: number
}

export interface TlsTarget {
  rejectUnauthorized: boolean
  servername?: string
  /** PEM of the CA that signed the server certificate (`ca_file=`) */
  ca?: string
}

/** Where a connection goes, parsed once from a URL or Kong's `config.redis` fields. */
export interface RedisTarget {
  mode: 'single' | 'sentinel' | 'cluster'
  /** the server; the seed nodes (Cluster); the sentinels (Sentinel) */
  nodes: HostPort[]
  username?: string
  password?: string
  db: number
  tls?: TlsTarget
  /** Sentinel: the master's name and the sentinels' own credentials */
  name?: string
  sentinelUsername?: string
  sentinelPassword?: string
  /** Cluster: MOVED/ASK redirections followed per command */
  maxRedirections?: number
}

const SCHEMES: Record<string, { mode: RedisTarget['mode']; tls: boolean }> = {
  redis: { mode: 'single', tls: false },
  rediss: { mode: 'single', tls: true },
  'redis+cluster': { mode: 'cluster', tls: false },
  'rediss+cluster': { mode: 'cluster', tls: true },
  'redis+sentinel': { mode: 'sentinel', tls: false },
  'rediss+sentinel': { mode: 'sentinel', tls: true },
}

function hostPort(s: string): HostPort {
  // [v6]:port, host:port, host
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]*)(?::(\d+))?$/.exec(s)
  if (m === null) throw new Error(`invalid Redis host '${s}'`)
  const port = m[2] === undefined ? 6379 : Number(m[2])
  if (!(port > 0 && port < 65536)) throw new Error(`invalid Redis port in '${s}'`)
  return { host: m[1] || '127.0.0.1', port }
}

/**
 * Parses a Redis URL by hand: the WHATWG parser refuses the several hosts of
 * `redis+cluster://h1:p1,h2:p2` and `redis+sentinel://h1:p1,h2:p2/name`.
 * `rediss` (and `rediss+cluster`, `rediss+sentinel`) connect with TLS and verify the certificate
 * unless `ssl_verify=false`; `ca_file=` names the CA, `server_name=` the SNI.
 *
 * @example
 *   parseRedisUrl('redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/mymaster')
 *   // → { mode: 'sentinel', nodes: [...2], name: 'mymaster', password: 'pw', db: 0 }
 */
export function parseRedisUrl(url: string): RedisTarget {
  const m = /^([a-z+]+):\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(url.trim())
  if (m === null) throw new Error(`invalid Redis URL (expected redis://host:port/db): ${mask(url)}`)
  const scheme = SCHEMES[m[1]!.toLowerCase()]
  if (scheme === undefined) {
    throw new Error(
      `unsupported Redis URL scheme '${m[1]}:' (redis://, rediss://, redis+cluster://, redis+sentinel://)`,
    )
  }
  const target: RedisTarget = { mode: scheme.mode, nodes: [], db: 0 }
  if (m[2] !== undefined) {
    const colon = m[2].indexOf(':')
    const user = decodeURIComponent(colon < 0 ? m[2] : m[2].slice(0, colon))
    const pass = colon < 0 ? '' : decodeURIComponent(m[2].slice(colon + 1))
    if (colon < 0) {
      // redis://secret@host: a lone userinfo is the password, as redis-cli reads it
      if (user !== '') target.password = user
    } else {
      if (user !== '') target.username = user
      if (pass !== '') target.password = pass
    }
  }
  target.nodes = (m[3] || '127.0.0.1').split(',').map((h) => hostPort(h.trim()))
  const path = decodeURIComponent((m[4] ?? '').slice(1))
  if (scheme.mode === 'sentinel') {
    const [name, db] = path.split('/')
    target.name = name || 'mymaster'
    target.db = Number(db || 0)
  } else if (scheme.mode === 'single') {
    target.db = Number(path || 0)
  }
  if (!Number.isInteger(target.db) || target.db < 0) throw new Error(`invalid Redis database in ${mask(url)}`)
  const q = new URLSearchParams(m[5] ?? '')
  if (q.get('sentinel_password') !== null) target.sentinelPassword = q.get('sentinel_password')!
  if (q.get('sentinel_username') !== null) target.sentinelUsername = q.get('sentinel_username')!
  if (scheme.tls) {
    const tls: TlsTarget = { rejectUnauthorized: q.get('ssl_verify') !== 'false' }
    const servername = q.get('server_name')
    if (servername !== null) tls.servername = servername
    const ca = q.get('ca_file')
    if (ca !== null) tls.ca = readFileSync(ca, 'utf8')
    target.tls = tls
  }
  return target
}

/** Kong's per-plugin `config.redis` fields → a target (Cluster and Sentinel included). */
export function settingsToTarget(s: RedisSettings): RedisTarget {
  const target: RedisTarget = { mode: 'single', nodes: [], db: s.database ?? 0 }
  if (s.cluster_nodes !== undefined && s.cluster_nodes.length > 0) {
    target.mode = 'cluster'
    target.nodes = s.cluster_nodes.map((n) => ({ host: n.ip, port: n.port }))
    target.db = 0
    if (s.cluster_max_redirections !== undefined) target.maxRedirections = s.cluster_max_redirections
  } else if (s.sentinel_nodes !== undefined && s.sentinel_nodes.length > 0) {
    target.mode = 'sentinel'
    target.nodes = s.sentinel_nodes.map((n) => ({ host: n.host, port: n.port }))
    target.name = s.sentinel_master ?? 'mymaster'
    if (s.sentinel_username !== undefined) target.sentinelUsername = s.sentinel_username
    if (s.sentinel_password !== undefined) target.sentinelPassword = s.sentinel_password
  } else {
    target.nodes = [{ host: s.host ?? '127.0.0.1', port: s.port ?? 6379 }]
  }
  if (s.username !== undefined) target.username = s.username
  if (s.password !== undefined) target.password = s.password
  if (s.ssl === true) {
    const tls: TlsTarget = { rejectUnauthorized: s.ssl_verify === true }
    if (s.server_name !== undefined) tls.servername = s.server_name
    target.tls = tls
  }
  return target
}

/** One line naming the target (no secret): the key connections are shared by, and what logs show. */
export function describeTarget(t: RedisTarget): string {
  const scheme = `redis${t.tls ? 's' : ''}${t.mode === 'single' ? '' : `+${t.mode}`}`
  const who = t.username !== undefined || t.password !== undefined ? '***@' : ''
  const hosts = t.nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`))
  const db = t.db === 0 ? '' : `/${t.db}`
  const path = t.mode === 'sentinel' ? `/${t.name}${db}` : db
  return `${scheme}://${who}${hosts.join(',')}${path}`
}

/** Same target, same connection: everything that changes what the connection talks to or as whom. */
export function targetKey(t: RedisTarget): string {
  return JSON.stringify([
    t.mode,
    t.nodes,
    t.username,
    t.password,
    t.db,
    t.tls,
    t.name,
    t.sentinelUsername,
    t.sentinelPassword,
    t.maxRedirections,
  ])
}

function mask(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}

/**
 * An ioredis client for a target. `extra` overrides the request-path options (the subscriber
 * connection queues its SUBSCRIBE while disconnected, for example).
 *
 * @example
 *   const client = connectTarget(parseRedisUrl('redis+cluster://127.0.0.1:7000,127.0.0.1:7001'))
 */
export function connectTarget(
  t: RedisTarget,
  extra: RedisOptions = {},
  clusterExtra: Partial<ClusterOptions> = {},
): Redis | Cluster {
  const base: RedisOptions = { ...REQUEST_PATH_OPTIONS, ...extra }
  if (t.username !== undefined) base.username = t.username
  if (t.password !== undefined) base.password = t.password
  if (t.tls !== undefined) base.tls = { ...t.tls }
  switch (t.mode) {
    case 'single': {
      const n = t.nodes[0]!
      return new Redis({ ...base, host: n.host, port: n.port, db: t.db })
    }
    case 'sentinel':
      return new Redis({
        ...base,
        db: t.db,
        sentinels: t.nodes,
        name: t.name ?? 'mymaster',
        sentinelUsername: t.sentinelUsername,
        sentinelPassword: t.sentinelPassword,
        // the sentinels are reached like the servers (TLS or not)
        enableTLSForSentinelMode: t.tls !== undefined,
        sentinelTLS: t.tls,
        // a failover is followed at once (+switch-master): the old master may accept writes for
        // seconds before Sentinel turns it into a replica, and writes there would be lost
        failoverDetector: true,
        sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
      })
    case 'cluster':
      return new Cluster(t.nodes, {
        redisOptions: base,
        enableOfflineQueue: base.enableOfflineQueue ?? false,
        // MOVED/ASK are followed at once; a topology refresh after a failover is quick
        slotsRefreshTimeout: 1000,
        retryDelayOnFailover: 50,
        retryDelayOnClusterDown: 50,
        clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
        maxRedirections: t.maxRedirections ?? 16,
        dnsLookup: (address, callback) => callback(null, address),
        ...clusterExtra,
      })
  }
}

/**
 * Connects again a client that ioredis gave up on. ioredis ends a Sentinel client for good when
 * the failover detector of its previous connection fires (`+switch-master`) while the client is
 * resolving the master for a reconnection (the master was killed, not failed over): the
 * connector is told to disconnect mid-connect, `connect()` rejects with "Connection is closed."
 * and the status stays `end`, so every feature on it would stay down until a restart. Only
 * `closing()` (the owner closing it) may end a client; any other `end` is retried at the same
 * pace as a reconnection. Cluster clients manage their node connections themselves.
 *
 * @example
 *   let closed = false
 *   reconnectOnEnd(client, () => closed)
 */
export function reconnectOnEnd(client: Redis | Cluster, closing: () => boolean): void {
  if (client instanceof Cluster) return
  let attempt = 0
  client.on('ready', () => {
    attempt = 0
  })
  client.on('end', () => {
    if (closing()) return
    const again = setTimeout(
      () => {
        if (!closing() && client.status === 'end') client.connect().catch(() => {})
      },
      Math.min(100 * ++attempt, 2000),
    )
    again.unref()
  })
}
