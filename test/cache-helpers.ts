import { randomUUID } from 'node:crypto'
import type { AdminResponse } from '../src/core/admin.js'
import type { PluginDefinition } from '../src/core/plugin.js'
import type { NodeSettings, PorticoNode } from '../src/main.js'
import { proxyCache } from '../src/plugins/proxy-cache/plugin.js'
import { call, gateway } from './helpers.js'

/** The Redis the test run provides (scripts/test.sh starts a private one when REDIS_URL is unset). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

export type Strategy = 'memory' | 'redis'
export const STRATEGIES: Strategy[] = ['memory', 'redis']

export type Node = Awaited<ReturnType<typeof gateway>>

/** Node settings for a strategy: redis gets the test Redis and a key prefix of its own. */
export function settingsFor(
  strategy: Strategy,
  prefix = `t${randomUUID().slice(0, 8)}:`,
): Partial<NodeSettings> {
  return strategy === 'redis' ? { redisUrl: REDIS_URL, keyPrefix: prefix, redisDeadlineMs: 500 } : {}
}

/** A gateway with `config` (YAML) whose redis strategy, if any, uses the test Redis. */
export async function cacheGateway(
  config: string,
  strategy: Strategy,
  opts: { prefix?: string; plugins?: PluginDefinition[]; settings?: Partial<NodeSettings> } = {},
): Promise<Node> {
  const gw = await gateway(config, { ...settingsFor(strategy, opts.prefix), ...opts.settings }, opts.plugins)
  if (strategy === 'redis') await redisReady(gw)
  return gw
}

/** Waits until the node's Redis connections are ready (a redis-strategy node connects at load). */
export async function redisReady(gw: PorticoNode): Promise<void> {
  for (let i = 0; i < 100 && !gw.services.redisStatus().every((r) => r.status === 'ready'); i++) {
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Calls one of proxy-cache's Admin API endpoints the way the admin layer mounts them. */
export async function admin(gw: PorticoNode, method: string, path: string): Promise<AdminResponse> {
  const routes = proxyCache.adminRoutes!(gw.services)
  const parts = path.split('/').filter(Boolean)
  for (const r of routes) {
    const pattern = r.path.split('/').filter(Boolean)
    if (r.method !== method || pattern.length !== parts.length) continue
    const params: Record<string, string> = {}
    const match = pattern.every((p, i) => {
      if (!p.startsWith(':')) return p === parts[i]
      params[p.slice(1)] = decodeURIComponent(parts[i]!)
      return true
    })
    if (match) return r.handle({ method, params, query: new URLSearchParams(), body: {} })
  }
  return { status: 404, body: { message: 'Not found' } }
}

/** Fetches a JSON document from the node's status listener (`/cachez`). */
export async function status(gw: PorticoNode, path: string): Promise<Record<string, unknown>> {
  const r = await call(`http://127.0.0.1:${gw.status!.port}${path}`)
  return r.json() as Record<string, unknown>
}

/** Polls `check` until it is true (bounded): for effects that cross a pub/sub hop. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 20))
  }
  return check()
}

/** `cache: memory`-style plugin YAML for a route. */
export function cachePlugin(strategy: Strategy, extra = ''): string {
  return `{ name: proxy-cache, config: { strategy: ${strategy}${extra === '' ? '' : `, ${extra}`} } }`
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A private redis-server on a free port, for tests that stop, pause or measure their Redis. */
export interface PrivateRedis {
  url: string
  port: number
  /** SIGSTOP / SIGCONT: a Redis that hangs */
  pause(): void
  resume(): void
  stop(): Promise<void>
}

export async function startRedis(port?: number): Promise<PrivateRedis> {
  const { spawn } = await import('node:child_process')
  const net = await import('node:net')
  const p =
    port ??
    (await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const got = (s.address() as { port: number }).port
        s.close(() => resolve(got))
      })
    }))
  const child = spawn(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  )
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(p, '127.0.0.1', () => {
        c.end()
        resolve(true)
      })
      c.on('error', () => resolve(false))
    })
    if (up) break
    await sleep(20)
  }
  return {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      await exited
    },
  }
}
