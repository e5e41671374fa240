import type { Cluster, Redis } from 'ioredis'
import { connectTarget, type RedisTarget } from './connect.js'

type Handler = (message: string) => void

/**
 * The node's one subscriber connection to a Redis, shared by every feature listening on it
 * (config changes, registry changes, revocations, cache notices, freed queue slots). Opened on
 * the first `add`. It queues SUBSCRIBE while disconnected and ioredis subscribes again after a
 * reconnect; the features' `resync` runs after every (re)connection, since messages published
 * while it was away are lost.
 *
 * On Cluster it uses sharded pub/sub (`SSUBSCRIBE`): a channel lives on the shard that owns its
 * slot, instead of every message being broadcast to every shard. ioredis keeps one sharded
 * subscriber per master and moves channels when slots move or a replica takes over.
 */
export class Subscriber {
  readonly #client: Redis | Cluster
  readonly #channels = new Map<string, Set<Handler>>()
  readonly #resyncs = new Map<() => void, number>()
  readonly #sharded: boolean

  constructor(target: RedisTarget, mode: RedisTarget['mode']) {
    this.#sharded = mode === 'cluster'
    this.#client = connectTarget(
      target,
      { enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: 'portico-sub' },
      { shardedSubscribers: true, enableOfflineQueue: true },
    )
    this.#client.on('error', () => {})
    const dispatch = (channel: string, message: string): void => {
      const set = this.#channels.get(channel)
      if (set !== undefined) for (const h of set) h(message)
    }
    this.#client.on(this.#sharded ? 'smessage' : 'message', dispatch)
    const resync = (): void => {
      for (const r of this.#resyncs.keys()) r()
    }
    this.#client.on('ready', resync)
    if (this.#sharded) this.#client.on('+subscriber', resync)
  }

  add(channel: string, handler: Handler, resync?: () => void): () => void {
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
          if (!removed && this.#client.status === 'ready') resync()
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

  #command(verb: 'subscribe' | 'unsubscribe', channel: string): Promise<unknown> {
    const c = this.#client as unknown as Record<string, (ch: string) => Promise<unknown>>
    const p = c[this.#sharded ? `s${verb}` : verb]!.call(this.#client, channel)
    p.catch(() => {})
    return p
  }

  async close(): Promise<void> {
    this.#channels.clear()
    this.#resyncs.clear()
    this.#client.disconnect()
  }
}
