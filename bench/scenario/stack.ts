import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DemoServices, type LatencyOptions, startDemoServices } from '../../demo/services/index.js'
import type { DemoServiceName } from '../../demo/services/types.js'
import { silentLogger } from '../../src/core/logger.js'
import type { PluginRegistry } from '../../src/core/plugin.js'
import { DEFAULT_SETTINGS, type PorticoNode, startNode } from '../../src/main.js'

/** Base URL of each demo service (`http://127.0.0.1:PORT`, no trailing slash). */
export type DemoUrls = Record<DemoServiceName, string>

/** The demo backend of a scenario: started once, shared by its runs. */
export interface Backend {
  urls: DemoUrls
  /** requests `GET /slow` has received so far (the slow service counts them on arrival) */
  slowHits(): Promise<number>
  close(): Promise<void>
}

/**
 * Starts the six demo services on free loopback ports.
 *
 * @example
 *   const backend = await startBackend({ slowMs: 120 })
 *   backend.urls.slow // 'http://127.0.0.1:41234'
 */
export async function startBackend(latency: LatencyOptions = {}): Promise<Backend> {
  const demo: DemoServices = await startDemoServices({ host: '127.0.0.1', basePort: 0, latency })
  const urls = Object.fromEntries(Object.entries(demo.services).map(([k, s]) => [k, s.url])) as DemoUrls
  return {
    urls,
    async slowHits() {
      const res = await fetch(`${urls.slow}/stats`)
      return ((await res.json()) as { hits: number }).hits
    },
    close: () => demo.close(),
  }
}

/** A gateway node running one run's configuration, in this process. */
export interface RunGateway {
  url: string
  node: PorticoNode
  stop(): Promise<void>
}

/**
 * Starts a gateway node on loopback with a generated declarative config (a fresh node per run,
 * so every run starts with cold caches, empty counters and its own connection pools).
 *
 * @example
 *   const gw = await startGateway(yamlText, registry, process.env.PORTICO_REDIS_URL)
 *   await fetch(`${gw.url}/slow`)
 *   await gw.stop()
 */
export async function startGateway(
  config: string,
  registry: PluginRegistry,
  redisUrl: string | undefined,
): Promise<RunGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-scenario-'))
  const file = join(dir, 'portico.yaml')
  await writeFile(file, config)
  let node: PorticoNode
  try {
    node = await startNode(
      {
        ...DEFAULT_SETTINGS,
        proxy: { host: '127.0.0.1', port: 0 },
        status: { host: '127.0.0.1', port: 0 },
        declarativeConfig: file,
        redisUrl,
        drainTimeoutMs: 2000,
      },
      silentLogger,
      registry,
    )
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    url: `http://127.0.0.1:${node.proxy.port}`,
    node,
    async stop() {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
