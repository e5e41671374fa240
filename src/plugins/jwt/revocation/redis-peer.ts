import type { Logger } from '../../../core/logger.js'
import type { RedisCallOptions, RedisConnection, RedisScript } from '../../../core/services.js'
import type { RevocationOp, RevocationPeer, Revocations } from './registry.js'

/** Catch-up period: a node that missed a pub/sub message is current again within this (ms). */
export const CATCH_UP_MS = 5000
/** Changes kept in the Redis log for catch-up; a node further behind reloads the whole set. */
export const LOG_MAX = 10_000
/** Deadline of one Redis call made here (none is in the request path). */
const CALL_DEADLINE_MS = 2000

// KEYS: set (id → exp), log (entry → seq), seq. ARGV: op, id, exp, now, log max.
// One atomic step: number the change, apply it, log it, trim; returns the entry, which the
// caller then announces (on Cluster a script may not publish to a sharded channel).
const PUBLISH = `
local seq = redis.call('INCR', KEYS[3])
if ARGV[1] == 'r' then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2]) else redis.call('ZREM', KEYS[1], ARGV[2]) end
local entry = seq .. '|' .. ARGV[1] .. '|' .. ARGV[3] .. '|' .. ARGV[2]
redis.call('ZADD', KEYS[2], seq, entry)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
local n = redis.call('ZCARD', KEYS[2])
local max = tonumber(ARGV[5])
if n > max then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - max - 1) end
return {seq, entry}
`

// KEYS as above. ARGV: last seq seen, the entry seen under it ('' for none), now. Returns
// {seq, kind, items, the entry under seq}:
// - 'same': nothing new;
// - 'log': the changes after `last`, when the log still holds them all;
// - 'full': a snapshot of the live set (the node is further behind than the log);
// - 'diverged': a snapshot too, but this Redis does not hold the change the node saw under
//   `last` (it lost writes: a replica promoted before it had them). Its numbers are handed
//   out again, so a number alone cannot tell a node what it has seen.
const SINCE = `
local seq = tonumber(redis.call('GET', KEYS[3]) or '0')
local last = tonumber(ARGV[1])
local function at(n)
  if n == 0 then return '' end
  return redis.call('ZRANGEBYSCORE', KEYS[2], n, n)[1] or ''
end
local head = at(seq)
local mine = at(last)
if seq < last or (mine ~= '' and mine ~= ARGV[2]) then
  return {seq, 'diverged', redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf', 'WITHSCORES'), head}
end
if mine == ARGV[2] then
  if seq == last then return {seq, 'same', {}, head} end
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if first[2] ~= nil and tonumber(first[2]) <= last + 1 then
    return {seq, 'log', redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf'), head}
  end
end
return {seq, 'full', redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf', 'WITHSCORES'), head}
`

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

/** None of these calls is in the request path: a longer deadline, past the request breaker. */
const CALL: RedisCallOptions = { deadlineMs: CALL_DEADLINE_MS, background: true }

/**
 * Shares revocations between nodes through Redis: every change is one Lua script (numbered,
 * stored in a sorted set by expiry, logged), then published on `{prefix}{jwt:revocations}:changes`
 * (the keys' slot: sharded pub/sub on Cluster). Each node listens through the node's shared
 * subscriber and applies a change as it arrives; every
 * {@link CATCH_UP_MS}, and after every reconnection of the subscriber, it also asks for the
 * changes after the last one it saw (or a snapshot when it is too far behind), so a lost message
 * or a Redis outage only delays propagation. A node knows a change by its number and its text:
 * after a failover to a replica that had not received the last changes, Redis numbers new
 * changes again from where the replica was, and a number alone would make nodes take a new
 * revocation for one they already had (`diverged`: they then take a snapshot and write back the
 * revocations Redis lost).
 * Requests never wait on any of this: they read the local set.
 *
 * @example
 *   revocations.attach(new RevocationSync(services.redis(), services.keyPrefix, revocations))
 */
export class RevocationSync implements RevocationPeer {
  readonly #conn: RedisConnection
  readonly #publish: RedisScript<[number, string]>
  readonly #since: RedisScript<[number, 'same' | 'log' | 'full' | 'diverged', string[], string]>
  readonly #unsubscribe: () => void
  readonly #keys: [string, string, string]
  readonly #channel: string
  #last = 0
  /** the change numbered `#last` as this node saw it: after a failover that lost writes, the
   * same number may name another change */
  #lastEntry = ''
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
    this.#conn = conn
    this.#publish = conn.script('jwt-revocation-publish', PUBLISH, 3)
    this.#since = conn.script('jwt-revocation-since', SINCE, 3)
    const base = `${prefix}{jwt:revocations}`
    this.#keys = [base, `${base}:log`, `${base}:seq`]
    this.#channel = `${base}:changes`
    this.#ready = new Promise((r) => (this.#resolveReady = r))
    // (re)subscribed: messages may have been missed while away
    this.#unsubscribe = conn.listen(
      this.#channel,
      (message) => this.#onMessage(message),
      () => {
        this.#subscribed = true
        void this.catchUp()
      },
    )
    this.#timer = setInterval(() => this.catchUp(), CATCH_UP_MS).unref()
  }

  ready(): Promise<void> {
    return this.#ready
  }

  async publish(change: RevocationOp): Promise<boolean> {
    try {
      const [seq, entry] = await this.#publish.run(
        [...this.#keys, change.op, change.id, change.exp, Math.floor(Date.now() / 1000), LOG_MAX],
        CALL,
      )
      if (seq === this.#last + 1) {
        this.#last = seq
        this.#lastEntry = entry
      }
      // a lost announcement is made up by the other nodes' catch-up
      await this.#conn.publish(this.#channel, entry, CALL).catch(() => {})
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
    if (e.seq <= this.#last) {
      if (e.seq === this.#last && message === this.#lastEntry) return // this node's own, or known
      // a number this node has passed: either a late message (the catch-up already had it) or
      // a Redis that lost writes numbering new changes again. The catch-up tells them apart; a
      // new change under the very number this node holds is certainly new: apply it at once
      if (e.seq === this.#last) this.target.apply(e.change)
      this.catchUp()
      return
    }
    // apply at once even after a gap: a revocation must not wait for the catch-up to land
    this.target.apply(e.change)
    if (e.seq === this.#last + 1) {
      this.#last = e.seq
      this.#lastEntry = message
    } else this.catchUp()
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
    const [seq, kind, items, head] = await this.#since.run(
      [...this.#keys, this.#last, this.#lastEntry, Math.floor(Date.now() / 1000)],
      CALL,
    )
    if (kind === 'log') {
      for (const entry of items) {
        const e = parseEntry(entry)
        if (e !== undefined && e.seq > this.#last) this.target.apply(e.change)
      }
    } else if (kind === 'full' || kind === 'diverged') {
      const snapshot: Array<[string, number]> = []
      for (let i = 0; i + 1 < items.length; i += 2) snapshot.push([items[i]!, Number(items[i + 1])])
      if (kind === 'full') this.target.replace(snapshot)
      else {
        // Redis lost changes this node had applied: keep its revocations (the safe side) and
        // write the ones Redis no longer has again, so every node gets them back
        const lost = this.target.merge(snapshot)
        if (lost.length > 0) {
          this.log?.warn(
            { revocations: lost.length },
            'jwt: Redis lost revocations (a failover before they were replicated); shared again',
          )
          this.#again = true
        }
      }
    }
    // changes announced while this call ran may be newer than its answer (and a snapshot may
    // have replaced them): go again at once rather than at the next period
    this.#last = seq
    this.#lastEntry = head
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
    this.#unsubscribe()
  }
}
