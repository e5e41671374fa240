import cluster, { type Worker } from 'node:cluster'
import { analyticsPrimary } from '../analytics/index.js'
import { registryPrimary } from '../control-plane/registry/workers.js'
import type { Logger } from '../core/logger.js'
import type { PeerHandler, PrimaryHub } from '../core/peers.js'
import type { PluginRegistry } from '../core/plugin.js'
import { Channel, isPeerMessage, NOTHING_HANDLES } from './channel.js'
import { NodeConfig } from './config.js'
import { MetricsMerger, type Parsed, parseExposition } from './metrics.js'
import { HEALTH_TOPICS, NODE_TOPICS } from './topics.js'
import { WORKER_COUNT_ENV, WORKER_ID_ENV } from './worker.js'

export interface PrimaryOptions {
  workers: number
  configStore: 'memory' | 'redis'
  registry: PluginRegistry
  log: Logger
  /** how long a write waits for every worker to apply it (ms) */
  settleMs?: number
  /** how long a rolling restart waits for a new worker to listen (ms; a loaded host starts slowly) */
  readyMs?: number
}

/** One worker in `/healthz`. */
export interface WorkerView {
  slot: number
  pid: number
  generation: number
  hash: string
  compiles: number
  ready: boolean
}

interface Proc {
  /** node:cluster's id: one per process */
  id: number
  /** the slot it fills, 1…workers; a replacement takes its predecessor's */
  slot: number
  worker: Worker
  channel: Channel
  ready: boolean
  /** being replaced (rolling restart) or stopped: not replaced when it exits */
  retiring: boolean
  metrics?: Parsed
}

/**
 * The primary process of a node with workers (nginx's master): forks one worker per slot and
 * replaces one that dies at once, forwards SIGTERM (drain) and SIGHUP (reload), replaces workers
 * one at a time on SIGUSR2 (rolling restart), and owns what is one per node: the stored
 * configuration of the memory store and what each worker runs (`NodeConfig`), the merged
 * `/metrics`, and the plugins' node-wide parts (`PluginDefinition.primary`). It serves no request.
 */
export class Primary implements PrimaryHub {
  readonly workers: number
  readonly procs = new Map<number, Proc>()
  readonly #handlers = new Map<string, PeerHandler>()
  readonly #exitListeners: Array<(slot: number, id: number) => void> = []
  readonly #readyWaiters = new Map<number, () => void>()
  readonly config: NodeConfig
  readonly metrics = new MetricsMerger()
  /** messages from workers gone, by topic */
  readonly #retiredMessages = new Map<string, number>()
  #stopping = false
  #announced = false
  #rolling: Promise<void> | null = null

  constructor(readonly options: PrimaryOptions) {
    this.workers = options.workers
    this.config = new NodeConfig(
      this,
      () => new Map([...this.procs.values()].map((p) => [p.id, p.slot])),
      options.settleMs ?? 5000,
    )
    this.#nodeTopics()
    if (options.configStore === 'memory') registryPrimary(this)
    // usage analytics without Redis: the node's numbers (a node with Redis never writes here)
    analyticsPrimary(this)
    for (const name of options.registry.names()) options.registry.get(name)?.primary?.(this)
  }

  handle(topic: string, handler: PeerHandler): void {
    this.#handlers.set(topic, handler)
    for (const p of this.procs.values()) p.channel.on(topic, handler)
  }

  broadcast(topic: string, body: unknown, except?: number): void {
    for (const p of this.procs.values()) if (p.id !== except) p.channel.tell(topic, body)
  }

  async askAll(
    topic: string,
    body: unknown,
    except?: number,
    timeoutMs = 2000,
  ): Promise<{ answers: unknown[]; missing: number[] }> {
    const asked = [...this.procs.values()].filter((p) => p.id !== except)
    const answers: unknown[] = []
    const missing: number[] = []
    await Promise.all(
      asked.map((p) =>
        p.channel.ask(topic, body, timeoutMs).then(
          (a) => {
            answers.push(a)
          },
          (err: Error) => {
            // a worker that holds no state of this kind yet has nothing to apply
            if (!err.message.startsWith(NOTHING_HANDLES)) missing.push(p.slot)
          },
        ),
      ),
    )
    return { answers, missing }
  }

