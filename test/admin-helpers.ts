import { z } from 'zod'
import { silentLogger } from '../src/core/logger.js'
import type { PluginDefinition } from '../src/core/plugin.js'
import { DEFAULT_SETTINGS, type NodeSettings, type PorticoNode, startNode } from '../src/main.js'
import { createRegistry } from '../src/plugins/index.js'
import { call, writeConfig } from './helpers.js'

/**
 * Stand-ins with Kong's names and a few of Kong's fields, so plugin endpoints can be exercised
 * before the real plugins are merged: a numeric limit (`config.minute`), a list
 * (`config.key_names`), a nested record (`config.redis`), an auth plugin (no consumer scope).
 */
export const testPlugins: PluginDefinition[] = [
  {
    name: 'rate-limiting',
    priority: 910,
    schema: z.strictObject({
      second: z.number().positive().optional().describe('per second'),
      minute: z.number().positive().optional().describe('per minute'),
      hour: z.number().positive().optional().describe('per hour'),
      policy: z.enum(['local', 'redis']).default('local').describe('where counters live'),
      limit_by: z.enum(['consumer', 'ip']).default('consumer').describe('what is counted'),
      fault_tolerant: z.boolean().default(true).describe('serve when the store fails'),
      redis: z
        .strictObject({
          host: z.string().optional().describe('host'),
          port: z.number().int().default(6379).describe('port'),
        })
        .prefault({})
        .describe('redis settings'),
    }),
    create: () => ({}),
  },
  {
    name: 'key-auth',
    priority: 1250,
    noConsumer: true,
    schema: z.strictObject({
      key_names: z.array(z.string()).default(['apikey']).describe('where the key is looked for'),
      hide_credentials: z.boolean().default(false).describe('strip the key'),
    }),
    create: () => ({}),
  },
  {
    name: 'purge-test',
    priority: 2,
    schema: z.strictObject({}),
    create: () => ({}),
    adminRoutes: () => [
      {
        method: 'GET',
        path: '/purge-test/:key',
        handle: (req) => ({
          status: 200,
          body: { key: req.params.key, q: req.query.get('q'), body: req.body },
        }),
      },
      { method: 'DELETE', path: '/purge-test/:key', handle: () => ({ status: 204 }) },
      // a plugin cannot take over a built-in endpoint
      { method: 'GET', path: '/services', handle: () => ({ status: 418 }) },
    ],
  },
  {
    name: 'refuses-to-load',
    priority: 1,
    schema: z.strictObject({}),
    create: () => {
      throw new Error('this plugin needs Redis')
    },
  },
]

export interface AdminNode {
  node: PorticoNode
  admin: string
  proxy: string
  /** an Admin API request: a string body is sent as given, an object as JSON or (form: true) form fields */
  req(
    method: string,
    path: string,
    body?: string | Record<string, unknown> | Array<[string, string]>,
    opts?: { form?: boolean; headers?: Record<string, string> },
  ): Promise<{
    status: number
    body: Record<string, unknown>
    text: string
    headers: Record<string, unknown>
  }>
  stop(): Promise<void>
}

/** Form-encodes `[key, value]` pairs (repeated keys allowed) or an object of strings. */
export function formBody(fields: Record<string, unknown> | Array<[string, string]>): string {
  const pairs = Array.isArray(fields) ? fields : Object.entries(fields).map(([k, v]) => [k, String(v)])
  return new URLSearchParams(pairs as Array<[string, string]>).toString()
}

/** A node with its Admin API on a free loopback port (and the test plugins). */
export async function adminNode(
  overrides: Partial<NodeSettings> = {},
  config: string | null = null,
  plugins: PluginDefinition[] = testPlugins,
): Promise<AdminNode> {
  const node = await startNode(
    {
      ...DEFAULT_SETTINGS,
      proxy: { host: '127.0.0.1', port: 0 },
      status: null,
      admin: { host: '127.0.0.1', port: 0 },
      declarativeConfig: config === null ? undefined : writeConfig(config),
      drainTimeoutMs: 2000,
      ...overrides,
    },
    silentLogger,
    createRegistry(plugins),
  )
  const admin = `http://127.0.0.1:${node.admin?.port}`
  return {
    node,
    admin,
    proxy: `http://127.0.0.1:${node.proxy.port}`,
    async req(method, path, body, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers }
      let payload: string | undefined
      if (typeof body === 'string') payload = body
      else if (body !== undefined && (opts.form || Array.isArray(body))) {
        payload = formBody(body)
        headers['content-type'] ??= 'application/x-www-form-urlencoded'
      } else if (body !== undefined) {
        payload = JSON.stringify(body)
        headers['content-type'] ??= 'application/json'
      }
      const res = await call(`${admin}${path}`, { method, headers, body: payload })
      let parsed: Record<string, unknown> = {}
      try {
        parsed = res.text === '' ? {} : (JSON.parse(res.text) as Record<string, unknown>)
      } catch {
        parsed = {}
      }
      return { status: res.status, body: parsed, text: res.text, headers: res.headers }
    },
    stop: () => node.stop(),
  }
}
