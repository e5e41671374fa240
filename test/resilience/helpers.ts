import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { call, gateway, sleep } from '../fixtures/helpers.js'
import { type ParsedSample, parseExposition } from '../fixtures/metrics-text.js'

export type Node = Awaited<ReturnType<typeof gateway>>

/**
 * An upstream whose answer a test switches: a status, a delay before answering, or holding
 * every request until released. Counts what it received.
 */
export interface Switchable {
  url: string
  host: string
  port: number
  /** requests received */
  calls: number
  status: number
  delayMs: number
  /** hold requests until {@link release} */
  hold: boolean
  held: number
  release(): void
  close(): Promise<void>
}

export async function switchable(name: string): Promise<Switchable> {
  const waiting: Array<() => void> = []
  const s: Switchable = {
    url: '',
    host: '127.0.0.1',
    port: 0,
    calls: 0,
    status: 200,
    delayMs: 0,
    hold: false,
    get held() {
      return waiting.length
    },
    release() {
      for (const w of waiting.splice(0)) w()
    },
    close: async () => {},
  }
  const server = http.createServer((req, res) => {
    s.calls++
    req.resume()
    const answer = () => {
      res.writeHead(s.status, { 'content-type': 'application/json', 'x-upstream': name })
      res.end(JSON.stringify({ name, status: s.status }))
    }
    if (s.hold) waiting.push(answer)
    else if (s.delayMs > 0) setTimeout(answer, s.delayMs)
    else answer()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  s.port = (server.address() as AddressInfo).port
  s.url = `http://127.0.0.1:${s.port}`
  s.close = () =>
    new Promise<void>((r) => {
      s.release()
      server.closeAllConnections()
      server.close(() => r())
    })
  return s
}

/** The Admin API of a node started with an admin listener. */
export async function admin(
  node: Node,
  method: string,
  path: string,
): Promise<{ status: number; body: unknown }> {
  const r = await call(`http://127.0.0.1:${node.admin!.port}${path}`, { method })
  return { status: r.status, body: r.text === '' ? null : JSON.parse(r.text) }
}

export interface BreakerView {
  id: string
  state: string
  mode: string
  target: string | null
  open_seconds: number
  retry_after_s: number
  counters: { calls: number; failures: number; slow: number; rejected: number; trials: number }
  transitions: Record<string, number>
}

export async function breakers(node: Node): Promise<BreakerView[]> {
  return ((await admin(node, 'GET', '/circuit-breakers')).body as { data: BreakerView[] }).data
}

export async function healthz(node: Node): Promise<{ circuit_breakers: BreakerView[] }> {
  return (await call(`http://127.0.0.1:${node.status!.port}/healthz`)).json() as {
    circuit_breakers: BreakerView[]
  }
}

export async function metrics(node: Node): Promise<ParsedSample[]> {
  return parseExposition((await call(`http://127.0.0.1:${node.status!.port}/metrics`)).text)
}

/** Polls `check` every 20 ms until it holds (at most `ms`); false when it never did. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await sleep(20)
  }
  return check()
}

/** `n` requests one after the other; their statuses. */
export async function statuses(url: string, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await call(url)).status)
  return out
}

export { call, gateway, sleep }
