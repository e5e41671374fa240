/** One registered instance of a service (the dynamic service registry). */
export interface Instance {
  id: string
  service: string
  /** `http(s)://host:port` */
  url: string
  /** active health check path, or null for none */
  health_path: string | null
  /** seconds without a renewal before the instance leaves the balancer */
  ttl: number
  /** ms since the epoch, on the registry's clock */
  registered_at: number
  last_seen: number
  expires_at: number
}

export interface Registration {
  service: string
  url: string
  health_path: string | null
  ttl: number
}

/** What a registry backend (memory or Redis) provides; expired instances are never listed. */
export interface RegistryBackend {
  readonly kind: 'memory' | 'redis'
  /** a new instance, or the existing one with the same service and url (renewed) */
  register(r: Registration, id: string): Promise<{ instance: Instance; created: boolean }>
  /** the renewed instance, or null when it is unknown (expired or never registered) */
  renew(service: string, id: string, ttl: number | undefined): Promise<Instance | null>
  deregister(service: string, id: string): Promise<boolean>
  /** live instances and the registry's clock (ms), to schedule expiries against */
  list(): Promise<{ now: number; instances: Instance[] }>
  /** removes expired instances; announces a change when there were any */
  sweep(): Promise<number>
  /** called when any node changed the set of instances, or after a reconnect */
  watch(listener: () => void): void
  close(): Promise<void>
}
