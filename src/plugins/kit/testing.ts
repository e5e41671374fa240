import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { RequestContext } from '../../core/context.js'
import { type ConfigDocument, emptyDocument } from '../../core/entities.js'
import { silentLogger } from '../../core/logger.js'
import type { AccessResult, PluginEnv, Reply } from '../../core/plugin.js'
import type { PluginServices } from '../../core/services.js'

/**
 * A request context for unit tests of access handlers: just the request line and headers (the
 * integration tests in test/ go through a real gateway).
 *
 * @example
 *   const ctx = fakeContext({ method: 'GET', path: '/x', headers: { apikey: 'k1' } })
 */
export function fakeContext(opts: {
  method?: string
  path?: string
  query?: string
  headers?: IncomingHttpHeaders
}): RequestContext {
  const headers = opts.headers ?? {}
  const rawHeaders: string[] = []
  for (const [k, v] of Object.entries(headers)) {
    for (const one of Array.isArray(v) ? v : [v ?? '']) rawHeaders.push(k, one)
  }
  const req = { method: opts.method ?? 'GET', headers, rawHeaders } as unknown as IncomingMessage
  const ctx = new RequestContext(req, {} as ServerResponse, 'req-1', 0)
  ctx.path = opts.path ?? '/'
  ctx.query = opts.query ?? ''
  ctx.upstreamQuery = ctx.query
  return ctx
}

/** The upstream header edits as a plain object (`null` = removed). */
export function edits(ctx: RequestContext): Record<string, string | string[] | null> {
  return Object.fromEntries(ctx.upstreamHeaderEdits ?? [])
}

/**
 * Services for unit tests: `shared` works, Redis is not configured (plugins fall back to their
 * node-local behaviour); integration tests use a real node instead.
 */
export function testServices(): PluginServices {
  const shared = new Map<string, unknown>()
  return {
    keyPrefix: 'portico-test:',
    redis() {
      throw new Error('no Redis in unit tests')
    },
    events: { on: () => () => {}, emit() {} },
    shared<T>(key: string, init: () => T): T {
      if (!shared.has(key)) shared.set(key, init())
      return shared.get(key) as T
    },
    exposeStatus() {},
    exposeHealth() {},
    memoryCache() {
      throw new Error('no cache in auth unit tests')
    },
    redisCache() {
      throw new Error('no Redis in unit tests')
    },
  }
}

/**
 * A plugin env over a document assembled from the parts a test gives.
 *
 * @example
 *   const env = testEnv({ consumers: [{ id: 'c1', username: 'alice' }], keyauth_credentials: [...] })
 */
export function testEnv(
  parts: Partial<ConfigDocument>,
  services: PluginServices = testServices(),
): PluginEnv {
  return {
    id: 'plugin-1',
    scope: {},
    document: { ...emptyDocument(), ...parts },
    services,
    log: silentLogger,
  }
}

/** Runs an access handler and returns its reply (undefined = continue), awaiting if needed. */
export async function run(
  access: ((ctx: RequestContext) => AccessResult | Promise<AccessResult>) | undefined,
  ctx: RequestContext,
): Promise<Reply | undefined> {
  if (access === undefined) throw new Error('plugin has no access phase')
  return await access(ctx)
}

/** A reply's JSON body. */
export function body(r: Reply | undefined): Record<string, unknown> {
  if (r === undefined) throw new Error('no reply: the request continued')
  const b = r.body
  if (typeof b === 'string' || Buffer.isBuffer(b)) return JSON.parse(String(b)) as Record<string, unknown>
  return JSON.parse(JSON.stringify(b)) as Record<string, unknown>
}
