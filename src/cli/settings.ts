import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type AnalyticsSettings, DEFAULT_ANALYTICS } from '../analytics/index.js'
import type { ListenSpec } from '../data-plane/edge.js'
import { parseHeadersSetting } from '../data-plane/latency.js'
import { type Address, DEFAULT_SETTINGS, type NodeSettings } from '../main.js'
import { autoWorkers } from './cpus.js'

/** Flags of `portico start` (each also a `PORTICO_*` variable; a flag wins over the env). */
export const START_OPTIONS = {
  'proxy-listen': {
    type: 'string',
    env: 'PORTICO_PROXY_LISTEN',
    help: "proxy addresses, Kong's syntax: '0.0.0.0:8000, 0.0.0.0:8443 ssl http2' (default 0.0.0.0:8000)",
  },
  'admin-listen': {
    type: 'string',
    env: 'PORTICO_ADMIN_LISTEN',
    help: "admin address, 'ssl' for TLS (default 127.0.0.1:8001, 'off' to disable)",
  },
  'status-listen': {
    type: 'string',
    env: 'PORTICO_STATUS_LISTEN',
    help: "status address, 'ssl' for TLS (default 127.0.0.1:8100, 'off' to disable)",
  },
  'ssl-cert': {
    type: 'string',
    env: 'PORTICO_SSL_CERT',
    help: 'default certificate of the TLS listeners, a PEM file or PEM text (default: a self-signed one made at start)',
  },
  'ssl-cert-key': {
    type: 'string',
    env: 'PORTICO_SSL_CERT_KEY',
    help: 'private key of PORTICO_SSL_CERT, a PEM file or PEM text',
  },
  'ssl-ciphers': {
    type: 'string',
    env: 'PORTICO_SSL_CIPHERS',
    help: 'OpenSSL cipher list of the TLS listeners (default: TLS 1.3 suites, then ECDHE with AES-GCM or ChaCha20)',
  },
  config: {
    type: 'string',
    env: 'PORTICO_DECLARATIVE_CONFIG',
    help: 'declarative file (default ./portico.yaml if present)',
  },
  watch: { type: 'boolean', env: 'PORTICO_WATCH', help: 'reload the declarative file when it changes' },
  'redis-url': { type: 'string', env: 'PORTICO_REDIS_URL', help: 'shared Redis (also REDIS_URL)' },
  workers: {
    type: 'string',
    env: 'PORTICO_WORKERS',
    help: "worker processes acting as one node: a number, or 'auto' for one per core within a container's CPU limit (default auto; 1 runs the node in this one process)",
  },
  'log-level': {
    type: 'string',
    env: 'PORTICO_LOG_LEVEL',
    help: 'fatal|error|warn|info|debug (default info)',
  },
  'trusted-ips': {
    type: 'string',
    env: 'PORTICO_TRUSTED_IPS',
    help: 'proxies whose X-Forwarded-For is believed',
  },
  'admin-token': {
    type: 'string',
    env: 'PORTICO_ADMIN_TOKEN',
    help: 'required on a non-loopback admin address',
  },
  'admin-allowed-upstreams': {
    type: 'string',
    env: 'PORTICO_ADMIN_ALLOWED_UPSTREAMS',
    help: 'hosts/CIDRs the Admin API may proxy to',
  },
  'config-store': {
    type: 'string',
    env: 'PORTICO_CONFIG_STORE',
    help: 'memory (default) or redis (shared by every node)',
  },
  'max-body-size': {
    type: 'string',
    env: 'PORTICO_MAX_BODY_SIZE',
    help: 'bytes, 0 = unlimited (default 128 MiB)',
  },
  'body-buffer-size': {
    type: 'string',
    env: 'PORTICO_BODY_BUFFER_SIZE',
    help: "bytes of one buffered request body kept in memory, beyond: a temporary file; also how far a response is read ahead of a slow client (routes' request_buffering, response_buffering; default 1 MiB)",
  },
  'body-buffer-total': {
    type: 'string',
    env: 'PORTICO_BODY_BUFFER_TOTAL',
    help: 'bytes of buffered request bodies in memory on the node, beyond: temporary files (default 64 MiB)',
  },
  'temp-dir': {
    type: 'string',
    env: 'PORTICO_TEMP_DIR',
    help: "directory of buffered request bodies' temporary files, removed as soon as they are open (default the OS's)",
  },
  'upstream-connections': {
    type: 'string',
    env: 'PORTICO_UPSTREAM_CONNECTIONS',
    help: 'connections per upstream origin at most (default 128)',
  },
  'upstream-queue': {
    type: 'string',
    env: 'PORTICO_UPSTREAM_QUEUE',
    help: 'requests per upstream origin waiting for a connection at most, beyond: 503 (default 1024, 0 = no cap)',
  },
  'drain-timeout': {
    type: 'string',
    env: 'PORTICO_DRAIN_TIMEOUT',
    help: 'ms SIGTERM waits for in-flight requests',
  },
  'status-on-proxy': {
    type: 'boolean',
    env: 'PORTICO_STATUS_ON_PROXY',
    help: 'also serve /metrics and /cachez on the proxy listener',
  },
  metrics: {
    type: 'string',
    env: 'PORTICO_METRICS',
    help: "on|off: record request metrics for /metrics (default on; 'off' installs no observer)",
  },
  'access-log': {
    type: 'string',
    env: 'PORTICO_ACCESS_LOG',
    help: 'off|stdout|FILE: one JSON line per request, written asynchronously (default off)',
  },
  headers: {
    type: 'string',
    env: 'PORTICO_HEADERS',
    help: "Kong's headers setting: off, or latency_tokens and/or X-Kong-Proxy-Latency, X-Kong-Upstream-Latency, X-Kong-Response-Latency (default latency_tokens)",
  },
  'underscores-in-headers': {
    type: 'string',
    env: 'PORTICO_UNDERSCORES_IN_HEADERS',
    help: "on|off: keep request headers with '_' in their name (default off: dropped, as nginx)",
  },
  analytics: {
    type: 'string',
    env: 'PORTICO_ANALYTICS',
    help: "on|off: usage analytics for /analytics and the admin UI (default on; 'off' installs no observer)",
  },
  'analytics-flush': {
    type: 'string',
    env: 'PORTICO_ANALYTICS_FLUSH_MS',
    help: "ms between a node's analytics flushes (default 5000)",
  },
  'analytics-resolution': {
    type: 'string',
    env: 'PORTICO_ANALYTICS_RESOLUTION',
    help: 'seconds per fine analytics bucket, dividing an hour (default 60)',
  },
  'analytics-retention': {
    type: 'string',
    env: 'PORTICO_ANALYTICS_RETENTION',
    help: 'hours the fine buckets are kept (default 24)',
  },
  'analytics-hour-retention': {
    type: 'string',
    env: 'PORTICO_ANALYTICS_HOUR_RETENTION',
    help: 'days the hour buckets, top lists and daily uniques are kept (default 30)',
  },
  'otlp-endpoint': {
    type: 'string',
    env: 'PORTICO_OTLP_ENDPOINT',
    help: 'OpenTelemetry collector (OTLP/HTTP JSON), e.g. http://127.0.0.1:4318 (default none)',
  },
} as const

