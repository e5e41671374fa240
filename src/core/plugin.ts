import type { ZodType } from 'zod'
import type { AdminRoutesFactory } from './admin.js'
import type { RequestContext } from './context.js'
import type { ConfigDocument } from './entities.js'
import type { Logger } from './logger.js'
import type { PrimaryPart } from './peers.js'
import type { PluginServices } from './services.js'
import type { Telemetry } from './telemetry.js'

/**
 * What an access handler returns: `undefined` to continue with the next plugin, or a reply to
 * stop the chain and answer the client (Envoy's continue/stop, Kong's `kong.response.exit`).
 */
export type AccessResult = undefined | Reply

/** A response produced by a plugin instead of the upstream. */
export interface Reply {
  status: number
  /** header names in lower case */
  headers?: Record<string, string | string[]> | undefined
  /** a string or Buffer is sent as is; anything else is sent as JSON */
  body?: string | Buffer | object | undefined
  /**
   * the reply stands in for the upstream's answer (a cache hit): it carries the latency headers
   * of a proxied response, as Kong's proxy-cache marks its hits proxied
   */
  proxied?: boolean | undefined
}

/** Observes a response body as it streams to the client (a plugin that stores what passes). */
export interface BodyTap {
  chunk(data: Buffer): void
  end(): void
  /** the response was cut short (client gone, upstream error): drop what was collected */
  abort(): void
}

/**
 * The response as the response phase sees it, before anything is written to the client.
 * Handlers may change `status` and `headers`, ask for the whole body (`buffer = true`, then
 * their `body` hook runs) or add a streaming tap.
 */
export interface ResponseHead {
  status: number
  /** lower-case names */
  headers: Record<string, string | string[]>
  /** a plugin needs the whole body: the data plane buffers it and runs the `body` hooks */
  buffer: boolean
  taps: BodyTap[] | null
  /** the response comes from a plugin's reply, not from the upstream */
  readonly fromPlugin: boolean
}

/**
 * A configured plugin, built once at config load by {@link PluginDefinition.create}. Any phase may
 * be absent; empty phases are skipped by the compiled chain. Handlers must not keep per-request
 * state on the instance (one instance serves every request of its scope).
 */
export interface PluginInstance {
  /** before the upstream request; return a reply to stop (sync when it can: no promise cost) */
  access?(ctx: RequestContext): AccessResult | Promise<AccessResult>
  /** the upstream's (or a reply's) status and headers, in reverse priority order */
  response?(ctx: RequestContext, head: ResponseHead): void | Promise<void>
  /** the whole body, when some handler set `head.buffer` */
  body?(ctx: RequestContext, head: ResponseHead, body: Buffer): Buffer | undefined
  /** after the response is sent; must not throw and must not block */
  log?(ctx: RequestContext): void
  /**
   * May the upstream target `host:port` take this request? The balancer asks it of every
   * candidate, so it must be a pure check (a breaker open on that target says no). With a
   * handler here, a retry never goes to a target it refuses.
   */
  admits?(ctx: RequestContext, target: string): boolean
  /** an upstream attempt goes to `target` now (a half-open breaker counts its trial calls here) */
  attemptStart?(ctx: RequestContext, target: string): void
  /** how that attempt ended (every attempt, retries included) */
  attemptEnd?(ctx: RequestContext, attempt: UpstreamAttempt): void
  /** the runtime that owned this instance was replaced and drained: release timers */
  close?(): void
}

/**
 * One upstream attempt as the data plane saw it. `failure` is '' when the upstream answered
 * (whatever its status), else how it failed: no connection, no answer in time, an answer no
 * client could be given.
 */
export interface UpstreamAttempt {
  /** `host:port` */
  readonly target: string
  /** the upstream's status, 0 when it gave none */
  readonly status: number
  readonly failure: '' | 'connect' | 'timeout' | 'bad_response'
  /** attempt sent → response headers or failure (ms) */
  readonly ms: number
  /** 0 for the first attempt of the request, 1 for the first retry, … */
  readonly retry: number
}

/** Where a plugin instance is attached (Kong's scoping). */
export interface PluginScope {
  route?: string | undefined
  service?: string | undefined
  consumer?: string | undefined
}

/** What a plugin gets at build time: its identity, the whole config, and the node's services. */
export interface PluginEnv {
  /** plugin entity id: stable across reloads, so state keyed on it survives a config change */
  id: string
  scope: PluginScope
  /** the whole configuration (consumers and credentials for auth plugins) */
  document: ConfigDocument
  services: PluginServices
  log: Logger
}

/**
 * A plugin: Kong's name, priority and schema, plus a factory for configured instances.
 *
 * @example
 *   export const plugin: PluginDefinition<Config> = {
 *     name: 'request-termination', priority: 2, schema,
 *     create: (config) => ({ access: () => ({ status: config.status_code, body: { message: config.message } }) }),
 *   }
 */
export interface PluginDefinition<C = unknown> {
  name: string
  /** higher runs first in the access phase (Kong's PRIORITY) */
  priority: number
  /** validates and defaults the `config` object; every field described */
  schema: ZodType<C, unknown>
  /**
   * may not be attached to a consumer (Kong's `no_consumer`: an auth plugin); a string says why,
   * and is added to the refusal
   */
  noConsumer?: boolean | string
  create(config: C, env: PluginEnv): PluginInstance | Promise<PluginInstance>
  /** Admin API endpoints the plugin adds (revocation lists, purges), built once per node */
  adminRoutes?: AdminRoutesFactory
  /**
   * Declares the plugin's metric series and access-log fields, once per node, whatever the
   * configuration (a series exists before the first instance does). Node-wide counters live in
   * `services.shared(…)`, where the instances find the same object.
   */
  telemetry?(t: Telemetry, services: PluginServices): void
  /**
   * The plugin's node-wide part on a node with workers: runs once in the primary process
   * (node-wide counters a plugin's workers share; see `core/peers.ts`).
   */
  primary?: PrimaryPart
}

/** The registry the runtime compiler and the validators receive (plugins/index.ts builds it). */
export interface PluginRegistry {
  get(name: string): PluginDefinition | undefined
  names(): string[]
}
