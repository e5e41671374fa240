import type { Cluster, Redis } from 'ioredis'
import type { ConfigDocument } from '../../core/entities.js'
import { connectRedis } from '../../stores/redis/connect.js'
import type { ConfigStore, StoredConfig, StoreHead } from './types.js'

// Compare-and-set: the write lands only if nobody wrote since `expected`, and the new version is
// announced in the same atomic step, so a node can never see a version without its document.
const COMMIT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
local v = current + 1
redis.call('HSET', KEYS[1], 'version', v, 'hash', ARGV[3], 'doc', ARGV[2], 'validator', ARGV[5])
redis.call('PUBLISH', ARGV[4], v .. ':' .. ARGV[3])
return v
`

type Client = (Redis | Cluster) & {
  porticoConfigCommit(
    key: string,
    expected: number,
    doc: string,
    hash: string,
    channel: string,
    validator: string,
  ): Promise<number>
}

export interface RedisStoreOptions {
  url: string
  keyPrefix: string
  /** bound on every store command, so a stalled Redis fails a write instead of hanging it */
  commandTimeoutMs?: number
  /** this node's version and plugin set (see {@link StoredConfig.validator}) */
  validator?: string
}

/** Resolves once the client is ready, or after `ms` (the caller then reads `reachable`). */
export function whenReady(client: Redis | Cluster, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      client.off('ready', done)
      resolve()
    }
    client.once('ready', done)
  })
}

/**
 * Entities in Redis (`PORTICO_CONFIG_STORE=redis`), shared by every node: one hash
 * `{prefix}{config}` holding `version`, `hash` and `doc` (the whole flat document as JSON), written
 * by one Lua compare-and-set that also publishes `version:hash` on `{prefix}{config}:changes`.
 * One key for the whole document keeps a change atomic however many entities it touches and
 * makes a node's catch-up one read; documents of a gateway are small enough for that.
 *
 * @example
 *   const store = new RedisConfigStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'portico:' })
 *   store.watch((head) => void resync(head))
 */
export class RedisConfigStore implements ConfigStore {
  readonly kind = 'redis'
  readonly key: string
  readonly channel: string
  readonly client: Client
  readonly #subscriber: Redis | Cluster
  readonly #validator: string
  #listeners: Array<(head: StoreHead | null) => void> = []

  constructor(options: RedisStoreOptions) {
    this.key = `${options.keyPrefix}{config}`
    this.channel = `${this.key}:changes`
    this.#validator = options.validator ?? ''
    // commands fail at once while disconnected (no offline queue): the node says so and keeps serving
    this.client = connectRedis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectionName: 'portico-config',
    }) as Client
    this.client.on('error', () => {})
    this.client.defineCommand('porticoConfigCommit', { numberOfKeys: 1, lua: COMMIT })
    // the subscriber may queue its SUBSCRIBE until connected, and resubscribes after a reconnect
    this.#subscriber = connectRedis(options.url, {
      enableOfflineQueue: true,
      connectionName: 'portico-config-sub',
    })
    this.#subscriber.on('error', () => {})
    this.#subscriber.on('message', (_channel: string, message: string) => {
      const [version, hash] = message.split(':')
      this.#emit({ version: Number(version), hash: hash ?? '' })
    })
    // messages sent while disconnected are lost: tell the listener to check
    this.#subscriber.on('ready', () => this.#emit(null))
    this.#subscriber.subscribe(this.channel).catch(() => {})
  }

  get reachable(): boolean {
    return this.client.status === 'ready'
  }

  /** Waits (at most `ms`) for the first connection. */
  ready(ms: number): Promise<void> {
    return whenReady(this.client, ms)
  }

  async head(): Promise<StoreHead> {
    const [version, hash] = await this.client.hmget(this.key, 'version', 'hash')
    return { version: Number(version ?? 0), hash: hash ?? '' }
  }

  async load(): Promise<StoredConfig | null> {
    const [version, hash, doc, validator] = await this.client.hmget(
      this.key,
      'version',
      'hash',
      'doc',
      'validator',
    )
    if (version === null || doc === null) return null
    return {
      version: Number(version),
      hash: hash ?? '',
      doc: JSON.parse(doc) as unknown,
      validator: validator ?? undefined,
    }
  }

  async commit(expected: number, doc: ConfigDocument, hash: string): Promise<number | null> {
    const v = await this.client.porticoConfigCommit(
      this.key,
      expected,
      JSON.stringify(doc),
      hash,
      this.channel,
      this.#validator,
    )
    return v < 0 ? null : v
  }

  watch(listener: (head: StoreHead | null) => void): void {
    this.#listeners.push(listener)
  }

  #emit(head: StoreHead | null): void {
    for (const l of this.#listeners) l(head)
  }

  async close(): Promise<void> {
    this.#listeners = []
    await Promise.all(
      [this.client, this.#subscriber].map((c) =>
        c.quit().then(
          () => undefined,
          () => c.disconnect(),
        ),
      ),
    )
  }
}