export type StartFlags = { [K in keyof typeof START_OPTIONS]?: string | boolean }

/**
 * Kong's listen syntax: comma-separated `host:port` entries, each with optional flags `ssl`
 * and `http2`. Other Kong flags (`reuseport`, `backlog=`, `proxy_protocol`…) are refused, not
 * ignored.
 *
 * @example
 *   parseListen('0.0.0.0:8000, 0.0.0.0:8443 ssl http2', 'proxy listen')
 *   // → [{ host: '0.0.0.0', port: 8000, ssl: false, http2: false }, { host: '0.0.0.0', port: 8443, ssl: true, http2: true }]
 */
export function parseListen(value: string, what: string): ListenSpec[] {
  const out: ListenSpec[] = []
  for (const entry of value.split(',')) {
    const [address, ...flags] = entry.trim().split(/\s+/)
    if (address === undefined || address === '') throw new Error(`${what}: empty entry in '${value}'`)
    const spec: ListenSpec = { ...parseAddress(address, what), ssl: false, http2: false }
    for (const flag of flags) {
      if (flag === 'ssl') spec.ssl = true
      else if (flag === 'http2') spec.http2 = true
      else throw new Error(`${what}: unsupported flag '${flag}' (Portico knows ssl and http2)`)
    }
    out.push(spec)
  }
  return out
}

