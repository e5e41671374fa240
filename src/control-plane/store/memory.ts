import type { ConfigDocument } from '../../core/entities.js'
import type { ConfigStore, StoredConfig, StoreHead } from './types.js'

/**
 * The in-process store (`PORTICO_CONFIG_STORE=memory`, the default): this node's entities, held
 * by this node only. Compare-and-set still applies, so the control plane's write path is the
 * same in both modes.
 *
 * @example
 *   const store = new MemoryConfigStore()
 *   await store.commit(0, doc, configHash(doc)) // → 1
 */
export class MemoryConfigStore implements ConfigStore {
  readonly kind = 'memory'
  readonly reachable = true
  #stored: StoredConfig | null = null

  async head(): Promise<StoreHead> {
    return { version: this.#stored?.version ?? 0, hash: this.#stored?.hash ?? '' }
  }

  async load(): Promise<StoredConfig | null> {
    return this.#stored
  }

  async commit(expected: number, doc: ConfigDocument, hash: string): Promise<number | null> {
    const version = this.#stored?.version ?? 0
    if (version !== expected) return null
    this.#stored = { version: version + 1, hash, doc }
    return version + 1
  }

  watch(): void {
    // nothing else writes an in-process store
  }

  async close(): Promise<void> {}
}
