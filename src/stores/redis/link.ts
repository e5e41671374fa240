import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { Logger } from '../../core/logger.js'
import type {
  RedisArg,
  RedisBreakerState,
  RedisCallback,
  RedisCallOptions,
  RedisConnection,
  RedisScript,
} from '../../core/services.js'
import { Breaker } from './breaker.js'
import { writeCoalescer } from './coalesce.js'
import { connectTarget, describeTarget, type RedisTarget, reconnectOnEnd } from './connect.js'
import { DeadlineQueue, type Pending } from './deadline.js'
import { type Resync, Subscriber } from './subscriber.js'

type Client = Redis | Cluster
type Raw = (err: Error | null, res: unknown) => void

/** A Redis call that outlived its deadline (DESIGN §2.7). */
export class RedisDeadlineError extends Error {
  readonly code = 'PORTICO_REDIS_DEADLINE'
  constructor(ms: number) {
    super(`redis did not answer within ${ms} ms`)
  }
}

/** A call refused without being sent: the connection is down or its breaker is open. */
export class RedisUnavailableError extends Error {
  readonly code = 'PORTICO_REDIS_UNAVAILABLE'
}

const NOT_CONNECTED = new RedisUnavailableError('redis is not connected')
const BREAKER_OPEN = new RedisUnavailableError('redis breaker is open')

const settled: RedisCallback<unknown> = () => {}

/**
 * One call racing its deadline: whichever of the reply or the sweep comes first wins. A call
 * stays in its deadline queue until the sweep passes its deadline; its callbacks (which hold
 * the request that made it) are let go as soon as they can no longer run, so an answered
 * request is not kept, and promoted to the old generation, for the rest of its deadline.
 */
class Call implements Pending {
  done = false
  constructor(
    readonly at: number,
    readonly link: RedisLink,
    readonly ms: number,
    private done_: RedisCallback<unknown>,
    private late: ((res: unknown) => void) | undefined,
  ) {}

  expire(): void {
    this.link.breakerOf.open(`redis did not answer within ${this.ms} ms`)
    this.link.timeouts++
    const done = this.done_
    this.done_ = settled
    done(new RedisDeadlineError(this.ms), undefined)
  }

  readonly settle: Raw = (err, res) => {
    if (this.done) {
      const late = this.late
      this.late = undefined
      if (err === null && late !== undefined) late(res)
      return
    }
    this.done = true
    if (err === null) this.link.breakerOf.succeeded()
    else if (err.name === 'ReplyError') {
      // an error reply (NOSCRIPT, NOPERM, a script error) is an answer: Redis is up, and skipping
      // it would not help; NOSCRIPT is not even a failure (the script is sent again)
      this.link.breakerOf.succeeded()
      if (!err.message.startsWith('NOSCRIPT')) this.link.errors++
    } else {
      this.link.breakerOf.open(err.message)
      this.link.errors++
    }
    const done = this.done_
    this.done_ = settled
    this.late = undefined
    done(err, res)
  }
}

/**
 * The stores layer's {@link RedisConnection}: one ioredis client (a server, a Sentinel group or
 * a Cluster) and, on first use, one subscriber connection, shared by every feature of the node
 * that points at the same Redis. Every call goes through {@link RedisLink.send}: the breaker,
 * the write coalescer and one {@link DeadlineQueue} per deadline (one timer for all calls of
 * that budget instead of a timer per call).
 */
export class RedisLink implements RedisConnection {
  readonly client: Client
  readonly mode: RedisTarget['mode']
  readonly name: string
  readonly breakerOf: Breaker
  /** calls that missed their deadline / failed (metrics) */
  timeouts = 0
  errors = 0
  readonly #coalesce: () => void
  readonly #queues = new Map<number, DeadlineQueue>()
  readonly #scripts = new Map<string, LinkScript<unknown>>()
  #subscriber: Subscriber | null = null
  /** features' resyncs waiting for this connection to be ready (see {@link listen}) */
  readonly #pendingResyncs = new Map<Resync, boolean>()
  #closing = false

