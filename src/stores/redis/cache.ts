import type { FillOutcome, RedisCache, RedisConnection, RedisScript } from '../../core/services.js'

/**
 * Drops the fill lock when the caller still holds it, and says whether some node flagged that
 * it waits: only then is a notice published, so a fill nobody waits for costs no fan-out. (The
 * notice goes out from the client: on Cluster a script may not publish to a channel of
 * another slot.) KEYS: lock, wait flag. ARGV: token.
 */
const RELEASE_LUA = `
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return redis.call('del', KEYS[2])`

import { RedisDeadlineError } from './link.js'

export { RedisDeadlineError }

/** The release behind a lock SET that missed its deadline waits for that SET to run. */
const LOCK_DROP_DEADLINE_MS = 30_000

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
  readonly #release: RedisScript<number>
  readonly #base: string
  readonly channel: string
  #unsubscribe: (() => void) | null = null
  readonly #listeners = new Set<(notice: string) => void>()
  readonly #resyncs = new Set<(reconnected: boolean) => void>()
  readonly #waiters = new Map<string, Set<(outcome: FillOutcome) => void>>()

  constructor(
    readonly connection: RedisConnection,
    prefix: string,
  ) {
    this.#release = connection.script<number>('cache-release', RELEASE_LUA, 2)
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
    return this.connection.getBuffer(this.#key(key))
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.connection.call('set', [this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))])
  }

  async delete(key: string): Promise<boolean> {
    return (await this.connection.call<number>('unlink', [this.#key(key)])) > 0
  }

  async lock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const k = this.#key(key)
    try {
      const r = await this.connection.call('set', [
        `${k}:lock`,
        token,
        'PX',
        Math.max(1, Math.ceil(ttlMs)),
        'NX',
      ])
      return r === 'OK'
    } catch (err) {
      // The SET is still queued and may run after this node gave up on it (Redis paused its
      // writes, `CLIENT PAUSE … WRITE`, or was just slow): a lock nobody holds would make every
      // other miss wait for a fill that never comes. Its release goes out right behind it on
      // the same connection, and Redis runs one connection's commands in order, so such a lock
      // is dropped the moment it is taken, and any waiter is woken.
      if (err instanceof RedisDeadlineError) {
        this.#release
          // background: sent even while the breaker is open (this deadline just opened it)
          .run([`${k}:lock`, `${k}:wait`, token], { background: true, deadlineMs: LOCK_DROP_DEADLINE_MS })
          .then((waited) =>
            waited === 1 ? this.connection.publish(this.channel, `release:${key}`) : undefined,
          )
          .catch(() => {})
      }
      throw err
    }
  }

  async release(key: string, token: string, filled: boolean): Promise<void> {
    const k = this.#key(key)
    const waited = await this.#release.run([`${k}:lock`, `${k}:wait`, token])
    if (waited === 1) await this.connection.publish(this.channel, `${filled ? 'fill' : 'release'}:${key}`)
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
        const c = this.connection
        Promise.all([c.call<number>('exists', [k]), c.call<number>('exists', [`${k}:lock`])])
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
      this.connection
        .call('set', [`${k}:wait`, '1', 'PX', Math.max(1, Math.ceil(boundMs))])
        .catch(() => {})
        .finally(poll)
    })
  }

  async publish(notice: string): Promise<void> {
    await this.connection.publish(this.channel, notice, { deadlineMs: this.deadlineMs })
  }

  listen(listener: (notice: string) => void, resync?: (reconnected: boolean) => void): () => void {
    this.#subscribe()
    this.#listeners.add(listener)
    if (resync !== undefined) this.#resyncs.add(resync)
    return () => {
      this.#listeners.delete(listener)
      if (resync !== undefined) this.#resyncs.delete(resync)
    }
  }

  #subscribe(): void {
    if (this.#unsubscribe !== null) return
    this.#unsubscribe = this.connection.listen(
      this.channel,
      (notice) => this.#dispatch(notice),
      (reconnected) => {
        for (const r of this.#resyncs) r(reconnected)
      },
    )
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

  flush(): Promise<number> {
    let n = 0
    const run = this.connection.scan(`${this.#base}*`, async (keys, del) => {
      n += await del(keys)
      return undefined
    })
    return bounded(
      run.then(() => n),
      ADMIN_DEADLINE_MS,
    )
  }

  stats(): Promise<{ entries: number; bytes: number }> {
    let entries = 0
    let bytes = 0
    let seen = 0
    const run = this.connection.scan(`${this.#base}*`, async (keys) => {
      const data = keys.filter((k) => !k.endsWith(':lock') && !k.endsWith(':wait'))
      const lengths = await Promise.all(
        data.map((k) =>
          this.connection.call<number>('strlen', [k], { deadlineMs: ADMIN_DEADLINE_MS, background: true }),
        ),
      )
      for (const l of lengths) {
        if (l === 0) continue
        entries++
        bytes += l
      }
      seen += keys.length
      return seen < STATS_SCAN_LIMIT
    })
    return bounded(
      run.then(() => ({ entries, bytes })),
      ADMIN_DEADLINE_MS,
    )
  }

  /** Stops listening and ends the waits (the connection belongs to the node). */
  async close(): Promise<void> {
    const off = this.#unsubscribe
    this.#unsubscribe = null
    for (const set of this.#waiters.values()) for (const finish of [...set]) finish('timeout')
    off?.()
  }
}

/** A bound on a whole walk of the key space (many calls), for status pages and purges. */
function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis scan did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}
