import type { NodePeers, PrimaryHub } from '../../core/peers.js'
import {
  type BreakerCounters,
  type BreakerState,
  LocalBreaker,
  type Thresholds,
  type TransitionListener,
} from './breaker.js'
import { FLUSH_MS, MirroredBreaker } from './mirror.js'
import type { StateMessage } from './shared.js'

/** Topics between a node's workers and the primary, which runs each breaker's state machine. */
const TOPICS = {
  /** worker → primary (ask): a breaker with its figures, at creation and reload → its state */
  use: 'circuit-breaker.use',
  /** worker → primary: a batch of non-trial outcomes `{ k, calls, failures, slow }` */
  outcomes: 'circuit-breaker.outcomes',
  /** worker → primary (ask): a half-open trial call → the state and whether it was granted */
  trial: 'circuit-breaker.trial',
  /** worker → primary: a trial call's end, `{ k, end: 'ok' | 'fail' | 'release' }` */
  trialEnd: 'circuit-breaker.trial-end',
  /** worker → primary (ask): the Admin API's force → the state */
  force: 'circuit-breaker.force',
  /** primary → every worker: a breaker's new state */
  state: 'circuit-breaker.state',
} as const

type TrialAnswer = StateMessage & { granted: boolean }

/**
 * A breaker with `policy: local` on a node with workers: one state per node. The primary runs
 * the state machine ({@link breakerPrimary}); each worker counts its outcomes and sends them in
 * one message per {@link FLUSH_MS} at most (never one per request), and every decision on the
 * request path reads the state this worker holds, which the primary broadcasts at each
 * transition. Half-open trial calls are handed out by the primary one at a time, so the
 * configured number holds across the workers. The same shape as the redis policy's
 * {@link SharedBreaker}, with the primary in Redis's place.
 */
export class PeerBreaker extends MirroredBreaker {
  readonly counters: BreakerCounters = { calls: 0, failures: 0, slow: 0, rejected: 0, trials: 0 }
  readonly #off: () => void

  constructor(
    t: Thresholds,
    readonly key: string,
    readonly peers: NodePeers,
    readonly onTransition: TransitionListener,
  ) {
    super(t)
    this.#off = peers.on(TOPICS.state, (m) => {
      if ((m as StateMessage).k === key) this.apply(m as StateMessage)
    })
    this.#use()
  }

  reconfigure(t: Thresholds): void {
    this.t = t
    this.#use()
  }

  current(): BreakerState {
    return this.state
  }

  release(): void {
    this.peers.tell(TOPICS.trialEnd, { k: this.key, end: 'release' })
  }

  record(_now: number, failed: boolean, slow: boolean, trial: boolean): void {
    this.counters.calls++
    if (failed) this.counters.failures++
    if (slow) this.counters.slow++
    if (trial) {
      this.peers.tell(TOPICS.trialEnd, { k: this.key, end: failed || slow ? 'fail' : 'ok' })
      return
    }
    this.countOutcome(failed, slow)
  }

  /** the Admin API's force, for every worker (the primary broadcasts the new state) */
  async force(open: boolean): Promise<void> {
    this.#adopt(await this.peers.ask<StateMessage>(TOPICS.force, { k: this.key, open }))
  }

  /** sends the outcomes counted since the last batch */
  flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.flushTimer = null
    const p = this.pending
    if (p.calls === 0) return
    this.pending = { calls: 0, failures: 0, slow: 0 }
    this.peers.tell(TOPICS.outcomes, { k: this.key, ...p })
  }

  /** a state the primary broadcast */
  apply(m: StateMessage): void {
    if (m.g >= this.gen) this.#adopt(m)
  }

  close(): void {
    this.flush()
    this.#off()
  }

  #use(): void {
    this.peers.ask<StateMessage>(TOPICS.use, { k: this.key, t: this.t }).then(
      (m) => this.apply(m),
      () => {},
    )
  }

  protected askTrial(): Promise<boolean | null> {
    return this.peers.ask<TrialAnswer>(TOPICS.trial, { k: this.key }, 1000).then(
      (a) => {
        this.apply(a)
        return a.granted
      },
      () => false,
    )
  }

  #adopt(m: StateMessage): void {
    const from = this.adoptState(m.s, m.r, m.o, m.g)
    // every worker adopts the state; the first worker alone counts the transition for the node
    if (from !== m.s) this.onTransition(from, m.s, this.peers.workerId === 1)
  }
}

/**
 * The primary's half: one {@link LocalBreaker} per breaker key, fed by every worker's batches
 * and trial calls; each transition goes to every worker.
 */
export function breakerPrimary(hub: PrimaryHub): void {
  const breakers = new Map<string, { lb: LocalBreaker; gen: number }>()
  const stateOf = (k: string, b: { lb: LocalBreaker; gen: number }): StateMessage => ({
    k,
    s: b.lb.state,
    r: b.lb.remainingMs(Date.now()),
    o: b.lb.openMs,
    g: b.gen,
  })
  const get = (k: string) => {
    const b = breakers.get(k)
    if (b === undefined) throw new Error(`circuit breaker ${k} is not known to the primary`)
    return b
  }
  hub.handle(TOPICS.use, (body) => {
    const { k, t } = body as { k: string; t: Thresholds }
    const found = breakers.get(k)
    if (found !== undefined) {
      found.lb.reconfigure(t)
      return stateOf(k, found)
    }
    const b = {
      gen: 0,
      lb: new LocalBreaker(t, () => {
        b.gen++
        hub.broadcast(TOPICS.state, stateOf(k, b))
      }),
    }
    breakers.set(k, b)
    return stateOf(k, b)
  })
  hub.handle(TOPICS.outcomes, (body) => {
    const o = body as { k: string; calls: number; failures: number; slow: number }
    breakers.get(o.k)?.lb.recordMany(Date.now(), o.calls, o.failures, o.slow)
  })
  hub.handle(TOPICS.trial, (body) => {
    const { k } = body as { k: string }
    const b = get(k)
    const granted = b.lb.admit(Date.now()) === 'trial'
    return { ...stateOf(k, b), granted }
  })
  hub.handle(TOPICS.trialEnd, (body) => {
    const { k, end } = body as { k: string; end: 'ok' | 'fail' | 'release' }
    const b = breakers.get(k)
    if (b === undefined) return
    if (end === 'release') b.lb.release()
    else b.lb.record(Date.now(), end === 'fail', false, true)
  })
  hub.handle(TOPICS.force, (body) => {
    const { k, open } = body as { k: string; open: boolean }
    const b = get(k)
    b.lb.force(open, Date.now())
    return stateOf(k, b)
  })
}
