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
   * First of seven consecutive ports, assigned in {@link DEMO_SERVICE_NAMES} order
   * (9101 → inference-a … 9107 → inference-flaky), so printed curl lines stay the same from run to run.
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
 * Starts all seven demo services. If any fails to start (a fixed port already in use, say), the
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
  const port = (name: DemoServiceName) => (base === 0 ? 0 : base + DEMO_SERVICE_NAMES.indexOf(name))
  const results = await Promise.allSettled(
    DEMO_SERVICE_NAMES.map((name) =>
      startDemoService(name, { host: opts.host, port: port(name), latency: opts.latency }),
    ),
  )
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

/**
 * Starts one demo service by name: what `portico demo-service NAME` runs, one per container in
 * the compose demo, and what {@link startDemoServices} runs seven times.
 *
 * @example
 *   const users = await startDemoService('users-1', { host: '0.0.0.0', port: 9103 })
 */
export function startDemoService(
  name: DemoServiceName,
  opts: { host?: string | undefined; port?: number; latency?: LatencyOptions | undefined },
): Promise<DemoServer> {
  const listen = { name, host: opts.host, port: opts.port ?? 0 }
  // undefined latencies fall through to each service's own default
  const inference = { latencyMs: opts.latency?.inferenceMs, jitterMs: opts.latency?.jitterMs }
  switch (name) {
    case 'inference-a':
      return startInference({ ...listen, model: 'python', ...inference })
    case 'inference-b':
      return startInference({ ...listen, model: 'node', ...inference })
    case 'inference-flaky':
      return startInference({
        ...listen,
        model: 'node',
        ...inference,
        failing: process.env.PORTICO_DEMO_FLAKY_FAIL === '1',
      })
    case 'users-1':
    case 'users-2':
      return startUsers(listen)
    case 'slow':
      return startSlow({ ...listen, slowMs: opts.latency?.slowMs })
    case 'auth':
      return startAuth(listen)
  }
}