  onWorkerExit(listener: (slot: number, id: number) => void): void {
    this.#exitListeners.push(listener)
  }

  #nodeTopics(): void {
    const { log } = this.options
    this.handle(NODE_TOPICS.ready, (body, from) => {
      const p = this.procs.get(from)
      if (p === undefined) return
      p.ready = true
      this.#readyWaiters.get(from)?.()
      if (!this.#announced && [...this.procs.values()].filter((x) => x.ready).length >= this.workers) {
        this.#announced = true
        log.info({ workers: this.workers, ...(body as object) }, 'workers ready')
      }
    })
    this.handle(NODE_TOPICS.collect, () => this.#collect())
    this.handle(NODE_TOPICS.final, (body, from) => {
      const p = this.procs.get(from)
      if (p !== undefined && typeof body === 'string') p.metrics = parseExposition(body)
    })
    this.handle(NODE_TOPICS.describe, () => this.describe())
    // messages on one channel arrive in order: answering it confirms everything sent before
    this.handle(NODE_TOPICS.bye, () => null)
    // upstream health: the latest transition per target, relayed to the other workers
    const health = new Map<string, unknown>()
    this.handle(HEALTH_TOPICS.change, (body, from) => {
      health.set((body as { key: string }).key, body)
      this.broadcast(HEALTH_TOPICS.change, body, from)
    })
    this.handle(HEALTH_TOPICS.snapshot, () => [...health.values()])
  }

  /**
   * Every live worker's state, by slot (`/healthz` on the status listener): `generation` is the
   * node's configuration generation, the stored version the worker runs (equal on every worker
   * running the same document); `compiles` the worker's own runtime count.
   */
  describe(): WorkerView[] {
    return [...this.procs.values()]
      .map((p) => {
        const s = this.config.states.get(p.id)
        return {
          slot: p.slot,
          pid: p.worker.process.pid ?? 0,
          generation: s?.version ?? 0,
          hash: s?.hash ?? '',
          compiles: s?.generation ?? 0,
          ready: p.ready,
        }
      })
      .sort((a, b) => a.slot - b.slot)
  }

