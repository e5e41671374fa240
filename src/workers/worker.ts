import type { NodePeers } from '../core/peers.js'
import { Channel, isPeerMessage } from './channel.js'

/** Environment the primary sets on each worker it forks. */
export const WORKER_ID_ENV = 'PORTICO_WORKER_ID'
export const WORKER_COUNT_ENV = 'PORTICO_WORKER_COUNT'

/** This worker's link to its primary (null when the process is not a worker of a node). */
export function connectToPrimary(env: NodeJS.ProcessEnv = process.env): NodePeers | null {
  const id = Number(env[WORKER_ID_ENV])
  if (process.send === undefined || !Number.isInteger(id) || id < 1) return null
  const send = process.send.bind(process)
  const channel = new Channel((m) => {
    send(m)
  }, 0)
  process.on('message', (m: unknown) => {
    if (isPeerMessage(m)) channel.receive(m)
  })
  return {
    workerId: id,
    workers: Number(env[WORKER_COUNT_ENV]) || 1,
    ask: (topic, body, timeoutMs) => channel.ask(topic, body, timeoutMs),
    tell: (topic, body) => channel.tell(topic, body),
    on: (topic, handler) => channel.on(topic, handler),
  }
}
