import type { RequestContext } from '../../core/context.js'
import type { NodePeers } from '../../core/peers.js'
import type { AccessResult, PluginEnv, PluginInstance } from '../../core/plugin.js'
import { type Algorithm, FIXED, type Limit } from './algorithms.js'
import { REFUND, TAKE, type TakeAnswer, type TakeAsk } from './node-primary.js'
import type { Config } from './schema.js'

/** What this worker holds of one key's quota (fixed window). */
interface Lease {
  /** requests this worker may still admit */
  left: number
  /** the quota is void from then on (the end of the shortest window it was taken in) */
  until: number
  /** when the primary measured `out` */
  at: number
  /** the primary's verdict for the last request of the block */
  out: number[]
  refused: boolean
}

/** Requests asked for at once; the primary gives fewer near the limit (node-primary.ts). */
const WANT = 64

/**
 * The local policy on a node with workers: the node's counters live in the primary
 * (node-primary.ts); this worker admits from blocks of quota it took there, synchronously and
 * without a message while its block lasts (fixed window). A key's refusal is kept until the
 * refusing window resets, so refusals cost no message either. Requests arriving while a block
 * is asked for wait for that one answer (one question per key at a time).
 */
export class NodeCounters {
  readonly #leases = new Map<string, Lease>()
  readonly #pending = new Map<string, Promise<void>>()
  #base: Omit<TakeAsk, 'key' | 'want'>

  constructor(
    readonly peers: NodePeers,
    table: string,
    readonly algo: Algorithm,
    limits: Limit[],
    readonly maxKeys: number,
  ) {
    this.#base = { table, algo, limits, maxKeys }
  }

  /** A reload may change the numbers (not the layout): the next questions carry the new ones. */
  setLimits(limits: Limit[]): void {
    this.#base = { ...this.#base, limits }
  }

  /**
   * true: admitted; false: refused; `out` filled as `consume` fills it. When it had to ask, a
   * promise of a verdict of its own (`out` is shared by the instance's synchronous calls).
   */
  consume(key: string, now: number, out: Float64Array): boolean | Promise<Float64Array> {
    const own = () => new Float64Array(out.length)
    if (this.algo !== FIXED) return this.#one(key, own())
    const verdict = this.#fromLease(key, now, out)
    return verdict ?? this.#afterTake(key, own())
  }

  /** Gives back one admitted request (a later instance on the route refused it). */
  refund(key: string): void {
    const l = this.#leases.get(key)
    if (this.algo === FIXED) {
      if (l !== undefined && !l.refused && Date.now() < l.until) l.left++
      return
    }
    this.peers.tell(REFUND, { ...this.#base, key })
  }

  #fromLease(key: string, now: number, out: Float64Array): boolean | undefined {
    const l = this.#leases.get(key)
    if (l === undefined || now >= l.until) return undefined
    const elapsed = now - l.at
    if (l.left > 0) {
      l.left--
      out[0] = 0
      out[1] = 0
      for (let i = 2; i < out.length; i += 2) {
        out[i] = l.out[i]! + l.left
        out[i + 1] = Math.max(0, l.out[i + 1]! - elapsed)
      }
      return true
    }
    if (!l.refused) return undefined
    out[0] = l.out[0]!
    out[1] = Math.max(1, l.out[1]! - elapsed)
    for (let i = 2; i < out.length; i += 2) {
      out[i] = l.out[i]!
      out[i + 1] = Math.max(0, l.out[i + 1]! - elapsed)
    }
    return false
  }

  /** Waits for a block (one question per key at a time), then admits from it or asks again. */
  async #afterTake(key: string, out: Float64Array): Promise<Float64Array> {
    for (;;) {
      await this.#take(key)
      if (this.#fromLease(key, Date.now(), out) !== undefined) return out
      // the requests that waited with this one took the whole block: ask for the next
    }
  }

  #take(key: string): Promise<void> {
    let p = this.#pending.get(key)
    if (p !== undefined) return p
    p = this.peers
      .ask<TakeAnswer>(TAKE, { ...this.#base, key, want: WANT })
      .then((a) => {
        if (!this.#leases.has(key) && this.#leases.size >= this.maxKeys) {
          // at the cap: forget the oldest key's block (quota given up, never quota invented)
          const oldest = this.#leases.keys().next().value
          if (oldest !== undefined) this.#leases.delete(oldest)
        }
        this.#leases.set(key, {
          left: a.granted,
          until: a.until,
          at: a.at,
          out: a.out,
          refused: a.granted === 0,
        })
      })
      .finally(() => this.#pending.delete(key))
    this.#pending.set(key, p)
    return p
  }

  /** Sliding window and token bucket: one request, recorded by the primary when it arrives. */
  async #one(key: string, out: Float64Array): Promise<Float64Array> {
    const a = await this.peers.ask<TakeAnswer>(TAKE, { ...this.#base, key, want: 1 })
    out.set(a.out)
    return out
  }
}

/** What the instance compiled (plugin.ts), as the node-wide local policy needs it. */
export interface NodeLimitParts {
  config: Config
  env: PluginEnv
  algo: Algorithm
  limits: Limit[]
  identify: (ctx: RequestContext) => string
  composed: boolean
  decide: (ctx: RequestContext, v: ArrayLike<number>, undo: (() => void) | null) => AccessResult
  storeFailed: () => AccessResult
}

/**
 * The local policy's instance on a worker: the same verdicts and headers as a single process,
 * counted for the node. Synchronous while this worker holds quota or a refusal for the key.
 */
export function nodeLimitInstance(peers: NodePeers, c: NodeLimitParts, layout: string): PluginInstance {
  const { config, env, algo, limits, identify, composed, decide, storeFailed } = c
  const counters = c.env.services.shared(
    `${env.id}:rate-limiting:node:${layout}`,
    () => new NodeCounters(peers, `${env.id}:${layout}`, algo, limits, config.local_max_keys),
  )
  counters.setLimits(limits)
  const out = new Float64Array(2 + 2 * limits.length)
  const verdict = (ctx: RequestContext, key: string, v: Float64Array): AccessResult =>
    decide(ctx, v, v[0] === 0 && composed ? () => counters.refund(key) : null)
  return {
    // synchronous while this worker holds quota (or a refusal) for the key
    access(ctx) {
      const key = identify(ctx)
      const ok = counters.consume(key, Date.now(), out)
      if (typeof ok === 'boolean') return verdict(ctx, key, out)
      return ok.then(
        (v) => verdict(ctx, key, v),
        () => storeFailed(),
      )
    },
  }
}
