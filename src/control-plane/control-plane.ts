import { adoptValidated, configHash } from '../config/index.js'
import { type ConfigDocument, emptyDocument } from '../core/entities.js'
import type { Logger } from '../core/logger.js'
import type { PluginRegistry } from '../core/plugin.js'
import type { RedisConnection } from '../core/services.js'
import { ApiError } from './errors.js'
import type { OpResult } from './ops.js'
import { MemoryRegistry } from './registry/memory.js'
import { SharedRegistry } from './registry/redis.js'
import { ServiceRegistry } from './registry/service-registry.js'
import { mergeDocuments, synthesize } from './registry/synthesize.js'
import type { RegistryBackend } from './registry/types.js'
import { MemoryConfigStore } from './store/memory.js'
import { SharedConfigStore } from './store/redis.js'
import type { ConfigStore, StoreHead } from './store/types.js'
import type { UpstreamPolicy } from './upstream-policy.js'
import { type DraftDocument, validateDraft } from './validate.js'

export interface ControlPlaneOptions {
  mode: 'memory' | 'redis'
  /** the node's Redis (from its services), required in redis mode */
  redis: RedisConnection | undefined
  keyPrefix: string
  plugins: PluginRegistry
  policy: UpstreamPolicy
  log: Logger
  /** how often a node compares its version with the store's (redis mode) */
  syncIntervalMs?: number
  /** how long start waits for Redis before serving the declarative file (or nothing) */
  connectWaitMs?: number
  /**
   * this node's version and plugin set: a stored document written by a node with the same one
   * was validated by the same code, so it is used without validating it again
   */
  validator?: string
  /** a node with workers: the store is the primary's (memory mode) and writes wait for every worker */
  workers?: WorkerSync | undefined
}

/**
 * How the control plane of one worker keeps the node's workers on one configuration: each
 * version it runs is reported, and a write answers only once every worker reports it (or a
 * newer one).
 */
export interface WorkerSync {
  /** the primary's store (memory mode), instead of a per-process one */
  store?: ConfigStore | undefined
  /** the primary's service registry (memory mode), instead of a per-process one */
  registry?: RegistryBackend | undefined
  /** this worker now runs the stored `version` (`hash`: the stored document's) */
  adopted(version: number, hash: string): void
  /** waits until every live worker runs `version` or newer; the workers that did not, within the bound */
  settled(version: number): Promise<string[]>
}

/** The config store's state, for `/healthz` and `GET /status`. */
export interface ConfigStoreStatus {
  config: 'memory' | 'redis'
  config_store_status: 'ok' | 'unreachable'
  version: number
  hash: string
  last_sync: string | null
  error?: string
}

const isEmpty = (doc: ConfigDocument) => Object.values(doc).every((list) => list.length === 0)
// compare-and-set retries under contention, with a growing random pause so writers on
// different nodes stop colliding
const MAX_ATTEMPTS = 32
const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)))

/**
 * The control plane of one node: the stored document (memory or Redis), the service registry,
 * and the one path every change takes: serialised, validated whole, committed with
 * compare-and-set, then handed to the data plane through `apply` (main wires it to
 * `node.apply`). In redis mode every node follows the store: announcements on pub/sub, a
 * version check every `syncIntervalMs` for missed ones, and it keeps serving what it has while
 * Redis is away.
 *
 * @example
 *   const cp = ControlPlane.create({ mode: 'redis', redis: services.redis(), keyPrefix: 'portico:', plugins, policy, log })
 *   const first = await cp.start(fileDocumentOrNull)
 *   const gateway = new Gateway(await compile(first), …)
 *   cp.attach((doc, hash) => node.apply(doc, hash))
 */
