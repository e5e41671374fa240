import type { LatencyOptions } from '../../demo/services/index.js'
import type { PluginRegistry } from '../../src/core/plugin.js'
import { CACHE_STATUS } from '../../src/plugins/proxy-cache/state.js'
import { type ExternalGateway, ExternalTarget } from './external.js'
import { type DemoUrls, startBackend, startGateway } from './stack.js'

/** The gateway of one run, whichever kind. */
export interface RunGatewayHandle {
  url: string
  /** the gateway's cache outcomes so far (proxy-cache's `CACHE_STATUS` words: Hit, Miss, …) */
  cacheCounts(): Promise<Map<string, number>>
  stop(): Promise<void>
}

/** Where a scenario's runs go: the demo services they point at, and a gateway per run. */
export interface ScenarioTarget {
  urls: DemoUrls
  /** requests the slow service's origin has received so far; null when it cannot be asked */
  slowHits(): Promise<number | null>
  start(config: string, redisUrl: string | undefined): Promise<RunGatewayHandle>
  close(): Promise<void>
}

async function slowHits(urls: DemoUrls): Promise<number | null> {
  try {
    const res = await fetch(`${urls.slow}/stats`, { signal: AbortSignal.timeout(5000) })
    return ((await res.json()) as { hits: number }).hits
  } catch {
    return null
  }
}

/**
 * The scenario's own stack: the demo services on free loopback ports, started once, and a
 * fresh in-process gateway per run (cold caches, empty counters, its own pools); cache outcomes
 * are the gateway's own counters, not what a header claims.
 */
async function inProcess(
  registry: PluginRegistry,
  latency: LatencyOptions | undefined,
): Promise<ScenarioTarget> {
  const backend = await startBackend(latency)
  return {
    urls: backend.urls,
    slowHits: () => slowHits(backend.urls),
    async start(config, redisUrl) {
      const gw = await startGateway(config, registry, redisUrl)
      const counts = gw.node.observability.telemetry.outcomes.find((o) => o.slot === CACHE_STATUS)?.counts
      return {
        url: gw.url,
        cacheCounts: async () => new Map(counts),
        stop: () => gw.stop(),
      }
    },
    close: () => backend.close(),
  }
}

/** A running gateway (the compose stack's): each run's configuration applied through its Admin API. */
async function external(gateway: ExternalGateway): Promise<ScenarioTarget> {
  const ext = await ExternalTarget.connect(gateway)
  return {
    urls: ext.urls,
    slowHits: () => slowHits(ext.urls),
    async start(config) {
      await ext.apply(config)
      return {
        url: gateway.url.replace(/\/+$/, ''),
        cacheCounts: () => ext.cacheCounts(),
        stop: async () => {},
      }
    },
    close: () => ext.restore(),
  }
}

/**
 * The scenario's target: an external gateway when one is given, else its own stack.
 *
 * @example
 *   const target = await openTarget({ registry, gateway: { url: 'http://gateway:8000', adminUrls: ['http://gateway:8001'] } })
 */
export function openTarget(opts: {
  registry: PluginRegistry
  latency?: LatencyOptions | undefined
  gateway?: ExternalGateway | undefined
}): Promise<ScenarioTarget> {
  return opts.gateway === undefined ? inProcess(opts.registry, opts.latency) : external(opts.gateway)
}
