import type { Cluster, Redis } from 'ioredis'
import type { FillOutcome, RedisCache, RedisConnection } from '../../core/services.js'

/**
 * Drops the fill lock when the caller still holds it, and wakes the waiting nodes: one PUBLISH
 * only when some node flagged that it waits, so a fill nobody waits for costs no fan-out.
 * KEYS: lock, wait flag. ARGV: token, channel, notice.
 */
const RELEASE_LUA = `
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
if redis.call('del', KEYS[2]) == 1 then redis.call('publish', ARGV[2], ARGV[3]) end
return 1`

type Client = Redis | Cluster
type WithRelease = Client & {
  porticoCacheRelease(
    lock: string,
    wait: string,
    token: string,
    channel: string,
    notice: string,
  ): Promise<number>
}

/** A Redis call that outlived the request path's deadline (DESIGN §2.7). */
export class RedisDeadlineError extends Error {
  readonly code = 'PORTICO_REDIS_DEADLINE'
  constructor(ms: number) {
    super(`redis did not answer within ${ms} ms`)
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisDeadlineError(ms)), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
}

/** Admin and status calls (flush, stats) walk the key space: they get far more time. */
const ADMIN_DEADLINE_MS = 10_000
/** stats() stops counting after this many keys: a status page must not scan forever */
const STATS_SCAN_LIMIT = 100_000
/** polling fallback while waiting for a fill: first gap, doubling up to the cap */
const POLL_FIRST_MS = 20
const POLL_CAP_MS = 200

/**
 * proxy-cache's Redis tier (see {@link RedisCache}). Entries live at
 * `<prefix>proxy-cache:{<key>}`, their fill lock and wait flag beside them in the same hash
 * slot; notices go over one channel, `<prefix>proxy-cache:notices`, read by a subscriber
 * connection opened on first use.
 *
 * @example
 *   const rc = new RedisCacheStore(services.redis(), 'portico:')
 *   await rc.set('ab12…', blob, 60_000)
 */
export class RedisCacheStore implements RedisCache {
  readonly #client: WithRelease
  readonly #base: string
  readonly channel: string
  #subscriber: Client | null = null
  readonly #listeners = new Set<(notice: string) => void>()
  readonly #waiters = new Map<string, Set<(outcome: FillOutcome) => void>>()

  constructor(
    readonly connection: RedisConnection,
    prefix: string,
  ) {
    const client = connection.client as WithRelease
    if (typeof client.porticoCacheRelease !== 'function') {
      client.defineCommand('porticoCacheRelease', { numberOfKeys: 2, lua: RELEASE_LUA })
    }
    this.#client = client
    this.#base = `${prefix}proxy-cache:`
    this.channel = `${prefix}proxy-cache:notices`
  }

  get deadlineMs(): number {
    return this.connection.deadlineMs
  }

  get ready(): boolean {
    return this.connection.ready
  }

