import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import type { TargetEntity, UpstreamEntity } from '../../core/entities.js'
import { defaultUpstream } from './defaults.js'
import type { Balancer, Target } from './types.js'

/** Shared by the upstream tests: entities, real servers on port 0, polling. */

let ids = 0

/** An upstream with Kong's defaults; `tune` edits its healthchecks in place. */
export function upstream(
  overrides: Partial<UpstreamEntity> = {},
  tune?: (hc: UpstreamEntity['healthchecks']) => void,
): UpstreamEntity {
  const u = defaultUpstream({ id: `u-${++ids}`, name: `up-${ids}`, ...overrides })
  tune?.(u.healthchecks)
  return u
}

export function targets(u: UpstreamEntity, list: ReadonlyArray<readonly [string, number]>): TargetEntity[] {
  return list.map(([target, weight], i) => ({ id: `${u.id}-t${i}`, upstream: { id: u.id }, target, weight }))
}

export interface TestServer {
  readonly port: number
  readonly address: string
  readonly server: Server
  /** requests seen so far */
  hits: number
  close(): Promise<void>
}

/** A real HTTP server on 127.0.0.1 and a free port. */
export async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const server = createServer((req, res) => {
    s.hits++
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const s: TestServer = {
    port,
    address: `127.0.0.1:${port}`,
    server,
    hits: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  return s
}

/** Polls until `check` holds; fails after `timeoutMs` (generous: state changes, not speed, are tested). */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * One proxied attempt the way the runtime makes it: pick, count in flight, send, report the
 * outcome. Returns the target and the status (undefined when the connection failed).
 */
export async function send(
  balancer: Balancer,
  opts: { hashKey?: string; exclude?: Target } = {},
): Promise<{ target: Target | undefined; status: number | undefined }> {
  const target = balancer.pick({ hashKey: opts.hashKey }, opts.exclude)
  if (target === undefined) return { target, status: undefined }
  balancer.begin(target)
  try {
    const res = await request(`http://${target.address}/`, { reset: true })
    await res.body.dump()
    balancer.report(target, 'success', res.statusCode)
    return { target, status: res.statusCode }
  } catch {
    balancer.report(target, 'tcp_failure')
    return { target, status: undefined }
  } finally {
    balancer.end(target)
  }
}
