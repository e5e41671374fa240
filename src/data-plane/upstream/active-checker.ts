import { connect } from 'node:net'
import { Agent, request } from 'undici'
import type { HealthPolicy, TargetHealth, Verdict } from './health-state.js'
import { classifyStatus } from './health-state.js'
import type { TargetAddress } from './target.js'

/** What the checker needs of a target: where to probe and whose health to update. */
export interface ProbeTarget extends TargetAddress {
  readonly state: TargetHealth
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * Kong's active health checks for one upstream: healthy targets are probed every
 * `healthy.interval` seconds, unhealthy ones every `unhealthy.interval` (0 = that state is not
 * probed). A round waits for its probes before the next is scheduled, so a slow target cannot
 * pile probes up; timers are unref'd so checks never keep the process alive.
 *
 * @example
 *   const checker = new ActiveChecker(policy, targets, (t, verdict) => t.state.probe(policy, verdict))
 *   checker.start()
 *   // … on reload or shutdown
 *   checker.stop()
 */
export class ActiveChecker {
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly probing = new Set<TargetHealth>()
  private readonly agent: Agent | undefined
  private readonly timeoutMs: number
  private readonly headers: Record<string, string | string[]> | undefined
  private stopped = false

  constructor(
    private readonly policy: HealthPolicy,
    private readonly targets: readonly ProbeTarget[],
    private readonly onVerdict: (target: ProbeTarget, verdict: Verdict) => void,
  ) {
    const cfg = policy.activeConfig
    this.timeoutMs = Math.max(1, cfg.timeout * 1000)
    this.headers =
      policy.hostHeader === undefined
        ? (cfg.headers ?? undefined)
        : { ...cfg.headers, host: policy.hostHeader }
    this.agent =
      cfg.type === 'tcp'
        ? undefined
        : new Agent({
            connect: { timeout: this.timeoutMs, rejectUnauthorized: cfg.https_verify_certificate },
            connections: Math.max(1, cfg.concurrency),
          })
  }

  start(): void {
    const cfg = this.policy.activeConfig
    if (cfg.healthy.interval > 0) this.schedule(true, cfg.healthy.interval)
    if (cfg.unhealthy.interval > 0) this.schedule(false, cfg.unhealthy.interval)
  }

  stop(): void {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    // Probes still in flight are cut short; their results are ignored once stopped.
    this.agent?.destroy().catch(() => {})
  }

  private schedule(healthy: boolean, intervalSeconds: number): void {
    if (this.stopped) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      // Whatever happens in a round, the next one is scheduled: checks must not die quietly.
      void this.round(healthy)
        .catch(() => {})
        .then(() => this.schedule(healthy, intervalSeconds))
    }, intervalSeconds * 1000)
    timer.unref()
    this.timers.add(timer)
  }

  private async round(healthy: boolean): Promise<void> {
    const due = this.targets.filter((t) => t.state.healthy === healthy && !this.probing.has(t.state))
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < due.length && !this.stopped) await this.check(due[next++])
    }
    const workers = Math.max(1, Math.min(this.policy.activeConfig.concurrency, due.length))
    await Promise.all(Array.from({ length: workers }, worker))
  }

  private async check(target: ProbeTarget): Promise<void> {
    this.probing.add(target.state)
    try {
      const verdict = await this.probe(target)
      if (!this.stopped) this.onVerdict(target, verdict)
    } finally {
      this.probing.delete(target.state)
    }
  }

  private probe(target: ProbeTarget): Promise<Verdict> {
    return this.agent === undefined ? this.probeTcp(target) : this.probeHttp(target, this.agent)
  }

  private async probeHttp(target: ProbeTarget, agent: Agent): Promise<Verdict> {
    const cfg = this.policy.activeConfig
    const signal = AbortSignal.timeout(this.timeoutMs)
    let status: number
    try {
      // a registered instance names its own health path; others share the upstream's
      const res = await request(`${cfg.type}://${target.address}${target.healthPath ?? cfg.http_path}`, {
        method: 'GET',
        dispatcher: agent,
        signal,
        headers: this.headers,
        // A fresh connection per probe: a kept-alive socket would hide a listener that stopped
        // accepting, and a stale one would report a failure the target did not have.
        reset: true,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      })
      status = res.statusCode
      await res.body.dump().catch(() => {})
    } catch (err) {
      if (signal.aborted || TIMEOUT_CODES.has((err as { code?: string }).code ?? '')) return 'timeout'
      return 'tcp_failure'
    }
    return classifyStatus(this.policy.active, status)
  }

  private probeTcp(target: ProbeTarget): Promise<Verdict> {
    return new Promise((resolve) => {
      const socket = connect({ host: target.host, port: target.port })
      const done = (verdict: Verdict): void => {
        clearTimeout(timer)
        socket.destroy()
        resolve(verdict)
      }
      const timer = setTimeout(() => done('timeout'), this.timeoutMs)
      timer.unref()
      socket.once('connect', () => done('success'))
      socket.once('error', () => done('tcp_failure'))
    })
  }
}