export class ControlPlane {
  #doc: ConfigDocument = emptyDocument()
  #version = 0
  #hash = configHash(emptyDocument())
  #applied = ''
  #apply: ((doc: ConfigDocument, hash: string, version: number) => Promise<void>) | null = null
  #queue: Promise<unknown> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #lastSync: number | null = null
  /** the last connectivity failure (cleared by the next successful read) */
  #error: string | undefined
  /** why the store's current document is not applied here */
  #refusal: string | undefined
  #failedHash: string | undefined
  #pullQueued = false

  private constructor(
    readonly options: ControlPlaneOptions,
    readonly store: ConfigStore,
    readonly registry: ServiceRegistry,
  ) {}

  static create(options: ControlPlaneOptions): ControlPlane {
    const redis = options.mode === 'redis' ? options.redis : undefined
    if (options.mode === 'redis' && redis === undefined) {
      throw new Error('PORTICO_CONFIG_STORE=redis needs PORTICO_REDIS_URL (or REDIS_URL)')
    }
    const store =
      options.workers?.store ??
      (redis === undefined
        ? new MemoryConfigStore()
        : new SharedConfigStore({ redis, keyPrefix: options.keyPrefix, validator: options.validator }))
    const backend =
      options.workers?.registry ??
      (redis === undefined
        ? new MemoryRegistry()
        : new SharedRegistry({ redis, keyPrefix: options.keyPrefix }))
    const registry = new ServiceRegistry(backend, options.policy, options.log.child({ part: 'registry' }))
    return new ControlPlane(options, store, registry)
  }

  get mode(): 'memory' | 'redis' {
    return this.options.mode
  }

  /** The stored document (without the registry's entities). */
  get document(): ConfigDocument {
    return this.#doc
  }

  get version(): number {
    return this.#version
  }

  get hash(): string {
    return this.#hash
  }

  /**
   * Loads the first document (memory: `initial`; redis: the store's, `initial` imported only
   * into an empty store) and returns what the data plane should start with.
   */
  async start(initial: ConfigDocument | null): Promise<ConfigDocument> {
    const { log } = this.options
    if (this.store.kind !== 'memory') {
      await this.store.ready?.(this.options.connectWaitMs ?? 3000)
      if (initial !== null) this.#setLocal(initial, 0, configHash(initial))
      try {
        await this.#pull(initial)
      } catch (err) {
        this.#error = (err as Error).message
        log.error(
          { err },
          'config store unreachable at start: serving the declarative file (or nothing) until it is back',
        )
      }
      this.store.watch((head) => this.#announced(head))
      this.#timer = setInterval(() => this.#check(), this.options.syncIntervalMs ?? 1000)
      this.#timer.unref()
    } else if (initial !== null) {
      const hash = configHash(initial)
      this.#setLocal(initial, (await this.store.commit(0, initial, hash)) ?? 0, hash)
    }
    this.registry.onChange(() => {
      this.#serial(() => this.#publish(this.#doc, this.#hash)).catch((err: unknown) =>
        log.error({ err }, 'registered services could not be applied'),
      )
    })
    await this.registry.start()
    const effective = this.#effective(this.#doc)
    this.#applied = effective.hash
    return effective.doc
  }