/** An admin or status address: one entry, `ssl` allowed, `http2` not (those listeners speak HTTP/1.1). */
function parseSingle(value: string, what: string): Address {
  const specs = parseListen(value, what)
  if (specs.length !== 1) throw new Error(`${what}: expected one address, got '${value}'`)
  const [spec] = specs as [ListenSpec]
  if (spec.http2) throw new Error(`${what}: http2 is only for proxy listeners`)
  return spec.ssl ? { host: spec.host, port: spec.port, ssl: true } : { host: spec.host, port: spec.port }
}

export function parseAddress(value: string, what: string): Address {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim())
  if (m === null) throw new Error(`${what}: expected host:port, got '${value}'`)
  const port = Number(m[3])
  if (port > 65535) throw new Error(`${what}: port out of range in '${value}'`)
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port }
}

function int(value: string | undefined, what: string, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: expected a whole number, got '${value}'`)
  return n
}

function onOff(value: string | undefined, what: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback
  if (/^(1|true|yes|on)$/i.test(value)) return true
  if (/^(0|false|no|off)$/i.test(value)) return false
  throw new Error(`${what}: expected on or off, got '${value}'`)
}

function httpUrl(value: string | undefined, what: string): string | undefined {
  if (value === undefined || value === '') return undefined
  let u: URL | null = null
  try {
    u = new URL(value)
  } catch {}
  if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:'))
    throw new Error(`${what}: expected an http(s) URL, got '${value}'`)
  return value
}

function analyticsSettings(get: (k: keyof typeof START_OPTIONS) => string | undefined): AnalyticsSettings {
  const d = DEFAULT_ANALYTICS
  const resolution = int(get('analytics-resolution'), 'analytics resolution', d.resolutionSec)
  if (resolution < 1 || 3600 % resolution !== 0)
    throw new Error(`analytics resolution: expected seconds that divide an hour, got '${resolution}'`)
  return {
    ...d,
    flushMs: Math.max(100, int(get('analytics-flush'), 'analytics flush', d.flushMs)),
    resolutionSec: resolution,
    fineRetentionSec:
      int(get('analytics-retention'), 'analytics retention', d.fineRetentionSec / 3600) * 3600,
    hourRetentionSec:
      int(get('analytics-hour-retention'), 'analytics hour retention', d.hourRetentionSec / 86400) * 86400,
  }
}

/**
 * `--workers`: a number, or `auto` (the default) for one per core the process may use, within
 * its container's CPU limit (nginx's `worker_processes auto`; cpus.ts). The default is `auto`
 * because the workers act as one node in every respect (configuration, limits, health, circuit
 * breakers, analytics, `/metrics`: docs/architecture.md); a count of 1 (or one usable core)
 * runs the node in this process, no primary.
 */
export function workerCount(value: string | undefined): number {
  if (value === undefined || value.trim().toLowerCase() === 'auto') return autoWorkers()
  return Math.max(1, int(value, 'workers', 1))
}

export interface StartSettings {
  node: NodeSettings
  watch: boolean
  workers: number
  logLevel: string
}

/**
 * Flags over environment over defaults. Only node-level settings: entities come from the
 * declarative file and the Admin API, never from here.
 */
export function resolveSettings(flags: StartFlags, env: NodeJS.ProcessEnv, cwd: string): StartSettings {
  const get = (k: keyof typeof START_OPTIONS): string | undefined => {
    const f = flags[k]
    if (typeof f === 'string') return f
    if (f === true) return 'true'
    return env[START_OPTIONS[k].env]
  }
  const bool = (k: keyof typeof START_OPTIONS): boolean => /^(1|true|yes|on)$/i.test(get(k) ?? '')
  let config = get('config')
  if (config === undefined && existsSync(resolve(cwd, 'portico.yaml'))) config = 'portico.yaml'
  const status = get('status-listen')
  const admin = get('admin-listen')
  const store = get('config-store') ?? 'memory'
  if (store !== 'memory' && store !== 'redis') {
    throw new Error(`config store: expected memory or redis, got '${store}'`)
  }
  const proxyListen = parseListen(get('proxy-listen') ?? '0.0.0.0:8000', 'proxy listen')
  const first = proxyListen[0] as ListenSpec
  const node: NodeSettings = {
    ...DEFAULT_SETTINGS,
    proxy: { host: first.host, port: first.port },
    proxyListen,
    status: status === 'off' ? null : parseSingle(status ?? '127.0.0.1:8100', 'status listen'),
    admin: admin === 'off' ? null : parseSingle(admin ?? '127.0.0.1:8001', 'admin listen'),
    ssl: {
      cert: get('ssl-cert') || undefined,
      key: get('ssl-cert-key') || undefined,
      ciphers: get('ssl-ciphers') || DEFAULT_SETTINGS.ssl.ciphers,
      // set by `portico start` for its workers (one key set for all), never by hand
      ticketKeys: /^[0-9a-f]{96}$/.test(env.PORTICO_SSL_TICKET_KEYS ?? '')
        ? Buffer.from(env.PORTICO_SSL_TICKET_KEYS as string, 'hex')
        : undefined,
    },
    adminToken: get('admin-token'),
    adminAllowedUpstreams: get('admin-allowed-upstreams'),
    configStore: store,
    declarativeConfig: config === undefined ? undefined : resolve(cwd, config),
    redisUrl: get('redis-url') ?? env.REDIS_URL,
    trustedIps: get('trusted-ips'),
    limits: {
      ...DEFAULT_SETTINGS.limits,
      maxBodySize: int(get('max-body-size'), 'max body size', DEFAULT_SETTINGS.limits.maxBodySize),
      underscoresInHeaders: onOff(get('underscores-in-headers'), 'underscores in headers', false),
      latencyHeaders: parseHeadersSetting(get('headers')),
      bodyBufferSize: int(
        get('body-buffer-size'),
        'body buffer size',
        DEFAULT_SETTINGS.limits.bodyBufferSize!,
      ),
      bodyBufferTotal: int(
        get('body-buffer-total'),
        'body buffer total',
        DEFAULT_SETTINGS.limits.bodyBufferTotal!,
      ),
      tempDir: get('temp-dir') || undefined,
    },
    upstreamPool: {
      connections: int(
        get('upstream-connections'),
        'upstream connections',
        DEFAULT_SETTINGS.upstreamPool.connections,
      ),
      queue: int(get('upstream-queue'), 'upstream queue', DEFAULT_SETTINGS.upstreamPool.queue),
    },
    drainTimeoutMs: int(get('drain-timeout'), 'drain timeout', DEFAULT_SETTINGS.drainTimeoutMs),
    statusOnProxy: bool('status-on-proxy'),
    metrics: onOff(get('metrics'), 'metrics', true),
    accessLog: get('access-log') || 'off',
    otlpEndpoint: httpUrl(get('otlp-endpoint'), 'OTLP endpoint'),
    analytics: onOff(get('analytics'), 'analytics', true) ? analyticsSettings(get) : null,
  }
  return {
    node,
    watch: bool('watch'),
    workers: workerCount(get('workers')),
    logLevel: get('log-level') ?? 'info',
  }
}
