/**
 * One node on several processes (`portico start --workers N|auto`): the primary process owns
 * what must be one per node (the stored configuration, node-wide counters, the metrics of
 * workers gone) and the workers serve requests. These are the two ends' views of each other,
 * declared here so that the control plane, the data plane and plugins can coordinate without
 * importing the process layer (`src/workers/`), which implements them over node:cluster's IPC.
 *
 * Coordination is for changes, not for requests: a plugin that asks the primary on every
 * request makes every request cost a message each way; hand out blocks instead (the
 * rate-limiting plugin's leases).
 */

/** A message handler: its return value (or the promise's) answers an `ask`. */
export type PeerHandler = (body: unknown, from: number) => unknown

/** What a worker sees of its node. */
export interface NodePeers {
  /** this worker's slot in the node, 1…workers (stable across its replacements) */
  readonly workerId: number
  /** how many workers the node runs */
  readonly workers: number
  /** asks the primary; rejects after `timeoutMs` (default 5 s) or when the primary's handler throws */
  ask<R>(topic: string, body: unknown, timeoutMs?: number): Promise<R>
  /** tells the primary, no answer */
  tell(topic: string, body: unknown): void
  /** handles what the primary sends on `topic` (broadcasts and questions); returns the removal */
  on(topic: string, handler: PeerHandler): () => void
}

/** What the primary gives a plugin's {@link PrimaryPart} (once per node, in the primary process). */
export interface PrimaryHub {
  /** how many workers the node runs */
  readonly workers: number
  /** answers what workers ask or tell on `topic`; `from` identifies the worker process (a replacement gets a new one) */
  handle(topic: string, handler: PeerHandler): void
  /** sends to every live worker (but `except`) */
  broadcast(topic: string, body: unknown, except?: number): void
  /**
   * asks every live worker (but `except`) and waits for their answers (at most `timeoutMs`,
   * default 2 s): the answers, and the slots that did not answer
   */
  askAll(
    topic: string,
    body: unknown,
    except?: number,
    timeoutMs?: number,
  ): Promise<{ answers: unknown[]; missing: number[] }>
  /** runs `listener` when a worker is gone (crash or restart), with its slot and its process's id (`from`) */
  onWorkerExit(listener: (slot: number, id: number) => void): void
}

/**
 * A plugin's node-wide part: runs once in the primary process of a node with workers, before
 * any worker starts (the owner of the plugin's node-wide counters, for instance).
 */
export type PrimaryPart = (hub: PrimaryHub) => void
