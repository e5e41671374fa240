/**
 * How quota is handed out in blocks, one rule for both places that do it: the redis policy's
 * leases (a node takes units from Redis, `lease.ts` and `lease-lua.ts`) and the local policy on a
 * node with workers (a worker takes units from the primary, `node-primary.ts`). Both sides run
 * the same `LeaseLimiter` (lease.ts); only where the units come from differs.
 */

/**
 * A block from Redis is sized to last this long at the key's own recent rate: one script call
 * per key per ~200 ms on a busy key (a block of 20+ at 100 requests/s), and what a node that
 * dies takes with it is about 200 ms of its own traffic.
 */
export const HORIZON_MS = 200

/** How one source's blocks are sized: the horizon at the key's rate, and a cap. */
export interface BlockSizing {
  horizonMs: number
  maxBlock: number
}

/** The redis policy's leases (a node's blocks from Redis). */
export const REDIS_BLOCKS: BlockSizing = { horizonMs: HORIZON_MS, maxBlock: Number.POSITIVE_INFINITY }

/** Units unused this long go back (the holder went idle for this key). */
export const IDLE_MS = 400
/** A block is returned at the latest this long after its grant, or at its first window's end. */
export const HOLD_MS = 1_000
/**
 * A refusal while units may come back (held by another node or worker) is answered locally
 * until its retry time, but asked again after this.
 */
export const RECHECK_MS = 1_000

/**
 * The extra units a key's next block asks for: its rate since the last grant (units used plus
 * the requests waiting now, over the time since) for the source's horizon, at most double the
 * last block or double the requests waiting on this question, whichever is more (a burst's
 * first milliseconds overstate its rate, but requests that piled up during one round trip are
 * demand already seen: a fresh busy key needs no third question), and at most the source's
 * cap; nothing beyond `need` on a first question, when there is no rate yet.
 */
export function blockWant(
  sizing: BlockSizing,
  grantedAt: number,
  used: number,
  need: number,
  lastBlock: number,
  now: number,
): number {
  if (grantedAt === 0) return 0
  const rate = (used + need) / Math.max(1, now - grantedAt)
  return Math.min(Math.ceil(rate * sizing.horizonMs), Math.max(4, 2 * lastBlock, 2 * need), sizing.maxBlock)
}

/**
 * What a grant gives when every window can still admit `avail` units now: `need` (the requests
 * waiting on this question) plus up to `want`, but at most half of what is left after `need`,
 * so blocks shrink as the limit nears (with one unit left, a grant is the one unit a waiting
 * request needs) and no holder sits on much that another then has to refuse; all of `avail`
 * when `need` reaches it. The sum of grants never exceeds what the windows allow, so the limit
 * is never exceeded. `lease-lua.ts` computes the same in Lua.
 */
export function grantSize(avail: number, need: number, want: number): number {
  if (avail < 1) return 0
  if (need >= avail) return avail
  return need + Math.min(want, Math.floor((avail - need) / 2))
}
