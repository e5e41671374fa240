import type { NodePeers, PrimaryHub } from '../../core/peers.js'
import { Listeners } from '../listeners.js'
import { MemoryRegistry } from './memory.js'
import type { Instance, Registration, RegistryBackend } from './types.js'

const TOPICS = {
  call: 'registry.call',
  /** primary → workers: the set of instances changed */
  changed: 'registry.changed',
} as const

type Call =
  | { op: 'register'; r: Registration; id: string }
  | { op: 'renew'; service: string; id: string; ttl: number | undefined }
  | { op: 'deregister'; service: string; id: string }
  | { op: 'list' }
  | { op: 'sweep' }

/**
 * The service registry of a node with workers and the memory store: the instances live in the
 * primary (one `MemoryRegistry` per node), each worker reads and writes them there and hears of
 * every change, as nodes hear of each other's through Redis in redis mode.
 */
export class WorkerRegistry implements RegistryBackend {
  readonly kind = 'memory'
  readonly #listeners = new Listeners<[]>()
  readonly #off: () => void

  constructor(readonly peers: NodePeers) {
    this.#off = peers.on(TOPICS.changed, () => this.#listeners.emit())
  }

  #call<R>(call: Call): Promise<R> {
    return this.peers.ask<R>(TOPICS.call, call)
  }

  register(r: Registration, id: string): Promise<{ instance: Instance; created: boolean }> {
    return this.#call({ op: 'register', r, id })
  }

  renew(service: string, id: string, ttl: number | undefined): Promise<Instance | null> {
    return this.#call({ op: 'renew', service, id, ttl })
  }

  deregister(service: string, id: string): Promise<boolean> {
    return this.#call({ op: 'deregister', service, id })
  }

  list(): Promise<{ now: number; instances: Instance[] }> {
    return this.#call({ op: 'list' })
  }

  sweep(): Promise<number> {
    return this.#call({ op: 'sweep' })
  }

  watch(listener: () => void): void {
    this.#listeners.add(listener)
  }

  async close(): Promise<void> {
    this.#listeners.clear()
    this.#off()
  }
}

/** The primary's half: the node's one memory registry; every change is announced to every worker. */
export function registryPrimary(hub: PrimaryHub): void {
  const registry = new MemoryRegistry()
  registry.watch(() => hub.broadcast(TOPICS.changed, null))
  hub.handle(TOPICS.call, (body) => {
    const c = body as Call
    switch (c.op) {
      case 'register':
        return registry.register(c.r, c.id)
      case 'renew':
        return registry.renew(c.service, c.id, c.ttl)
      case 'deregister':
        return registry.deregister(c.service, c.id)
      case 'list':
        return registry.list()
      default:
        return registry.sweep()
    }
  })
}
