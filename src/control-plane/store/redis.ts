import type { ConfigDocument } from '../../core/entities.js'
import type { RedisCallOptions, RedisConnection, RedisScript } from '../../core/services.js'
import { Listeners } from '../listeners.js'
import type { ConfigStore, StoredConfig, StoreHead } from './types.js'

// Compare-and-set: the write lands only if nobody wrote since `expected`. The new version is
// announced right after (on Cluster a script may not publish to a sharded channel); a node that
// misses the announcement sees the version at its next periodic check.
const COMMIT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
local v = current + 1
redis.call('HSET', KEYS[1], 'version', v, 'hash', ARGV[3], 'doc', ARGV[2], 'validator', ARGV[4])
return v
`

export interface RedisStoreOptions {
  redis: RedisConnection
  keyPrefix: string
  /** bound on every store command, so a stalled Redis fails a write instead of hanging it */
  commandTimeoutMs?: number
  /** this node's version and plugin set (see {@link StoredConfig.validator}) */
  validator?: string
}

/**
 * Entities in Redis (`PORTICO_CONFIG_STORE=redis`), shared by every node: one hash
 * `{prefix}{config}` holding `version`, `hash` and `doc` (the whole flat document as JSON), written
 * by one Lua compare-and-set, then announced as `version:hash` on `{prefix}{config}:changes`
 * (sharded pub/sub on Cluster: the channel shares the key's slot).
 * One key for the whole document keeps a change atomic however many entities it touches and
 * makes a node's catch-up one read; documents of a gateway are small enough for that.
 *
 * @example
 *   const store = new SharedConfigStore({ redis: services.redis(), keyPrefix: 'portico:' })
 *   store.watch((head) => void resync(head))
 */
export class SharedConfigStore implements ConfigStore {
  readonly kind = 'redis'
  readonly key: string
  readonly channel: string
  readonly redis: RedisConnection
  readonly #commit: RedisScript<number>
  readonly #opts: RedisCallOptions
  readonly #validator: string
  #unsubscribe: () => void
  readonly #listeners = new Listeners<[StoreHead | null]>()

  constructor(options: RedisStoreOptions) {
    this.key = `${options.keyPrefix}{config}`
    this.channel = `${this.key}:changes`
    this.#validator = options.validator ?? ''
    this.redis = options.redis
    // admin-path calls: a longer deadline, and not refused while the request path's breaker is open
    this.#opts = { deadlineMs: options.commandTimeoutMs ?? 2000, background: true }
    this.#commit = this.redis.script<number>('config-commit', COMMIT, 1)
    // messages sent while the subscriber was away are lost: the resync tells the listener to check
    this.#unsubscribe = this.redis.listen(
      this.channel,
      (message) => {
        const [version, hash] = message.split(':')
        this.#listeners.emit({ version: Number(version), hash: hash ?? '' })
      },
      () => this.#listeners.emit(null),
    )
  }

  get reachable(): boolean {
    return this.redis.ready
  }

  /** Waits (at most `ms`) for the first connection. */
  ready(ms: number): Promise<void> {
    return this.redis.whenReady(ms)
  }

  async head(): Promise<StoreHead> {
    const [version, hash] = await this.redis.call<Array<string | null>>(
      'hmget',
      [this.key, 'version', 'hash'],
      this.#opts,
    )
    return { version: Number(version ?? 0), hash: hash ?? '' }
  }

  async load(): Promise<StoredConfig | null> {
    const [version, hash, doc, validator] = await this.redis.call<Array<string | null>>(
      'hmget',
      [this.key, 'version', 'hash', 'doc', 'validator'],
      this.#opts,
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
    const v = await this.#commit.run(
      [this.key, expected, JSON.stringify(doc), hash, this.#validator],
      this.#opts,
    )
    if (v < 0) return null
    // the write is done; an announcement that fails is made up by the other nodes' periodic check
    await this.redis.publish(this.channel, `${v}:${hash}`, this.#opts).catch(() => {})
    return v
  }

  watch(listener: (head: StoreHead | null) => void): void {
    this.#listeners.add(listener)
  }

  /** Stops listening (the connection belongs to the node's services). */
  async close(): Promise<void> {
    this.#listeners.clear()
    this.#unsubscribe()
  }
}
