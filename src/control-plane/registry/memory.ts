import { Listeners } from '../listeners.js'
import type { Instance, Registration, RegistryBackend } from './types.js'

/**
 * The registry of one node (memory mode): instances live in this process and expire on its clock.
 *
 * @example
 *   const backend = new MemoryRegistry()
 *   await backend.register({ service: 'users', url: 'http://10.0.0.5:8080', health_path: null, ttl: 30 }, id)
 */
export class MemoryRegistry implements RegistryBackend {
  readonly kind = 'memory'
  readonly #instances = new Map<string, Instance>()
  readonly #listeners = new Listeners<[]>()

  constructor(private readonly now: () => number = Date.now) {}

  async register(r: Registration, id: string): Promise<{ instance: Instance; created: boolean }> {
    const now = this.now()
    const same = [...this.#instances.values()].find(
      (i) => i.service === r.service && i.url === r.url && i.expires_at > now,
    )
    if (same !== undefined) {
      same.ttl = r.ttl
      same.health_path = r.health_path
      same.last_seen = now
      same.expires_at = now + r.ttl * 1000
      this.#listeners.emit()
      return { instance: { ...same }, created: false }
    }
    const instance: Instance = {
      id,
      ...r,
      registered_at: now,
      last_seen: now,
      expires_at: now + r.ttl * 1000,
    }
    this.#instances.set(`${r.service}/${id}`, instance)
    this.#listeners.emit()
    return { instance: { ...instance }, created: true }
  }

  async renew(service: string, id: string, ttl: number | undefined): Promise<Instance | null> {
    const now = this.now()
    const instance = this.#instances.get(`${service}/${id}`)
    if (instance === undefined || instance.expires_at <= now) return null
    if (ttl !== undefined) instance.ttl = ttl
    instance.last_seen = now
    instance.expires_at = now + instance.ttl * 1000
    return { ...instance }
  }

  async deregister(service: string, id: string): Promise<boolean> {
    const removed = this.#instances.delete(`${service}/${id}`)
    if (removed) this.#listeners.emit()
    return removed
  }

  async list(): Promise<{ now: number; instances: Instance[] }> {
    const now = this.now()
    const instances = [...this.#instances.values()].filter((i) => i.expires_at > now).map((i) => ({ ...i }))
    return { now, instances }
  }

  async sweep(): Promise<number> {
    const now = this.now()
    let removed = 0
    for (const [key, i] of this.#instances) {
      if (i.expires_at <= now) {
        this.#instances.delete(key)
        removed++
      }
    }
    if (removed > 0) this.#listeners.emit()
    return removed
  }

  watch(listener: () => void): void {
    this.#listeners.add(listener)
  }

  async close(): Promise<void> {
    this.#listeners.clear()
  }
}
