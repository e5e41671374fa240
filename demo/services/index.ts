/**
 * Starts the whole demo backend (DESIGN §2.8): two inference models, two users instances for
 * load balancing, the slow cacheable endpoint and the token issuer. The gateway config and the
 * `portico demo` command build on the returned URLs.
 */
import { startAuth } from './auth.js'
import { startInference } from './inference.js'
import { startSlow } from './slow.js'
import { DEMO_SERVICE_NAMES, type DemoServer, type DemoServiceName, type LatencyOptions } from './types.js'
import { startUsers } from './users.js'

export { startAuth } from './auth.js'
export { startInference } from './inference.js'
export { startSlow } from './slow.js'
export type { DemoServer, DemoServiceName, LatencyOptions, ListenOptions } from './types.js'
export { DEMO_SERVICE_NAMES } from './types.js'
export { startUsers } from './users.js'

/**
 * Options of {@link startDemoServices}.
 *
 * @example
 *   const opts: DemoServicesOptions = { basePort: 9101, latency: { inferenceMs: 50 } }
 */
export interface DemoServicesOptions {
  /** address every service binds (default `127.0.0.1`) */
  host?: string
  /**
   * First of six consecutive ports, assigned in {@link DEMO_SERVICE_NAMES} order
   * (9101 → inference-a … 9106 → auth), so printed curl lines stay the same from run to run.
   * 0 or absent: each service gets a free port.
   */
  basePort?: number
  latency?: LatencyOptions
}

/**
 * The running demo stack.
 *
 * @example
 *   const stack: DemoServices = await startDemoServices()
 *   stack.services['users-1'].url
 */
export interface DemoServices {
  services: Record<DemoServiceName, DemoServer>
  /** closes every service; safe to call twice */
  close(): Promise<void>
}

/**
 * Starts all six demo services. If any fails to start (a fixed port already in use, say), the
 * ones that did start are closed again and the first error is thrown, so nothing leaks.
 *
 * @example
 *   const stack = await startDemoServices({ basePort: 9101 })
 *   console.log(`curl -X POST ${stack.services['inference-a'].url}/infer -d '{"prompt":"hi"}'`)
 *   await stack.close()
 */
export async function startDemoServices(opts: DemoServicesOptions = {}): Promise<DemoServices> {
  const base = opts.basePort ?? 0
  if (!Number.isInteger(base) || base < 0 || base + DEMO_SERVICE_NAMES.length - 1 > 65_535) {
    throw new RangeError(`basePort must be 0 or a port with room for ${DEMO_SERVICE_NAMES.length} more`)
  }
  const listen = (name: DemoServiceName) => ({
    name,
    host: opts.host,
    port: base === 0 ? 0 : base + DEMO_SERVICE_NAMES.indexOf(name),
  })
  // undefined latencies fall through to each service's own default
  const inference = { latencyMs: opts.latency?.inferenceMs, jitterMs: opts.latency?.jitterMs }
  const starters: Record<DemoServiceName, () => Promise<DemoServer>> = {
    'inference-a': () => startInference({ ...listen('inference-a'), model: 'python', ...inference }),
    'inference-b': () => startInference({ ...listen('inference-b'), model: 'node', ...inference }),
    'users-1': () => startUsers(listen('users-1')),
    'users-2': () => startUsers(listen('users-2')),
    slow: () => startSlow({ ...listen('slow'), slowMs: opts.latency?.slowMs }),
    auth: () => startAuth(listen('auth')),
  }

  const results = await Promise.allSettled(DEMO_SERVICE_NAMES.map((name) => starters[name]()))
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failure) {
    await Promise.all(started.map((s) => s.close()))
    throw failure.reason
  }

  const services = Object.fromEntries(started.map((s) => [s.name, s])) as Record<DemoServiceName, DemoServer>
  let closing: Promise<void> | undefined
  return {
    services,
    close: () => (closing ??= Promise.all(started.map((s) => s.close())).then(() => undefined)),
  }
}
