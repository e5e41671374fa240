import type { NodePeers, PrimaryHub } from '../core/peers.js'
import { type Backend, type Batch, MemoryBackend } from './backend.js'

/** Topics between a node's workers and its primary, which holds the node's memory backend. */
const TOPICS = {
  /** worker → primary: one flush's batch (one message per flush interval) */
  write: 'analytics.write',
  /** worker → primary: a read of the node's backend */
  read: 'analytics.read',
  /** worker → primary: every other worker flushes now (before an Admin API read) */
  gather: 'analytics.gather',
  /** primary → worker: flush now */
  flush: 'analytics.flush',
} as const

/** How long the primary waits for the other workers' flushes before a read (ms). */
const GATHER_WAIT_MS = 2000

/** A batch as IPC carries it (JSON: maps as entry lists). */
interface WireBatch {
  hashes: Array<[key: string, fields: Array<[string, number]>, ttlSec: number]>
  zsets: Array<[key: string, members: Array<[string, number]>, keep: number, ttlSec: number]>
  uniques: Batch['uniques']
  node: Batch['node']
}

type Read = { op: 'hashes' | 'zsets' | 'uniques'; keys: string[] } | { op: 'nodes' }

const toWire = (b: Batch): WireBatch => ({
  hashes: b.hashes.map((h) => [h.key, [...h.fields], h.ttlSec]),
  zsets: b.zsets.map((z) => [z.key, [...z.members], z.keep, z.ttlSec]),
  uniques: b.uniques,
  node: b.node,
})

const fromWire = (w: WireBatch): Batch => ({
  hashes: w.hashes.map(([key, fields, ttlSec]) => ({ key, fields: new Map(fields), ttlSec })),
  zsets: w.zsets.map(([key, members, keep, ttlSec]) => ({ key, members: new Map(members), keep, ttlSec })),
  uniques: w.uniques,
  node: w.node,
})

/**
 * A worker's analytics on a node with workers and no Redis: each worker aggregates its own
 * requests into its interval as a single process does (nothing crosses processes per request)
 * and sends each flush to the primary, which keeps the node's one {@link MemoryBackend}; the
 * Admin API's reads, on whichever worker serves them, ask the primary. Before a read every
 * other worker flushes ({@link gather}), so the answer counts the node's last seconds as a single
 * process's does.
 */
export class PeerBackend implements Backend {
  #off: () => void = () => {}

  constructor(readonly peers: NodePeers) {}

  /** what the primary's flush request runs (the worker's `Analytics.flush`) */
  attach(flush: () => Promise<void>): void {
    this.#off = this.peers.on(TOPICS.flush, () => flush())
  }

  detach(): void {
    this.#off()
  }

  async write(batch: Batch): Promise<void> {
    // an ask, not a tell: a flush resolves once the primary holds it (reads after it see it)
    await this.peers.ask(TOPICS.write, toWire(batch))
  }

  async gather(): Promise<void> {
    await this.peers.ask(TOPICS.gather, null, GATHER_WAIT_MS + 1000)
  }

  async hashes(keys: string[]): Promise<Array<Map<string, number>>> {
    const list = await this.peers.ask<Array<Array<[string, number]>>>(TOPICS.read, { op: 'hashes', keys })
    return list.map((e) => new Map(e))
  }

  async zsets(keys: string[]): Promise<Array<Map<string, number>>> {
    const list = await this.peers.ask<Array<Array<[string, number]>>>(TOPICS.read, { op: 'zsets', keys })
    return list.map((e) => new Map(e))
  }

  uniques(keys: string[]): Promise<number> {
    return this.peers.ask<number>(TOPICS.read, { op: 'uniques', keys })
  }

  nodes(): Promise<string[]> {
    return this.peers.ask<string[]>(TOPICS.read, { op: 'nodes' })
  }
}

/** The primary's half: the node's memory backend, written by every worker's flushes. */
export function analyticsPrimary(hub: PrimaryHub): void {
  const memory = new MemoryBackend()
  hub.handle(TOPICS.write, (body) => memory.write(fromWire(body as WireBatch)))
  hub.handle(TOPICS.gather, async (_body, from) => {
    // a worker that does not answer in time has its last seconds counted at its next flush
    await hub.askAll(TOPICS.flush, null, from, GATHER_WAIT_MS)
    return null
  })
  hub.handle(TOPICS.read, async (body) => {
    const r = body as Read
    if (r.op === 'nodes') return memory.nodes()
    if (r.op === 'uniques') return memory.uniques(r.keys)
    const maps = r.op === 'hashes' ? await memory.hashes(r.keys) : await memory.zsets(r.keys)
    return maps.map((m) => [...m])
  })
}
