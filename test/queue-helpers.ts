import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { REQUEST_QUEUE_STATS, type RequestQueueStats } from '../src/core/services.js'
import type { PorticoNode } from '../src/main.js'

/**
 * An upstream that counts the requests it is serving at once and holds every request carrying
 * `x-hold` until the test lets it go, so a test decides when slots free up (never a timer).
 * `x-fail` makes it cut the connection without an answer.
 */
export interface HoldingUpstream {
  url: string
  port: number
  /** requests being served right now, and the most at once so far */
  inflight: number
  max: number
  /** `x-n` of every request, in arrival order */
  order: string[]
  /** held requests, oldest first */
  held: Array<{ n: string; answer(): void }>
  /** answers the oldest held request */
  releaseOne(): void
  releaseAll(): void
  close(): Promise<void>
}

export async function holdingUpstream(): Promise<HoldingUpstream> {
  const up = {
    inflight: 0,
    max: 0,
    order: [] as string[],
    held: [] as Array<{ n: string; answer(): void }>,
  }
  const server = http.createServer((req, res) => {
    up.inflight++
    up.max = Math.max(up.max, up.inflight)
    res.on('close', () => up.inflight--)
    const n = String(req.headers['x-n'] ?? '')
    up.order.push(n)
    req.resume()
    if (req.headers['x-fail'] !== undefined) {
      req.socket.destroy()
      return
    }
    const answer = (): void => {
      if (res.writableEnded || res.destroyed) return
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ n }))
    }
    if (req.headers['x-hold'] === undefined) return answer()
    const entry = { n, answer }
    up.held.push(entry)
    res.on('close', () => {
      const i = up.held.indexOf(entry)
      if (i !== -1) up.held.splice(i, 1)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return Object.assign(up, {
    url: `http://127.0.0.1:${port}`,
    port,
    releaseOne() {
      up.held.shift()?.answer()
    },
    releaseAll() {
      for (const h of up.held.splice(0)) h.answer()
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  })
}

/** Waits until `cond` holds (checked every 10 ms); fails with `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** The node's request-queue counters (created by the plugin). */
export function queueStats(node: PorticoNode): RequestQueueStats {
  return node.services.shared<RequestQueueStats>(REQUEST_QUEUE_STATS, () => {
    throw new Error('the request-queue plugin creates the stats')
  })
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  json: Record<string, unknown>
}

/** A request that may be cancelled: `abort()` closes the connection before the answer. */
export function send(
  url: string,
  headers: Record<string, string> = {},
): { done: Promise<Answer>; abort(): void } {
  const ac = new AbortController()
  const done = request(url, { headers, signal: ac.signal }).then(async (r) => {
    const text = await r.body.text()
    return { status: r.statusCode, headers: r.headers, json: text === '' ? {} : JSON.parse(text) }
  })
  return { done, abort: () => ac.abort() }
}
