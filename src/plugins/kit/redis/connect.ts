import type { RedisConnection } from '../../../core/services.js'

/**
 * Waits (at most `ms`) for a connection that is still making its first connection, so the
 * first requests after a start are limited rather than let through. A Redis that is down
 * (reconnecting) is not waited for: the failure mode applies at once.
 */
export function firstConnect(conn: RedisConnection, ms: number): Promise<void> {
  const client = conn.client
  if (client.status !== 'connecting' && client.status !== 'connect' && client.status !== 'wait') {
    return Promise.resolve()
  }
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      client.off('ready', done)
      client.off('end', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    client.once('ready', done)
    client.once('end', done)
  })
}