  /**
   * From now on, every change goes to the data plane through `apply` (which may throw to refuse
   * it), with the document's `configHash`, already known here, so it is not computed again.
   */
  attach(apply: (doc: ConfigDocument, hash: string, version: number) => Promise<void>): void {
    this.#apply = apply
    this.#serial(() => this.#publish(this.#doc, this.#hash)).then(
      () => this.#adopted(),
      () => {},
    )
  }

  /**
   * Runs one change: `change` gets the current document and returns the next one (or an error),
   * which is committed and applied; a concurrent write elsewhere makes it run again on the newer
   * document. Writes on one node are serialised.
   */
  write(change: (doc: ConfigDocument) => OpResult): Promise<OpResult> {
    return this.#serial(async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const result = change(this.#doc)
        if (!result.ok) return result
        const hash = configHash(result.doc)
        if (hash === this.#hash) return this.#settled(result)
        const outcome = await this.#commit(result.doc, hash)
        if (outcome === 'moved') {
          await backoff(attempt + 1)
          continue
        }
        return outcome === 'ok' ? this.#settled(result) : { ok: false, error: outcome }
      }
      return { ok: false, error: new ApiError(503, { message: 'the configuration kept changing: retry' }) }
    })
  }

  /** Replaces the whole stored document (`POST /config`, a reloaded declarative file). */
  replace(doc: ConfigDocument): Promise<OpResult> {
    return this.write(() => ({ ok: true, doc }))
  }

  /** Catches up with the store now (SIGHUP in redis mode). */
  sync(): Promise<void> {
    return this.#serial(() => this.#pull(null))
  }

  status(): ConfigStoreStatus {
    const reachable = this.store.reachable
    return {
      config: this.mode,
      config_store_status: reachable ? 'ok' : 'unreachable',
      version: this.#version,
      hash: this.#hash,
      last_sync: this.#lastSync === null ? null : new Date(this.#lastSync).toISOString(),
      ...((this.#refusal ?? this.#error) ? { error: this.#refusal ?? this.#error } : {}),
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.#queue.catch(() => {})
    await Promise.all([this.registry.close(), this.store.close()])
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task)
    this.#queue = run.catch(() => {})
    return run
  }

  /**
   * A node with workers: the write answers once every worker runs it (or a newer version), so
   * no request reaches an older configuration after the answer; past the bound, a 503 names the
   * workers that did not apply it (the write itself is stored).
   */
  async #settled(result: OpResult): Promise<OpResult> {
    const workers = this.options.workers
    if (workers === undefined) return result
    const missing = await workers.settled(this.#version)
    if (missing.length === 0) return result
    return {
      ok: false,
      error: new ApiError(503, {
        message: `the configuration is stored, but worker ${missing.join(', ')} did not apply it in time`,
      }),
    }
  }

  /** Tells the node (workers) that this process now runs the stored version. */
  #adopted(): void {
    // before attach, nothing runs here yet: attach reports once the data plane has it
    if (this.#apply !== null) this.options.workers?.adopted(this.#version, this.#hash)
  }

  #setLocal(doc: ConfigDocument, version: number, hash: string): void {
    this.#doc = doc
    this.#version = version
    this.#hash = hash
  }

  #effective(doc: ConfigDocument, hash?: string): { doc: ConfigDocument; hash: string } {
    if (this.registry.instances.length === 0) return { doc, hash: hash ?? configHash(doc) }
    const { document, skipped } = synthesize(this.registry.instances, doc, this.options.plugins)
    for (const issue of skipped) this.options.log.warn(issue, 'registered service not routed')
    if (document.services.length === 0) return { doc, hash: hash ?? configHash(doc) }
    const merged = mergeDocuments(doc, document)
    return { doc: merged, hash: configHash(merged) }
  }

  /** Hands `doc` (plus the registry's entities) to the data plane unless it runs it already. */
  async #publish(doc: ConfigDocument, hash?: string, version = this.#version): Promise<void> {
    const effective = this.#effective(doc, hash)
    if (effective.hash === this.#applied) return
    // not attached yet: start() hands its document over, and attach publishes the newest one
    if (this.#apply === null) return
    await this.#apply(effective.doc, effective.hash, version)
    this.#applied = effective.hash
  }

  async #commit(doc: ConfigDocument, hash: string): Promise<'ok' | 'moved' | ApiError> {
    const previous = { doc: this.#doc, version: this.#version, hash: this.#hash }
    if (this.store.kind === 'memory') {
      // memory: apply first, so a document the data plane refuses is never stored
      const refused = await this.#tryPublish(doc, hash)
      if (refused !== undefined) return refused
      this.#setLocal(doc, (await this.store.commit(this.#version, doc, hash)) ?? this.#version + 1, hash)
      return 'ok'
    }
    let version: number | null
    try {
      version = await this.store.commit(this.#version, doc, hash)
    } catch (err) {
      return new ApiError(503, {
        message: `the configuration store is unavailable: ${(err as Error).message}`,
      })
    }
    if (version === null) {
      await this.#pull(null).catch(() => {})
      return 'moved'
    }
    this.#setLocal(doc, version, hash)
    const refused = await this.#tryPublish(doc, hash)
    if (refused === undefined) {
      this.#adopted()
      return 'ok'
    }
    // the data plane refused it: put the previous document back for every node
    const back = await this.store.commit(version, previous.doc, previous.hash).catch(() => null)
    if (back !== null) this.#setLocal(previous.doc, back, previous.hash)
    return refused
  }

  async #tryPublish(doc: ConfigDocument, hash: string): Promise<ApiError | undefined> {
    try {
      await this.#publish(doc, hash)
      return undefined
    } catch (err) {
      return new ApiError(400, {
        message: `the configuration could not be applied: ${(err as Error).message}`,
      })
    }
  }

  /** Adopts the store's document; seeds an empty store with `seed` or this node's document. */
  async #pull(seed: ConfigDocument | null): Promise<void> {
    const stored = await this.store.load()
    this.#lastSync = Date.now()
    if (stored === null) {
      const candidate = seed ?? (isEmpty(this.#doc) ? null : this.#doc)
      this.#error = undefined
      if (candidate === null) return
      const hash = configHash(candidate)
      const version = await this.store.commit(0, candidate, hash)
      if (version === null) return this.#pull(null)
      this.options.log.info({ version }, 'config store was empty: imported this node’s configuration')
      this.#setLocal(candidate, version, hash)
      await this.#publish(candidate, hash).then(
        () => this.#adopted(),
        (err: unknown) => this.options.log.error({ err }, 'apply failed'),
      )
      return
    }
    if (stored.hash === this.#hash) {
      this.#version = stored.version
      this.#error = undefined
      this.#adopted()
      return
    }
    if (stored.hash === this.#failedHash) return
    const trusted = this.options.validator !== undefined && stored.validator === this.options.validator
    if (trusted) adoptValidated(stored.doc as ConfigDocument, this.options.plugins)
    const valid = trusted
      ? { ok: true as const, doc: stored.doc as ConfigDocument }
      : validateDraft(stored.doc as DraftDocument, this.options.plugins)
    if (!valid.ok)
      return this.#refuse(
        stored.hash,
        `stored configuration invalid on this node: ${valid.issues[0]?.path}: ${valid.issues[0]?.message}`,
      )
    try {
      await this.#publish(valid.doc, stored.hash, stored.version)
    } catch (err) {
      return this.#refuse(stored.hash, `stored configuration cannot be applied: ${(err as Error).message}`)
    }
    this.#setLocal(valid.doc, stored.version, stored.hash)
    this.#error = undefined
    this.#refusal = undefined
    this.#adopted()
  }

  #refuse(hash: string, message: string): void {
    this.#failedHash = hash
    this.#refusal = message
    this.options.log.error({ hash }, `${message}; the current configuration keeps serving`)
  }

  #announced(head: StoreHead | null): void {
    if (head !== null) {
      if (head.version === this.#version && head.hash === this.#hash) return
      if (head.hash === this.#failedHash) return
    }
    if (this.#pullQueued) return
    this.#pullQueued = true
    this.#serial(async () => {
      this.#pullQueued = false
      await this.#pull(null)
    }).catch((err: unknown) => {
      this.#error = (err as Error).message
    })
  }

  #check(): void {
    if (!this.store.reachable) return
    this.store.head().then(
      (head) => {
        this.#error = undefined
        // never synced (Redis was away at start): adopt or seed now
        this.#announced(this.#lastSync === null ? null : head)
      },
      (err: unknown) => {
        this.#error = (err as Error).message
      },
    )
  }
}
