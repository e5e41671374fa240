import type { ConfigDocument } from '../../core/entities.js'
import type { NodePeers } from '../../core/peers.js'
import { Listeners } from '../listeners.js'
import type { ConfigStore, StoredConfig, StoreHead } from './types.js'

/** Topics of the node's stored configuration, answered by the primary (`workers/config.ts`). */
export const CONFIG_TOPICS = {
  load: 'config.load',
  head: 'config.head',
  commit: 'config.commit',
  changed: 'config.changed',
} as const

/**
 * The memory store of a node with workers (`PORTICO_CONFIG_STORE=memory`, `--workers` > 1): the
 * document lives in the primary process, one per node, and every worker reads and writes it
 * there with the same compare-and-set as the Redis store; a write is announced to the other
 * workers, which adopt it as they adopt a Redis announcement. The control plane treats it as a
 * shared store (`kind` 'workers'); only changes travel, never requests.
 *
 * @example
 *   const store = new WorkerConfigStore(peers, validator)
 *   await store.commit(0, doc, configHash(doc)) // → 1, and the other workers hear of it
 */
export class WorkerConfigStore implements ConfigStore {
  readonly kind = 'workers'
  readonly reachable = true
  readonly #listeners = new Listeners<[StoreHead | null]>()
  readonly #off: () => void

  constructor(
    readonly peers: NodePeers,
    readonly validator: string,
  ) {
    this.#off = peers.on(CONFIG_TOPICS.changed, (head) => this.#listeners.emit(head as StoreHead))
  }

  async ready(): Promise<void> {}

  head(): Promise<StoreHead> {
    return this.peers.ask<StoreHead>(CONFIG_TOPICS.head, null)
  }

  load(): Promise<StoredConfig | null> {
    return this.peers.ask<StoredConfig | null>(CONFIG_TOPICS.load, null)
  }

  commit(expected: number, doc: ConfigDocument, hash: string): Promise<number | null> {
    return this.peers.ask<number | null>(CONFIG_TOPICS.commit, {
      expected,
      doc,
      hash,
      validator: this.validator,
    })
  }

  watch(listener: (head: StoreHead | null) => void): void {
    this.#listeners.add(listener)
  }

  async close(): Promise<void> {
    this.#listeners.clear()
    this.#off()
  }
}
