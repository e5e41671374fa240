import type { Cluster, Redis } from 'ioredis'
import type { Logger } from '../../../core/logger.js'
import type { RedisConnection } from '../../../core/services.js'
import type { RevocationOp, RevocationPeer, Revocations } from './registry.js'

/** Catch-up period: a node that missed a pub/sub message is current again within this (ms). */
export const CATCH_UP_MS = 5000
/** Changes kept in the Redis log for catch-up; a node further behind reloads the whole set. */
export const LOG_MAX = 10_000
/** Deadline of one Redis call made here (none is in the request path). */
const CALL_DEADLINE_MS = 2000

// KEYS: set (id → exp), log (entry → seq), seq. ARGV: op, id, exp, now, log max, channel.
// One atomic step: number the change, apply it, log it, trim, and announce it.
const PUBLISH = `
local seq = redis.call('INCR', KEYS[3])
if ARGV[1] == 'r' then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2]) else redis.call('ZREM', KEYS[1], ARGV[2]) end
local entry = seq .. '|' .. ARGV[1] .. '|' .. ARGV[3] .. '|' .. ARGV[2]
redis.call('ZADD', KEYS[2], seq, entry)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
local n = redis.call('ZCARD', KEYS[2])
local max = tonumber(ARGV[5])
if n > max then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - max - 1) end
redis.call('PUBLISH', ARGV[6], entry)
return seq
`

// KEYS as above. ARGV: last seq seen, now. The changes since `last` when the log still has
// them all, otherwise a snapshot of the live set.
const SINCE = `
local seq = tonumber(redis.call('GET', KEYS[3]) or '0')
local last = tonumber(ARGV[1])
if seq == last then return {seq, 'same'} end
if last > 0 and seq > last then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if first[2] ~= nil and tonumber(first[2]) <= last + 1 then
    return {seq, 'log', redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')}
  end
end
return {seq, 'full', redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf', 'WITHSCORES')}
`

type Scripted = (Redis | Cluster) & {
  porticoJwtRevocationPublish(...args: Array<string | number>): Promise<number>
  porticoJwtRevocationSince(...args: Array<string | number>): Promise<[number, string, string[]?]>
}

function parseEntry(entry: string): { seq: number; change: RevocationOp } | undefined {
  const a = entry.indexOf('|')
  const b = entry.indexOf('|', a + 1)
  const c = entry.indexOf('|', b + 1)
  if (a < 0 || b < 0 || c < 0) return undefined
  const op = entry.slice(a + 1, b)
  if (op !== 'r' && op !== 'd') return undefined
  return {
    seq: Number(entry.slice(0, a)),
    change: { op, id: entry.slice(c + 1), exp: Number(entry.slice(b + 1, c)) },
  }
}

