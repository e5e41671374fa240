import type { PeerHandler } from '../core/peers.js'

/**
 * One IPC message between a worker and the primary. `ask` expects an `answer` with the same
 * id; `tell` expects nothing. Tagged so that messages node:cluster itself sends are ignored.
 */
export type PeerMessage =
  | { portico: 1; kind: 'ask'; id: number; topic: string; body: unknown }
  | { portico: 1; kind: 'tell'; topic: string; body: unknown }
  | { portico: 1; kind: 'answer'; id: number; body?: unknown; error?: string }

export const isPeerMessage = (m: unknown): m is PeerMessage =>
  typeof m === 'object' && m !== null && (m as { portico?: unknown }).portico === 1

/** The error an ask gets when the other end has no handler for its topic. */
export const NOTHING_HANDLES = 'nothing handles'

interface Pending {
  resolve(v: unknown): void
  reject(e: Error): void
  timer: NodeJS.Timeout
}

/**
 * Questions and notices over one IPC link (a worker's to the primary, or the primary's to one
 * worker): the same class on both ends. Questions time out, so a worker that dies or hangs never
 * leaves its asker waiting for ever.
 */
export class Channel {
  #next = 0
  readonly #pending = new Map<number, Pending>()
  readonly #handlers = new Map<string, Set<PeerHandler>>()
  /** questions and notices received, by topic (the primary reports them on `/metrics`) */
  readonly received = new Map<string, number>()

  constructor(
    readonly send: (m: PeerMessage) => void,
    /** the other end's slot, passed to handlers as `from` (0: the primary) */
    readonly peer: number,
  ) {}

  ask<R>(topic: string, body: unknown, timeoutMs = 5000): Promise<R> {
    const id = ++this.#next
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`no answer to ${topic} within ${timeoutMs} ms`))
      }, timeoutMs)
      timer.unref()
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      try {
        this.send({ portico: 1, kind: 'ask', id, topic, body })
      } catch (err) {
        clearTimeout(timer)
        this.#pending.delete(id)
        reject(err as Error)
      }
    })
  }

  tell(topic: string, body: unknown): void {
    try {
      this.send({ portico: 1, kind: 'tell', topic, body })
    } catch {
      // the other end is gone: a notice to a dead process has nobody to reach
    }
  }

  on(topic: string, handler: PeerHandler): () => void {
    let set = this.#handlers.get(topic)
    if (set === undefined) this.#handlers.set(topic, (set = new Set()))
    set.add(handler)
    return () => set.delete(handler)
  }

  /** Feeds one message received from the other end. */
  receive(m: PeerMessage): void {
    if (m.kind === 'answer') {
      const p = this.#pending.get(m.id)
      if (p === undefined) return
      this.#pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.error !== undefined) p.reject(new Error(m.error))
      else p.resolve(m.body)
      return
    }
    this.received.set(m.topic, (this.received.get(m.topic) ?? 0) + 1)
    const handlers = this.#handlers.get(m.topic)
    if (m.kind === 'tell') {
      for (const h of handlers ?? []) h(m.body, this.peer)
      return
    }
    const id = m.id
    const first = handlers?.values().next().value
    if (first === undefined) {
      this.#answer(id, undefined, `${NOTHING_HANDLES} ${m.topic}`)
      return
    }
    Promise.resolve()
      .then(() => first(m.body, this.peer))
      .then(
        (body) => this.#answer(id, body, undefined),
        (err: unknown) => this.#answer(id, undefined, (err as Error).message ?? String(err)),
      )
  }

  #answer(id: number, body: unknown, error: string | undefined): void {
    try {
      this.send(
        error === undefined
          ? { portico: 1, kind: 'answer', id, body }
          : { portico: 1, kind: 'answer', id, error },
      )
    } catch {
      // the asker is gone
    }
  }

  /** The other end is gone: every question waiting for it fails now. */
  close(reason: string): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer)
      p.reject(new Error(reason))
      this.#pending.delete(id)
    }
  }
}