  #key(key: string): string {
    return `${this.#base}{${key}}`
  }

  get(key: string): Promise<Buffer | null> {
    return withDeadline(this.#client.getBuffer(this.#key(key)), this.deadlineMs)
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await withDeadline(
      this.#client.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))),
      this.deadlineMs,
    )
  }

  async delete(key: string): Promise<boolean> {
    return (await withDeadline(this.#client.unlink(this.#key(key)), this.deadlineMs)) > 0
  }

  async lock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const k = this.#key(key)
    try {
      const r = await withDeadline(
        this.#client.set(`${k}:lock`, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
        this.deadlineMs,
      )
      return r === 'OK'
    } catch (err) {
      // The SET is still queued and may run after this node gave up on it (Redis paused its
      // writes, `CLIENT PAUSE … WRITE`, or was just slow): a lock nobody holds would make every
      // other miss wait for a fill that never comes. Its release goes out right behind it on
      // the same connection, and Redis runs one connection's commands in order, so such a lock
      // is dropped the moment it is taken, and any waiter is woken.
      if (err instanceof RedisDeadlineError) {
        this.#client
          .porticoCacheRelease(`${k}:lock`, `${k}:wait`, token, this.channel, `release:${key}`)
          .catch(() => {})
      }
      throw err
    }
  }

  async release(key: string, token: string, filled: boolean): Promise<void> {
    const k = this.#key(key)
    const notice = `${filled ? 'fill' : 'release'}:${key}`
    await withDeadline(
      this.#client.porticoCacheRelease(`${k}:lock`, `${k}:wait`, token, this.channel, notice),
      this.deadlineMs,
    )
  }

  waitForFill(key: string, boundMs: number): Promise<FillOutcome> {
    this.#subscribe()
    const k = this.#key(key)
    return new Promise<FillOutcome>((resolve) => {
      let settled = false
      let pollTimer: NodeJS.Timeout | null = null
      let gap = POLL_FIRST_MS
      const finish = (outcome: FillOutcome): void => {
        if (settled) return
        settled = true
        clearTimeout(bound)
        if (pollTimer !== null) clearTimeout(pollTimer)
        const set = this.#waiters.get(key)
        set?.delete(finish)
        if (set?.size === 0) this.#waiters.delete(key)
        resolve(outcome)
      }
      const bound = setTimeout(() => finish('timeout'), boundMs)
      let set = this.#waiters.get(key)
      if (set === undefined) this.#waiters.set(key, (set = new Set()))
      set.add(finish)
      // The poll covers a lost notice and a filler that died: its lock expires, the wait ends.
      const poll = (): void => {
        pollTimer = null
        if (settled) return
        withDeadline(Promise.all([this.#client.exists(k), this.#client.exists(`${k}:lock`)]), this.deadlineMs)
          .then(([entry, lock]) => {
            if (entry > 0) finish('filled')
            else if (lock === 0) finish('released')
          })
          .catch(() => {})
          .finally(() => {
            if (settled) return
            pollTimer = setTimeout(poll, gap)
            gap = Math.min(gap * 2, POLL_CAP_MS)
          })
      }
      // flag first, then look: a fill that lands in between is seen by the look, a later one
      // finds the flag and publishes
      withDeadline(this.#client.set(`${k}:wait`, '1', 'PX', Math.max(1, Math.ceil(boundMs))), this.deadlineMs)
        .catch(() => {})
        .finally(poll)
    })
  }

  async publish(notice: string): Promise<void> {
    await withDeadline(this.#client.publish(this.channel, notice), this.deadlineMs)
  }

  subscribe(listener: (notice: string) => void): () => void {
    this.#subscribe()
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #subscribe(): void {
    if (this.#subscriber !== null) return
    const c = this.connection.client
    // a subscriber may queue SUBSCRIBE until it is connected (and re-subscribes on reconnect)
    const sub: Client =
      'nodes' in c
        ? c.duplicate(undefined, { enableOfflineQueue: true })
        : c.duplicate({ enableOfflineQueue: true })
    sub.on('error', () => {})
    sub.on('message', (_channel: string, notice: string) => this.#dispatch(notice))
    sub.subscribe(this.channel).catch(() => {})
    this.#subscriber = sub
  }

  #dispatch(notice: string): void {
    const colon = notice.indexOf(':')
    const kind = notice.slice(0, colon)
    if (kind === 'fill' || kind === 'release') {
      const set = this.#waiters.get(notice.slice(colon + 1))
      if (set !== undefined) for (const finish of [...set]) finish(kind === 'fill' ? 'filled' : 'released')
    }
    for (const l of this.#listeners) l(notice)
  }

  /** SCAN every master (one in single-node mode) for this prefix's keys. */
  async #scan(each: (client: Redis, keys: string[]) => Promise<boolean | undefined>): Promise<void> {
    const c = this.connection.client
    const nodes: Redis[] = 'nodes' in c ? c.nodes('master') : [c]
    for (const node of nodes) {
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${this.#base}*`, 'COUNT', 500)
        cursor = next
        if (keys.length > 0 && (await each(node, keys)) === false) return
      } while (cursor !== '0')
    }
  }

  flush(): Promise<number> {
    let n = 0
    const run = this.#scan(async (node, keys) => {
      // UNLINK per key: in Cluster mode one call may only touch one slot
      const counts = await Promise.all(keys.map((k) => node.unlink(k)))
      for (const c of counts) n += c
      return undefined
    })
    return withDeadline(
      run.then(() => n),
      ADMIN_DEADLINE_MS,
    )
  }

  stats(): Promise<{ entries: number; bytes: number }> {
    let entries = 0
    let bytes = 0
    let seen = 0
    const run = this.#scan(async (node, keys) => {
      const data = keys.filter((k) => !k.endsWith(':lock') && !k.endsWith(':wait'))
      const lengths = await Promise.all(data.map((k) => node.strlen(k)))
      for (const l of lengths) {
        if (l === 0) continue
        entries++
        bytes += l
      }
      seen += keys.length
      return seen < STATS_SCAN_LIMIT
    })
    return withDeadline(
      run.then(() => ({ entries, bytes })),
      ADMIN_DEADLINE_MS,
    )
  }

  /** Closes the subscriber connection (the shared client belongs to the node). */
  async close(): Promise<void> {
    const sub = this.#subscriber
    this.#subscriber = null
    for (const set of this.#waiters.values()) for (const finish of [...set]) finish('timeout')
    if (sub !== null) await sub.quit().catch(() => sub.disconnect())
  }
}
