/** The messages between a node's primary and its workers, by what they are about. */

/** Topics between the primary and every worker (besides the config's, `config.ts`). */
export const NODE_TOPICS = {
  /** worker → primary: listening, with its addresses */
  ready: 'worker.ready',
  /** primary → worker: reload the configuration (SIGHUP, --watch) */
  reload: 'node.reload',
  /** primary → worker: its own exposition text */
  render: 'metrics.render',
  /** worker → primary: the node's merged exposition text */
  collect: 'metrics.collect',
  /** worker → primary: its last exposition before it exits */
  final: 'metrics.final',
  /** worker → primary, last of all before it exits: answered once what it sent before has arrived */
  bye: 'worker.bye',
  /** worker → primary: every worker's state (`/healthz`) */
  describe: 'workers.describe',
} as const

/** Topics of the node's applied-configuration tracking (every config store). */
export const SYNC_TOPICS = {
  /** a worker runs a stored version now: `WorkerState` */
  adopted: 'config.adopted',
  /** a worker waits for every live worker to run a version: `{ version }` → missing worker slots */
  settle: 'config.settle',
  /** a worker's runtime changed: `{ generation, hash }` */
  runtime: 'worker.runtime',
} as const

/** Topics of the node-wide upstream health (the primary relays and remembers them). */
export const HEALTH_TOPICS = { change: 'health.change', snapshot: 'health.snapshot' } as const