  /** Asks every live worker for its exposition (its last one when it does not answer in time). */
  async #collect(): Promise<string> {
    const live = [...this.procs.values()]
    await Promise.all(
      live.map(async (p) => {
        try {
          p.metrics = parseExposition(await p.channel.ask<string>(NODE_TOPICS.render, null, 2000))
        } catch {
          // busy or starting: its last exposition stands in
        }
      }),
    )
    // a retiring worker's counters are summed; its gauges would clash with its successor's
    const merged = this.metrics.merge(
      live.flatMap((p) =>
        p.metrics === undefined || p.retiring ? [] : [{ slot: p.slot, parsed: p.metrics }],
      ),
      live.flatMap((p) => (p.metrics !== undefined && p.retiring ? [p.metrics] : [])),
    )
    return merged + this.#messages(live)
  }

  /**
   * What coordination costs: the messages workers sent the primary, by topic, since the node
   * started. On the plain, key-auth, jwt and local-limit paths none is per request.
   */
  #messages(live: Proc[]): string {
    const total = new Map(this.#retiredMessages)
    for (const p of live) for (const [t, n] of p.channel.received) total.set(t, (total.get(t) ?? 0) + n)
    const lines = [...total].sort().map(([t, n]) => `portico_workers_messages_total{topic="${t}"} ${n}`)
    return `# HELP portico_workers_messages_total Messages the workers sent the primary, by topic\n# TYPE portico_workers_messages_total counter\n${lines.join('\n')}\n`
  }

  /** Forks every slot's worker and installs the signal handlers. */
  start(): void {
    cluster.on('exit', (worker, code, signal) => this.#exited(worker, code, signal))
    for (let slot = 1; slot <= this.workers; slot++) this.#fork(slot)
    process.on('SIGTERM', () => this.stop('SIGTERM'))
    process.on('SIGINT', () => this.stop('SIGINT'))
    process.on('SIGHUP', () => this.reload())
    process.on('SIGUSR2', () => {
      this.rollingRestart().catch((err: unknown) =>
        this.options.log.error({ err }, 'rolling restart stopped'),
      )
    })
  }

  #fork(slot: number): Proc {
    const worker = cluster.fork({ [WORKER_ID_ENV]: String(slot), [WORKER_COUNT_ENV]: String(this.workers) })
    const channel = new Channel((m) => {
      worker.send(m)
    }, worker.id)
    for (const [topic, h] of this.#handlers) channel.on(topic, h)
    worker.on('message', (m: unknown) => {
      if (isPeerMessage(m)) channel.receive(m)
    })
    const p: Proc = { id: worker.id, slot, worker, channel, ready: false, retiring: false }
    this.procs.set(worker.id, p)
    this.config.started(worker.id, worker.process.pid ?? 0)
    return p
  }

  #exited(worker: Worker, code: number | null, signal: string | null): void {
    const p = this.procs.get(worker.id)
    if (p === undefined) return
    this.procs.delete(worker.id)
    p.channel.close(`worker ${p.slot} exited`)
    this.metrics.retire(p.metrics)
    for (const [t, n] of p.channel.received)
      this.#retiredMessages.set(t, (this.#retiredMessages.get(t) ?? 0) + n)
    this.config.exited(worker.id)
    for (const l of this.#exitListeners) l(p.slot, p.id)
    if (this.#stopping) {
      if (this.procs.size === 0) process.exit(0)
      return
    }
    if (p.retiring) return
    // a crash: the slot gets a new worker at once while the others serve
    this.options.log.error(
      { slot: p.slot, pid: worker.process.pid, code, signal },
      'worker died: replacing it',
    )
    this.#fork(p.slot)
  }

  /** SIGHUP / --watch: memory store, one worker reloads the file for all; redis, each catches up. */
  reload(): void {
    const ready = [...this.procs.values()].filter((p) => p.ready && !p.retiring)
    const targets = this.options.configStore === 'memory' ? ready.slice(0, 1) : ready
    for (const p of targets) p.channel.tell(NODE_TOPICS.reload, null)
  }

  /** SIGTERM: every worker drains; the primary exits when the last one has. */
  stop(signal: string): void {
    if (this.#stopping) return
    this.#stopping = true
    this.options.log.info({ signal }, 'draining every worker')
    if (this.procs.size === 0) process.exit(0)
    for (const p of this.procs.values()) {
      p.retiring = true
      p.worker.process.kill('SIGTERM')
    }
  }

  /**
   * SIGUSR2: replaces the workers one at a time. The new worker listens before the old one
   * drains, so the node always has every slot serving: the old one stops accepting, finishes
   * what it has and closes idle connections (no request is cut).
   */
  rollingRestart(): Promise<void> {
    this.#rolling ??= (async () => {
      const { log } = this.options
      for (const old of [...this.procs.values()]) {
        if (this.#stopping || !this.procs.has(old.id)) continue
        const next = this.#fork(old.slot)
        const ready = await this.#whenReady(next, this.options.readyMs ?? 120_000)
        if (!ready) {
          log.error(
            { slot: old.slot },
            'rolling restart: the new worker did not start; the old one keeps serving',
          )
          next.retiring = true
          next.worker.process.kill('SIGKILL')
          return
        }
        old.retiring = true
        const gone = new Promise<void>((r) => old.worker.once('exit', () => r()))
        old.worker.process.kill('SIGTERM')
        await gone
        log.info({ slot: old.slot, pid: next.worker.process.pid }, 'worker replaced')
      }
    })().finally(() => {
      this.#rolling = null
    })
    return this.#rolling
  }

  #whenReady(p: Proc, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#readyWaiters.delete(p.id)
        resolve(false)
      }, ms)
      p.worker.once('exit', () => {
        clearTimeout(timer)
        resolve(false)
      })
      this.#readyWaiters.set(p.id, () => {
        clearTimeout(timer)
        this.#readyWaiters.delete(p.id)
        resolve(true)
      })
    })
  }
}
