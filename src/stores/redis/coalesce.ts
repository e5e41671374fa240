import { Cluster, type Redis } from 'ioredis'

/**
 * Commands sent in one event-loop turn leave in one write. ioredis writes every command to its
 * socket at once, one syscall each; under load a turn handles many requests, each with its own
 * request-path command (a rate-limit script call), so the first command of a turn corks the
 * socket and a `setImmediate` (the same turn's check phase, microseconds later) uncorks it:
 * one `writev` for the whole batch. Measured on the rate-limit script alone, 50 calls in
 * flight: 22–25 µs of client CPU per call without, 13 µs with.
 *
 * Cluster clients write to one socket per node and are left as they are.
 *
 * @example
 *   const coalesce = writeCoalescer(client)
 *   coalesce()                    // before each request-path command
 *   client.evalsha(sha, 1, key)
 */
export function writeCoalescer(client: Redis | Cluster): () => void {
  if (client instanceof Cluster) return () => {}
  let corked: Redis['stream'] | null = null
  const uncork = (): void => {
    const s = corked
    corked = null
    s?.uncork()
  }
  return () => {
    if (corked !== null) return
    const s = client.stream
    // before the first connection there is no socket yet; the command fails or waits on its own
    if (s === undefined || s === null) return
    s.cork()
    corked = s
    setImmediate(uncork)
  }
}