function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis call exceeded ${ms} ms`)), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

/**
 * Shares revocations between nodes through Redis: every change is one Lua script (numbered,
 * stored in a sorted set by expiry, logged, published on `{prefix}jwt:revocations`). Each node
 * listens on a dedicated subscriber connection and applies a change as it arrives; every
 * {@link CATCH_UP_MS} it also asks for the changes after the last one it saw (or a snapshot
 * when it is too far behind), so a lost message or a Redis outage only delays propagation.
 * Requests never wait on any of this: they read the local set.
 *
 * @example
 *   revocations.attach(new RedisRevocationPeer(services.redis(), services.keyPrefix, revocations))
 */
export class RedisRevocationPeer implements RevocationPeer {
  readonly #client: Scripted
  readonly #sub: Redis | Cluster
  readonly #keys: [string, string, string]
  readonly #channel: string
  #last = 0
  /** highest change number seen on the channel */
  #seen = 0
  #subscribed = false
  #timer: NodeJS.Timeout
  #catching: Promise<void> | null = null
  #again = false
  #closed = false
  #ready: Promise<void>
  #resolveReady!: () => void

  constructor(
    conn: RedisConnection,
    prefix: string,
    readonly target: Revocations,
    readonly log?: Logger,
  ) {
    const client = conn.client as Scripted
    if (typeof client.porticoJwtRevocationPublish !== 'function') {
      client.defineCommand('porticoJwtRevocationPublish', { numberOfKeys: 3, lua: PUBLISH })
      client.defineCommand('porticoJwtRevocationSince', { numberOfKeys: 3, lua: SINCE })
    }
    this.#client = client
    const base = `${prefix}{jwt:revocations}`
    this.#keys = [base, `${base}:log`, `${base}:seq`]
    this.#channel = `${prefix}jwt:revocations`
    this.#ready = new Promise((r) => (this.#resolveReady = r))
    // a dedicated connection: a subscribed connection can run nothing else
    const opts = { enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: false }
    this.#sub =
      'nodes' in client && typeof (client as Cluster).nodes === 'function'
        ? (client as Cluster).duplicate(undefined, { redisOptions: opts })
        : (client as Redis).duplicate(opts)
    this.#sub.on('error', () => {})
    this.#sub.on('message', (_channel: string, message: string) => this.#onMessage(message))
    // (re)connected: messages may have been missed while away
    this.#sub.on('ready', () => this.catchUp())
    this.#sub.subscribe(this.#channel).then(
      () => {
        this.#subscribed = true
        void this.catchUp()
      },
      () => {},
    )
    this.#timer = setInterval(() => this.catchUp(), CATCH_UP_MS).unref()
    // the node closes its shared client on stop: the subscriber goes with it
    client.once('end', () => this.close())
  }

  ready(): Promise<void> {
    return this.#ready
  }

  async publish(change: RevocationOp): Promise<boolean> {
    try {
      const seq = await deadline(
        this.#client.porticoJwtRevocationPublish(
          ...this.#keys,
          change.op,
          change.id,
          change.exp,
          Math.floor(Date.now() / 1000),
          LOG_MAX,
          this.#channel,
        ),
        CALL_DEADLINE_MS,
      )
      if (seq === this.#last + 1) this.#last = seq
      return true
    } catch (err) {
      this.log?.warn(
        { err: (err as Error).message },
        'jwt: revocation not yet shared through Redis (retried)',
      )
      return false
    }
  }

  #onMessage(message: string): void {
    const e = parseEntry(message)
    if (e === undefined) return
    if (e.seq > this.#seen) this.#seen = e.seq
    if (e.seq <= this.#last) return
    // apply at once even after a gap: a revocation must not wait for the catch-up to land
    this.target.apply(e.change)
    if (e.seq === this.#last + 1) this.#last = e.seq
    else this.catchUp()
  }

  /** Retries unshared local changes, then fetches what this node missed. Never rejects. */
  catchUp(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (this.#catching !== null) {
      this.#again = true
      return this.#catching
    }
    this.#catching = this.#catchUp()
      .catch((err: unknown) =>
        this.log?.debug({ err: (err as Error).message }, 'jwt: revocation catch-up failed'),
      )
      .finally(() => {
        this.#catching = null
        if (this.#again) {
          this.#again = false
          void this.catchUp()
        }
      })
    return this.#catching
  }

  async #catchUp(): Promise<void> {
    for (const change of this.target.pending()) {
      if (!(await this.target.republish(change))) return
    }
    const [seq, kind, items = []] = await deadline(
      this.#client.porticoJwtRevocationSince(...this.#keys, this.#last, Math.floor(Date.now() / 1000)),
      CALL_DEADLINE_MS,
    )
    if (kind === 'log') {
      for (const entry of items) {
        const e = parseEntry(entry)
        if (e !== undefined && e.seq > this.#last) this.target.apply(e.change)
      }
    } else if (kind === 'full') {
      const snapshot: Array<[string, number]> = []
      for (let i = 0; i + 1 < items.length; i += 2) snapshot.push([items[i]!, Number(items[i + 1])])
      this.target.replace(snapshot)
    }
    // changes announced while this call ran may be newer than its answer (and a snapshot may
    // have replaced them): go again at once rather than at the next period
    this.#last = seq
    if (this.#seen > seq) {
      this.#again = true
      this.#seen = seq
    }
    if (this.#subscribed) this.#resolveReady()
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    this.#sub.disconnect()
  }
}
