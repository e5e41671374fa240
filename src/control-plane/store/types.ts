import type { ConfigDocument } from '../../core/entities.js'

/** The version a store holds: a counter bumped by every write, and the document's hash. */
export interface StoreHead {
  /** 0 for an empty store */
  version: number
  /** `configHash` of the stored document ('' for an empty store) */
  hash: string
}

export interface StoredConfig extends StoreHead {
  /** the flat document as JSON data; validated by the reader before use */
  doc: unknown
  /**
   * who validated it: the writer's version and plugin set. A reader with the same one may use
   * the document as is (validation would give it back unchanged); any other reader validates.
   */
  validator?: string | undefined
}

/**
 * Where the entities live (`PORTICO_CONFIG_STORE`). Writes are compare-and-set on the version,
 * so two writers can never interleave: the second one sees a newer version, reloads and
 * re-applies its change on top, or gives up.
 */
export interface ConfigStore {
  /** memory: this process only; redis: every node; workers: the node's primary (see store/workers.ts) */
  readonly kind: 'memory' | 'redis' | 'workers'
  /** false while the store cannot be reached (the node keeps serving what it has) */
  readonly reachable: boolean
  head(): Promise<StoreHead>
  /** null when the store holds nothing yet */
  load(): Promise<StoredConfig | null>
  /** stores `doc` if the version is still `expected`: the new version, or null when it moved */
  commit(expected: number, doc: ConfigDocument, hash: string): Promise<number | null>
  /** calls `listener` for every version announced by any node, and when a lost connection is back */
  watch(listener: (head: StoreHead | null) => void): void
  /** waits (at most `ms`) for the store's first connection (shared stores) */
  ready?(ms: number): Promise<void>
  close(): Promise<void>
}
