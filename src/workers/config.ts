import { CONFIG_TOPICS } from '../control-plane/store/workers.js'
import type { PrimaryHub } from '../core/peers.js'
import { SYNC_TOPICS } from './topics.js'

/** What one worker last reported: the stored version it runs and its runtime. */
export interface WorkerState {
  slot: number
  pid: number
  /** the stored document's version (memory: the primary's; redis: Redis's) */
  version: number
  /** the runtime's generation and hash (the applied document, registry entities included) */
  generation: number
  hash: string
}

interface StoredConfig {
  version: number
  hash: string
  doc: unknown
  validator?: string | undefined
}

interface Waiter {
  version: number
  done(missing: string[]): void
  timer: NodeJS.Timeout
}

/**
 * The primary's half of "one config per node": the stored document of the memory store
 * (compare-and-set, as Redis does it), and what each worker runs. A write answers only when
 * every live worker runs its version (`settle`), within `settleMs`; a worker that dies while
 * it is waited for is no longer waited for (its replacement loads the stored document first).
 */
export class NodeConfig {
  #stored: StoredConfig | null = null
  readonly states = new Map<number, WorkerState>()
  #waiters: Waiter[] = []

  constructor(
    readonly hub: PrimaryHub,
    /** worker ids (one per process) alive now, with their slots */
    readonly live: () => Map<number, number>,
    readonly settleMs: number,
  ) {
    hub.handle(CONFIG_TOPICS.load, () => this.#stored)
    hub.handle(CONFIG_TOPICS.head, () => ({
      version: this.#stored?.version ?? 0,
      hash: this.#stored?.hash ?? '',
    }))
    hub.handle(CONFIG_TOPICS.commit, (body, from) =>
      this.#commit(body as StoredConfig & { expected: number }, from),
    )
    hub.handle(SYNC_TOPICS.adopted, (body, from) => {
      const b = body as { version: number }
      const s = this.#state(from)
      s.version = Math.max(s.version, b.version)
      this.#check()
    })
    hub.handle(SYNC_TOPICS.runtime, (body, from) => {
      const b = body as { generation: number; hash: string }
      const s = this.#state(from)
      s.generation = b.generation
      s.hash = b.hash
    })
    hub.handle(SYNC_TOPICS.settle, (body) => this.#settle((body as { version: number }).version))
  }

  #state(id: number): WorkerState {
    let s = this.states.get(id)
    if (s === undefined) {
      s = { slot: this.live().get(id) ?? 0, pid: 0, version: 0, generation: 0, hash: '' }
      this.states.set(id, s)
    }
    return s
  }

  #commit(b: StoredConfig & { expected: number }, from: number): number | null {
    const current = this.#stored?.version ?? 0
    if (current !== b.expected) return null
    const version = current + 1
    this.#stored = { version, hash: b.hash, doc: b.doc, validator: b.validator }
    this.hub.broadcast(CONFIG_TOPICS.changed, { version, hash: b.hash }, from)
    return version
  }

  /** The workers (slots) that do not run `version` yet; empty when every live one does. */
  #missing(version: number): string[] {
    const out: string[] = []
    for (const [id, slot] of this.live()) {
      if ((this.states.get(id)?.version ?? 0) < version)
        out.push(`${slot} (pid ${this.states.get(id)?.pid ?? '?'})`)
    }
    return out
  }

  #settle(version: number): Promise<string[]> | string[] {
    if (this.#missing(version).length === 0) return []
    return new Promise((resolve) => {
      const w: Waiter = {
        version,
        done: resolve,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w)
          resolve(this.#missing(version))
        }, this.settleMs),
      }
      this.#waiters.push(w)
    })
  }

  /** A report came in or a worker left: release every waiter whose version every live worker runs. */
  #check(): void {
    if (this.#waiters.length === 0) return
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#missing(w.version).length > 0) return true
      clearTimeout(w.timer)
      w.done([])
      return false
    })
  }

  /** A worker process is gone. */
  exited(id: number): void {
    this.states.delete(id)
    this.#check()
  }

  /** Records the pid of a new worker (for the missing list and `/healthz`). */
  started(id: number, pid: number): void {
    this.#state(id).pid = pid
  }
}
