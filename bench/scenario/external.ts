import { DEMO_SERVICE_NAMES, type DemoServiceName } from '../../demo/services/index.js'
import type { DemoUrls } from './stack.js'

/** A running gateway the scenario does not start: reached at `url`, configured through its Admin API (`adminUrls`). */
export interface ExternalGateway {
  /** the proxy, as clients reach it (`http://gateway:8000`, or a load balancer in front of nodes) */
  url: string
  /**
   * the Admin API of its nodes (`http://gateway:8001`): runs are configured through the first
   * (the others follow through the shared config store), cache outcomes are summed over all
   */
  adminUrls: string[]
  adminToken?: string | undefined
}

/** The scenario cannot run against this gateway (unreachable Admin API, no demo services in its config). */
export class ExternalGatewayError extends Error {}

/** Time given to the other nodes of a cluster to take a configuration the Admin API node already runs. */
const SETTLE_MS = 1000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface ExportedService {
  url?: string
  protocol?: string
  host?: string
  port?: number
}
interface ExportedConfig {
  services?: ExportedService[]
  upstreams?: Array<{ name?: string; targets?: Array<{ target?: string }> }>
}

/**
 * Every origin the gateway's configuration points at: services' URLs and upstream targets
 * (`host:port`, taken as http).
 */
function origins(doc: ExportedConfig): string[] {
  const upstreamNames = new Set((doc.upstreams ?? []).map((u) => u.name))
  const out = new Set<string>()
  for (const s of doc.services ?? []) {
    const raw =
      s.url ?? (s.host === undefined ? undefined : `${s.protocol ?? 'http'}://${s.host}:${s.port ?? 80}`)
    if (raw === undefined) continue
    const u = new URL(raw)
    if (!upstreamNames.has(u.hostname)) out.add(u.origin)
  }
  for (const up of doc.upstreams ?? [])
    for (const t of up.targets ?? [])
      if (t.target !== undefined) out.add(new URL(`http://${t.target}`).origin)
  return [...out]
}

/**
 * The stack's gateway as a scenario target. Its configuration is saved first (`GET /config`),
 * each run's configuration replaces it (`POST /config`, Kong's DB-less import), and the saved one
 * is put back at the end. The demo services the runs point at are the ones the gateway's own
 * configuration uses: each origin it names is asked `GET /healthz` and recognised by its
 * `X-Instance` header, so the runs reach them by the names the gateway resolves (`users-1:9103` in
 * compose, `127.0.0.1:9103` with `portico demo`). Cache outcomes are read from the Admin API's
 * `/metrics` (`portico_cache_requests_total`).
 *
 * @example
 *   const gw = await ExternalTarget.connect({ url: 'http://gateway:8000', adminUrls: ['http://gateway:8001'] })
 *   await gw.apply(yaml)
 *   await gw.restore()
 */
export class ExternalTarget {
  private constructor(
    readonly gateway: ExternalGateway,
    readonly urls: DemoUrls,
    readonly saved: string,
  ) {}

  static async connect(gateway: ExternalGateway): Promise<ExternalTarget> {
    const first = gateway.adminUrls[0]!
    const saved = await admin(gateway, first, 'GET', '/config?format=yaml')
    const doc = JSON.parse(await admin(gateway, first, 'GET', '/config?format=json')) as ExportedConfig
    const found = new Map<DemoServiceName, string>()
    await Promise.all(
      origins(doc).map(async (origin) => {
        const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(3000) }).catch(() => null)
        const name = res?.headers.get('x-instance') as DemoServiceName | null | undefined
        await res?.arrayBuffer()
        if (name && (DEMO_SERVICE_NAMES as readonly string[]).includes(name) && !found.has(name))
          found.set(name, origin)
      }),
    )
    const missing = DEMO_SERVICE_NAMES.filter((n) => !found.has(n))
    if (missing.length > 0) {
      throw new ExternalGatewayError(
        `the gateway's configuration does not point at every demo service (missing: ${missing.join(', ')}); ` +
          'start it with the demo configuration (deploy/compose/portico.yaml, or `portico demo`)',
      )
    }
    return new ExternalTarget(gateway, Object.fromEntries(found) as DemoUrls, saved)
  }

  /**
   * Replaces the gateway's configuration with a run's, empties its cache (a run starts cold, as
   * on a fresh in-process gateway), then lets a cluster's other nodes follow.
   */
  async apply(config: string): Promise<void> {
    const first = this.gateway.adminUrls[0]!
    await admin(this.gateway, first, 'POST', '/config', { config })
    // 404: a configuration without proxy-cache has no purge endpoint; nothing cached then
    await admin(this.gateway, first, 'DELETE', '/proxy-cache').catch(() => {})
    await sleep(SETTLE_MS)
  }

  /** Puts back the configuration the gateway had before the scenario. */
  async restore(): Promise<void> {
    await admin(this.gateway, this.gateway.adminUrls[0]!, 'POST', '/config', { config: this.saved })
  }

  /** The gateway's cache outcomes so far (`Hit`, `Miss`, …), summed over its nodes' `/metrics`. */
  async cacheCounts(): Promise<Map<string, number>> {
    const texts = await Promise.all(
      this.gateway.adminUrls.map((u) => admin(this.gateway, u, 'GET', '/metrics')),
    )
    const counts = new Map<string, number>()
    for (const text of texts)
      for (const m of text.matchAll(/^portico_cache_requests_total\{status="([^"]*)"\} (\S+)$/gm)) {
        // the series' values are lower-cased; the reports use the plugin's own words (Hit, Miss, …)
        const status = m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1)
        counts.set(status, (counts.get(status) ?? 0) + Number(m[2]))
      }
    return counts
  }
}

async function admin(
  gw: ExternalGateway,
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<string> {
  const headers: Record<string, string> = {}
  if (gw.adminToken !== undefined) headers['kong-admin-token'] = gw.adminToken
  if (body !== undefined) headers['content-type'] = 'application/json'
  const url = `${base.replace(/\/+$/, '')}${path}`
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    throw new ExternalGatewayError(`${method} ${url}: ${(err as Error).message}`)
  }
  const text = await res.text()
  if (res.status >= 300)
    throw new ExternalGatewayError(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`)
  return text
}
