import type { Dispatcher } from 'undici'
import { type CheckFn, Exchange, type ExchangeOwner, errorCode } from './exchange.js'
import type { LoadOptions } from './options.js'
import { type LoadResult, Recorder } from './recorder.js'
import { compileRequest, describeRequest, type IterationContext, type PreparedRequest } from './request.js'

/**
 * One load run: schedules requests (closed or open loop), hands them to undici, tallies what
 * comes back, and stops in two steps — no new requests at the end of the duration, then, after
 * the grace period or at once when aborted, in-flight requests are cut off.
 *
 * @example
 *   const result = await new Run(opts, new Agent({ connections: 10 }), 10, true).start()
 */
export class Run implements ExchangeOwner {
  readonly rec: Recorder
  private readonly live = new Set<Exchange>()
  private readonly next: (ctx: IterationContext) => PreparedRequest
  private readonly checks: CheckFn[]
  private readonly ok: (status: number) => boolean
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly t0 = performance.now()
  private i = 0
  private stopping = false
  cutting = false
  private aborted = false
  private resolve: () => void = () => {}

  constructor(
    private readonly opts: LoadOptions,
    private readonly dispatcher: Dispatcher,
    private readonly vus: number,
    /** the dispatcher is ours: cutting off may destroy it */
    private readonly owned: boolean,
  ) {
    this.next = compileRequest(opts.request)
    this.checks = Object.values(opts.checks ?? {})
    const expect = opts.expectStatus ?? ((s: number) => s >= 200 && s < 400)
    this.ok = Array.isArray(expect) ? (s) => expect.includes(s) : expect
    this.rec = new Recorder(this.t0, Object.keys(opts.checks ?? {}))
  }

  async start(): Promise<LoadResult> {
    const { opts } = this
    const done = new Promise<void>((resolve) => (this.resolve = resolve))
    const onAbort = () => {
      this.aborted = true
      this.stop(0)
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const progress = setInterval(() => this.progress(), opts.progressInterval ?? 250)
    if (opts.signal?.aborted) onAbort()
    else if (opts.rate === undefined) this.closedLoop()
    else this.openLoop(opts.rate)
    await done
    clearInterval(progress)
    opts.signal?.removeEventListener('abort', onAbort)
    for (const t of this.timers) clearTimeout(t)
    this.progress(true)
    return this.rec.result(performance.now(), {
      mode: opts.rate === undefined ? 'closed' : 'open',
      target: describeRequest(opts.request),
      vus: this.vus,
      targetRate: opts.rate ?? null,
      duration: opts.duration,
      aborted: this.aborted,
    })
  }

  /** Each VU sends its next request as soon as the previous one has finished. */
  private closedLoop(): void {
    const end = this.t0 + this.opts.duration * 1000
    const loop = (vu: number) => {
      if (!this.stopping && performance.now() < end) this.send(vu, null, loop)
    }
    this.later(() => this.stop(this.opts.gracefulStop ?? 10), end - performance.now())
    for (let vu = 1; vu <= this.vus; vu++) loop(vu)
  }

  /**
   * Arrival n is due at t0 + n/rate whatever the responses do. Each wake-up starts every
   * arrival due by then, on a free VU or else counted as dropped; a late wake-up (a busy event
   * loop) sends a burst of late requests whose latency still counts from when they were due.
   */
  private openLoop(rate: number): void {
    const interval = 1000 / rate
    const total = Math.ceil(this.opts.duration * rate - 1e-9)
    const free = Array.from({ length: this.vus }, (_, k) => this.vus - k)
    const release = (vu: number) => free.push(vu)
    let n = 0
    const tick = () => {
      const now = performance.now()
      for (; n < total && !this.stopping && this.t0 + n * interval <= now; n++) {
        const vu = free.pop()
        if (vu === undefined) this.rec.drop(now)
        else this.send(vu, this.t0 + n * interval, release)
      }
      if (this.stopping) return
      if (n >= total) return this.stop(this.opts.gracefulStop ?? 10)
      // timers fire a millisecond or more late, which would count as latency at high rates:
      // sleep until about a millisecond before the next arrival, then poll between I/O turns
      const wait = this.t0 + n * interval - performance.now()
      if (wait > 2) this.later(tick, wait - 1)
      else setImmediate(tick)
    }
    tick()
  }

  private send(vu: number, scheduled: number | null, after: (vu: number) => void): void {
    let req: PreparedRequest
    try {
      req = this.next({ i: this.i++, vu })
    } catch (err) {
      // a request function that throws is a failed request, not a crashed run
      this.rec.started(0)
      this.rec.error(performance.now(), errorCode(err))
      setImmediate(after, vu)
      return
    }
    this.rec.started(req.body === null ? 0 : Buffer.byteLength(req.body))
    const sent = performance.now()
    const ex = new Exchange(this, vu, scheduled ?? sent, sent, after, this.checks.length > 0)
    this.live.add(ex)
    const timeout = this.opts.timeout ?? 60_000
    this.dispatcher.dispatch({ ...req, headersTimeout: timeout, bodyTimeout: timeout }, ex)
  }

  received(bytes: number): void {
    this.rec.bytesReceived += bytes
  }

  finish(ex: Exchange, err: Error | null): void {
    if (!this.live.delete(ex)) return
    const now = performance.now()
    if (err === null) {
      this.rec.response(
        now,
        ex.status,
        this.ok(ex.status),
        (now - ex.scheduled) * 1000,
        (now - ex.sent) * 1000,
      )
      for (let k = 0; k < this.checks.length; k++) {
        let pass = false
        try {
          pass = this.checks[k]!(ex) === true
        } catch {}
        this.rec.checks[k]![pass ? 'passes' : 'fails']++
      }
      ex.after(ex.vu)
    } else {
      if (this.cutting) this.rec.cutOff()
      else {
        this.rec.error(now, errorCode(err))
        for (const c of this.rec.checks) c.fails++
      }
      // errors can be reported synchronously from inside dispatch(): never recurse into send
      setImmediate(ex.after, ex.vu)
    }
    if (this.stopping && this.live.size === 0) this.resolve()
  }

  /** No new requests; in-flight ones get `grace` seconds, then are cut off. */
  private stop(grace: number): void {
    if (this.stopping) {
      if (grace === 0) this.cut()
      return
    }
    this.stopping = true
    if (this.live.size === 0) this.resolve()
    else if (grace === 0) this.cut()
    else this.later(() => this.cut(), grace * 1000)
  }

  private cut(): void {
    if (this.cutting) return
    this.cutting = true
    const reason = new Error('load run stopped')
    for (const ex of this.live) ex.controller?.abort(reason)
    // requests still waiting for a connection have no controller: our own agent takes them
    // down with it; and whatever the dispatcher does, waiting ends after a second
    if (this.owned) void this.dispatcher.destroy(reason).catch(() => {})
    this.later(() => {
      for (const ex of [...this.live]) this.finish(ex, reason)
    }, 1000)
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t)
        fn()
      },
      Math.max(0, ms),
    )
    this.timers.add(t)
  }

  private progress(final = false): void {
    this.opts.onProgress?.(this.rec.snapshot(performance.now(), this.opts.duration, final))
  }
}
