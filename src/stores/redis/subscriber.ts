import type { Cluster, Redis } from 'ioredis'
import { connectTarget, type RedisTarget, reconnectOnEnd } from './connect.js'

type Handler = (message: string) => void

/**
 * Runs after the subscriber (re)connected and its channels are subscribed again; `reconnected`
 * is false for a listener's first subscription (nothing can have been missed before it).
 */
export type Resync = (reconnected: boolean) => void

/**
 * The node's one subscriber connection to a Redis, shared by every feature listening on it
 * (config changes, registry changes, revocations, cache notices, freed queue slots). Opened on
 * the first `add`; SUBSCRIBE is queued while disconnected.
 *
 * Messages published while it is away (a restart, a failover: the connection moves to the new
 * master) are lost, so every feature's `resync` runs after each reconnection to read what it
 * missed. On one server or Sentinel the channels are subscribed again here, not by ioredis's
 * auto-resubscribe, and `resync` runs only once Redis has confirmed that SUBSCRIBE: a catch-up
 * read made earlier (on 'ready', before the SUBSCRIBE reached the server) would leave a window
 * in which a message is neither read nor received.
 *
 * On Cluster it uses sharded pub/sub (`SSUBSCRIBE`): a channel lives on the shard that owns its
 * slot, instead of every message being broadcast to every shard. ioredis keeps one sharded
 * subscriber per master and moves channels when slots move or a replica takes over; `resync`
 * runs on each new shard subscriber.
 */
export class Subscriber {
  readonly #client: Redis | Cluster
  readonly #channels = new Map<string, Set<Handler>>()
  readonly #resyncs = new Map<Resync, number>()
  readonly #sharded: boolean
  /** set once the first connection was ready: every later 'ready' is a reconnection */
  #connected = false
  #closing = false

  constructor(target: RedisTarget, mode: RedisTarget['mode']) {
    this.#sharded = mode === 'cluster'
    this.#client = connectTarget(
      target,
      {
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        connectionName: 'portico-sub',
        // one server or Sentinel: resubscribed below, so the features' resync can wait for the
        // confirmation; Cluster's sharded subscribers resubscribe on their own
        autoResubscribe: this.#sharded,
      },
      { shardedSubscribers: true, enableOfflineQueue: true },
    )
    this.#client.on('error', () => {})
    reconnectOnEnd(this.#client, () => this.#closing)
    const dispatch = (channel: string, message: string): void => {
      const set = this.#channels.get(channel)
      if (set !== undefined) for (const h of set) h(message)
    }
    this.#client.on(this.#sharded ? 'smessage' : 'message', dispatch)
    const resync = (reconnected: boolean): void => {
      for (const r of this.#resyncs.keys()) r(reconnected)
    }
    if (this.#sharded) {
      this.#client.on('ready', () => resync(this.#connected))
      this.#client.on('+subscriber', () => resync(true))
      this.#client.once('ready', () => {
        this.#connected = true
      })
    } else {
      this.#client.on('ready', () => {
        const first = !this.#connected
        this.#connected = true
        // the first connection sends the SUBSCRIBEs `add` queued; each `add` resyncs its own
        if (first || this.#channels.size === 0) return
        this.#command('subscribe', ...this.#channels.keys()).then(
          () => resync(true),
          () => {}, // dropped again: the next 'ready' subscribes and resyncs
        )
      })
    }
  }

  add(channel: string, handler: Handler, resync?: Resync): () => void {
    let set = this.#channels.get(channel)
    let subscribed: Promise<unknown> = Promise.resolve()
    if (set === undefined) {
      this.#channels.set(channel, (set = new Set()))
      subscribed = this.#command('subscribe', channel)
    }
    set.add(handler)
    let removed = false
    if (resync !== undefined) {
      this.#resyncs.set(resync, (this.#resyncs.get(resync) ?? 0) + 1)
      // a connection that is already up fires no 'ready' for a late listener: once subscribed,
      // it catches up like after a reconnection
      subscribed.then(
        () => {
          if (!removed && this.#client.status === 'ready') resync(false)
        },
        () => {},
      )
    }
    return () => {
      if (removed) return
      removed = true
      set.delete(handler)
      if (set.size === 0 && this.#channels.get(channel) === set) {
        this.#channels.delete(channel)
        this.#command('unsubscribe', channel)
      }
      if (resync !== undefined) {
        const n = (this.#resyncs.get(resync) ?? 1) - 1
        if (n === 0) this.#resyncs.delete(resync)
        else this.#resyncs.set(resync, n)
      }
    }
  }

  #command(verb: 'subscribe' | 'unsubscribe', ...channels: string[]): Promise<unknown> {
    const c = this.#client as unknown as Record<string, (...ch: string[]) => Promise<unknown>>
    const p = c[this.#sharded ? `s${verb}` : verb]!.call(this.#client, ...channels)
    p.catch(() => {})
    return p
  }

  async close(): Promise<void> {
    this.#closing = true
    this.#channels.clear()
    this.#resyncs.clear()
    this.#client.disconnect()
  }
}