  constructor(
    readonly target: RedisTarget,
    readonly deadlineMs: number,
    readonly log: Logger,
  ) {
    this.mode = target.mode
    this.name = describeTarget(target)
    this.client = connectTarget(target)
    // state is read from `status`; errors surface per call
    this.client.on('error', () => {})
    reconnectOnEnd(this.client, () => this.#closing)
    this.client.on('ready', () => {
      const due = [...this.#pendingResyncs]
      this.#pendingResyncs.clear()
      for (const [resync, reconnected] of due) resync(reconnected)
    })
    this.breakerOf = new Breaker(this.name, log)
    this.#coalesce = writeCoalescer(this.client)
  }

  get ready(): boolean {
    return this.client.status === 'ready'
  }

  get status(): string {
    return this.client.status
  }

  get breaker(): RedisBreakerState {
    return this.breakerOf.state
  }

  available(): boolean {
    if (this.client.status !== 'ready') {
      this.breakerOf.markFailing('Redis is not connected')
      return false
    }
    return this.breakerOf.wouldAllow(performance.now())
  }

  whenReady(ms: number): Promise<void> {
    const c = this.client
    if (c.status !== 'connecting' && c.status !== 'connect' && c.status !== 'wait') return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        c.off('ready', done)
        c.off('end', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      c.once('ready', done)
      c.once('end', done)
    })
  }

  /**
   * Sends `command argv…` unless the connection is down or (request path) the breaker is open,
   * and races the reply against the deadline. `done` runs exactly once.
   */
  send(
    command: string,
    argv: readonly RedisArg[],
    done: RedisCallback<unknown>,
    options: RedisCallOptions | undefined,
    late?: (res: unknown) => void,
    buffer = false,
  ): void {
    if (this.client.status !== 'ready') {
      this.breakerOf.markFailing('Redis is not connected')
      this.errors++
      return done(NOT_CONNECTED, undefined)
    }
    if (options?.background !== true && !this.breakerOf.allow(performance.now())) {
      this.errors++
      return done(BREAKER_OPEN, undefined)
    }
    const ms = options?.deadlineMs ?? this.deadlineMs
    const call = new Call(performance.now() + ms, this, ms, done, late)
    let q = this.#queues.get(ms)
    if (q === undefined) this.#queues.set(ms, (q = new DeadlineQueue()))
    q.add(call)
    this.#coalesce()
    const c = this.client as unknown as Record<string, (...a: unknown[]) => unknown>
    c[buffer ? 'callBuffer' : 'call']!.call(this.client, command, ...argv, call.settle)
  }

  call<R>(command: string, argv: readonly RedisArg[], options?: RedisCallOptions): Promise<R> {
    return new Promise((resolve, reject) =>
      this.send(command, argv, (err, res) => (err === null ? resolve(res as R) : reject(err)), options),
    )
  }

  getBuffer(key: string, options?: RedisCallOptions): Promise<Buffer | null> {
    return new Promise((resolve, reject) =>
      this.send(
        'get',
        [key],
        (err, res) => (err === null ? resolve(res as Buffer | null) : reject(err)),
        options,
        undefined,
        true,
      ),
    )
  }

  script<R>(name: string, lua: string, numberOfKeys: number): RedisScript<R> {
    let s = this.#scripts.get(name)
    if (s === undefined) this.#scripts.set(name, (s = new LinkScript(this, name, lua, numberOfKeys)))
    else if (s.lua !== lua) throw new Error(`redis script '${name}' is already defined with another body`)
    return s as LinkScript<R>
  }

  listen(channel: string, handler: (message: string) => void, resync?: Resync): () => void {
    this.#subscriber ??= new Subscriber(this.target, this.mode)
    if (resync === undefined) return this.#subscriber.add(channel, handler)
    // a feature catches up with calls on this connection, which may come back after the
    // subscriber did (after a failover both reconnect on their own schedule): run it once both are
    const run: Resync = (reconnected) => {
      if (this.client.status === 'ready') return resync(reconnected)
      this.#pendingResyncs.set(resync, (this.#pendingResyncs.get(resync) ?? false) || reconnected)
    }
    const off = this.#subscriber.add(channel, handler, run)
    return () => {
      this.#pendingResyncs.delete(resync)
      off()
    }
  }

  publish(channel: string, message: string, options?: RedisCallOptions): Promise<void> {
    // sharded pub/sub on Cluster: the message goes to the shard owning the channel's slot only
    return this.call<number>(this.mode === 'cluster' ? 'spublish' : 'publish', [channel, message], {
      background: true,
      ...options,
    }).then(() => undefined)
  }

  async scan(
    match: string,
    each: (keys: string[], del: (keys: string[]) => Promise<number>) => Promise<boolean | undefined>,
  ): Promise<void> {
    const c = this.client
    const nodes: Redis[] = 'nodes' in c && typeof c.nodes === 'function' ? c.nodes('master') : [c as Redis]
    for (const node of nodes) {
      // UNLINK per key: in Cluster mode one call may only touch one slot
      const del = async (keys: string[]): Promise<number> =>
        (await Promise.all(keys.map((k) => node.unlink(k)))).reduce((a, b) => a + b, 0)
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 500)
        cursor = next
        if (keys.length > 0 && (await each(keys, del)) === false) return
      } while (cursor !== '0')
    }
  }

  /** PING with a bound (scrapes, /healthz). */
  ping(ms: number): Promise<unknown> {
    return this.call('ping', [], { deadlineMs: ms, background: true })
  }

  async close(): Promise<void> {
    this.#closing = true
    for (const q of this.#queues.values()) q.clear()
    const sub = this.#subscriber
    this.#subscriber = null
    await Promise.all([
      sub?.close(),
      this.client.quit().then(
        () => this.client.disconnect(),
        () => this.client.disconnect(),
      ),
    ])
  }
}

/** A script on one link: SHA computed once, `EVALSHA`, then `EVAL` (which also loads it) on NOSCRIPT. */
class LinkScript<R> implements RedisScript<R> {
  readonly sha: string

  constructor(
    readonly link: RedisLink,
    readonly name: string,
    readonly lua: string,
    readonly numberOfKeys: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex')
  }

  send(
    argv: readonly RedisArg[],
    options: RedisCallOptions | undefined,
    done: RedisCallback<R>,
    late?: (res: R) => void,
  ): void {
    this.#send(argv, done, options, late)
  }

  run(argv: readonly RedisArg[], options?: RedisCallOptions): Promise<R> {
    return new Promise((resolve, reject) =>
      this.#send(argv, (err, res) => (err === null ? resolve(res as R) : reject(err)), options, undefined),
    )
  }

  #send(
    argv: readonly RedisArg[],
    done: RedisCallback<R>,
    options: RedisCallOptions | undefined,
    late: ((res: R) => void) | undefined,
  ): void {
    const onReply: RedisCallback<unknown> = (err, res) => {
      // a server that never saw the script (restarted, failed over, a new Cluster master): EVAL loads it
      if (err?.message.startsWith('NOSCRIPT')) {
        this.link.send(
          'eval',
          [this.lua, this.numberOfKeys, ...argv],
          done as RedisCallback<unknown>,
          options,
        )
        return
      }
      done(err, res as R | undefined)
    }
    this.link.send(
      'evalsha',
      [this.sha, this.numberOfKeys, ...argv],
      onReply,
      options,
      late as ((res: unknown) => void) | undefined,
    )
  }
}
