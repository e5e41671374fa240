import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { errorMap, toConfigIssues } from '../../config/issues.js'
import type { Logger } from '../../core/logger.js'
import { ApiError, badRequest, schemaViolation } from '../errors.js'
import type { UpstreamPolicy } from '../upstream-policy.js'
import type { Instance, RegistryBackend } from './types.js'

const SERVICE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

const instanceUrl = z.string().superRefine((value, ctx) => {
  const message = !URL.canParse(value)
    ? 'expected a URL such as http://10.0.0.5:8080'
    : (() => {
        const u = new URL(value)
        if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'expected an http or https URL'
        if (u.username !== '' || u.password !== '') return 'credentials in the URL are not supported'
        if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '') {
          return 'expected scheme://host:port only: the gateway forwards the request path as received'
        }
        return undefined
      })()
  if (message !== undefined) ctx.addIssue({ code: 'custom', message })
})

const registration = z.strictObject({
  url: instanceUrl.describe('where the instance listens: http(s)://host:port'),
  health_path: z
    .string()
    .regex(/^\/[^?#\s]*$/, 'should start with: /')
    .optional()
    .describe('active check path'),
  ttl: z.number().int().min(1).max(86400).default(30).describe('seconds without a renewal before it leaves'),
})
const renewal = z.strictObject({
  ttl: z.number().int().min(1).max(86400).optional().describe('a new ttl'),
})

/** Parses a form or JSON body for the registry (numbers may arrive as form strings). */
function parse<T>(schema: z.ZodType<T>, body: Record<string, unknown>): T | ApiError {
  const input = { ...body }
  if (typeof input.ttl === 'string' && /^\d+$/.test(input.ttl)) input.ttl = Number(input.ttl)
  const result = schema.safeParse(input, { error: errorMap })
  return result.success ? result.data : schemaViolation(toConfigIssues('', result.error.issues))
}

function checkName(name: string): ApiError | undefined {
  return SERVICE_NAME.test(name)
    ? undefined
    : badRequest(`invalid service name '${name}': letters, digits and '-' (a DNS label), at most 63`)
}

/** The part of the instance set that changes the synthesised entities (not renewals). */
function signature(instances: readonly Instance[]): string {
  return instances
    .map((i) => `${i.service}/${i.id} ${i.url} ${i.health_path ?? ''}`)
    .sort()
    .join('\n')
}

/**
 * The dynamic service registry: instances register (`POST`), renew (`PUT`, a heartbeat) and
 * deregister (`DELETE`); one that stops renewing leaves after its TTL. The live set is kept
 * here, refreshed on every change announced by the backend, every `tickMs` (which also sweeps
 * expired instances), and at the next expiry; `onChange` fires when the set that routes
 * depend on changes.
 *
 * @example
 *   const reg = new ServiceRegistry(new MemoryRegistry(), policy, log)
 *   reg.onChange((instances) => rebuild(instances))
 *   await reg.start()
 */
export class ServiceRegistry {
  #instances: Instance[] = []
  #signature = ''
  #offset = 0
  #listeners: Array<(instances: readonly Instance[]) => void> = []
  #tick: NodeJS.Timeout | undefined
  #expiry: NodeJS.Timeout | undefined
  #refreshing: Promise<void> | null = null
  #again = false
  #closed = false

  constructor(
    readonly backend: RegistryBackend,
    private readonly policy: UpstreamPolicy,
    private readonly log: Logger,
    private readonly tickMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.backend.watch(() => void this.refresh())
    await this.refresh()
    this.#tick = setInterval(() => {
      this.backend.sweep().then(
        () => this.refresh(),
        () => this.refresh(),
      )
    }, this.tickMs)
    this.#tick.unref()
  }

  onChange(listener: (instances: readonly Instance[]) => void): void {
    this.#listeners.push(listener)
  }

  /** The live instances as of the last refresh. */
  get instances(): readonly Instance[] {
    return this.#instances
  }

  /** Re-reads the live set (coalesced: at most one read in flight, one queued). */
  refresh(): Promise<void> {
    if (this.#refreshing !== null) {
      this.#again = true
      return this.#refreshing
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false
        await this.#read()
      } while (this.#again && !this.#closed)
    })().finally(() => {
      this.#refreshing = null
    })
    return this.#refreshing
  }

  async #read(): Promise<void> {
    let listed: { now: number; instances: Instance[] }
    try {
      listed = await this.backend.list()
    } catch (err) {
      this.log.debug({ err }, 'service registry unreachable: keeping the instances known')
      return
    }
    this.#offset = listed.now - Date.now()
    this.#instances = listed.instances
    this.#scheduleExpiry()
    const sig = signature(listed.instances)
    if (sig === this.#signature) return
    this.#signature = sig
    for (const l of this.#listeners) l(this.#instances)
  }

  /** Re-reads right after the earliest expiry, so an instance leaves on time (not on the next tick). */
  #scheduleExpiry(): void {
    if (this.#expiry !== undefined) clearTimeout(this.#expiry)
    if (this.#instances.length === 0 || this.#closed) return
    const next = Math.min(...this.#instances.map((i) => i.expires_at)) - this.#offset
    this.#expiry = setTimeout(() => void this.refresh(), Math.max(0, next - Date.now()) + 5)
    this.#expiry.unref()
  }

  async register(service: string, body: Record<string, unknown>) {
    const bad = checkName(service)
    if (bad !== undefined) return bad
    const r = parse(registration, body)
    if (r instanceof ApiError) return r
    const host = new URL(r.url).hostname
    const refused = this.policy.check(host)
    if (refused !== undefined) return schemaViolation([{ path: 'url', message: refused }])
    const result = await this.backend.register(
      { service, url: new URL(r.url).origin, health_path: r.health_path ?? null, ttl: r.ttl },
      randomUUID(),
    )
    await this.refresh()
    return result
  }

  async renew(
    service: string,
    id: string,
    body: Record<string, unknown>,
  ): Promise<Instance | null | ApiError> {
    const r = parse(renewal, body)
    if (r instanceof ApiError) return r
    return this.backend.renew(service, id, r.ttl)
  }

  async deregister(service: string, id: string): Promise<boolean> {
    const removed = await this.backend.deregister(service, id)
    if (removed) await this.refresh()
    return removed
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#tick)
    clearTimeout(this.#expiry)
    this.#listeners = []
    await this.backend.close()
  }
}
