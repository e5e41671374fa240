/**
 * Shapes shared by every demo microservice. Each service module exports one
 * `start…(opts) → Promise<DemoServer>` function; `index.ts` starts them all.
 */

/**
 * A running demo service: where it listens and how to stop it.
 *
 * @example
 *   const slow = await startSlow({ port: 0 })
 *   await fetch(`${slow.url}/slow`)   // slow.url is e.g. http://127.0.0.1:41234
 *   await slow.close()
 */
export interface DemoServer {
  /** instance name, also sent as `X-Instance` on every response (e.g. `users-1`) */
  name: string
  /** base URL without a trailing slash, e.g. `http://127.0.0.1:9103` */
  url: string
  /** the port actually bound (useful when asked for port 0) */
  port: number
  /** stops listening and drops idle and in-flight connections; safe to call twice */
  close(): Promise<void>
}

/**
 * Listen options every `start…` function accepts.
 *
 * @example
 *   const opts: ListenOptions = { host: '127.0.0.1', port: 0 }
 */
export interface ListenOptions {
  /** address to bind; loopback by default because the demo is not meant to be reachable */
  host?: string
  /** port to bind; 0 (the default) picks a free one */
  port?: number
}

/**
 * Latency knobs for the demo stack, so a load test can model fast and slow backends.
 *
 * @example
 *   await startDemoServices({ latency: { inferenceMs: 5, jitterMs: 0, slowMs: 20 } })
 */
export interface LatencyOptions {
  /** base delay of `POST /infer` on both inference services (default 50) */
  inferenceMs?: number
  /** extra random delay in `[0, jitterMs]` added to each inference (default 0) */
  jitterMs?: number
  /** delay of `GET /slow` (default 120) */
  slowMs?: number
}

/**
 * The seven instances of the demo stack, in the order their fixed ports are assigned (9101 →
 * inference-a … 9107 → inference-flaky). `inference-flaky` is a second node model behind the
 * same upstream as inference-b, switched to fail with `POST /admin/fail` (or started failing
 * with `PORTICO_DEMO_FLAKY_FAIL=1`): the circuit breaker's demo.
 */
export const DEMO_SERVICE_NAMES = [
  'inference-a',
  'inference-b',
  'users-1',
  'users-2',
  'slow',
  'auth',
  'inference-flaky',
] as const

/**
 * One of {@link DEMO_SERVICE_NAMES}.
 *
 * @example
 *   const name: DemoServiceName = 'users-2'
 */
export type DemoServiceName = (typeof DEMO_SERVICE_NAMES)[number]
