import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the test server answers one request: status, body, headers, and an optional delay. */
export interface Reply {
  status?: number
  body?: string
  headers?: Record<string, string>
  /** ms to wait before answering */
  delay?: number
}

/** A real HTTP server on 127.0.0.1 and a free port, counting what reached it. */
export interface TestServer {
  url: string
  /** requests received so far */
  readonly count: number
  /** every request's path and headers, in arrival order */
  readonly seen: { path: string; headers: IncomingMessage['headers']; body: string }[]
  close(): Promise<void>
}

/**
 * Starts a server for the bench tests: load runs go against real sockets, and the server's own
 * count is what a run's `requests` is checked against.
 *
 * @example
 *   const srv = await startTestServer(() => ({ status: 200, body: 'ok' }))
 *   await runLoad({ request: { url: srv.url }, vus: 2, duration: 0.5 })
 *   srv.count // every request the run sent
 *   await srv.close()
 */
export async function startTestServer(
  reply: (req: IncomingMessage, n: number) => Reply,
): Promise<TestServer> {
  const seen: TestServer['seen'] = []
  const pending = new Set<NodeJS.Timeout>()
  let count = 0
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = count++
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body })
      const r = reply(req, n)
      const send = () => {
        res.writeHead(r.status ?? 200, { 'content-type': 'text/plain', ...r.headers })
        res.end(r.body ?? 'ok')
      }
      if (!r.delay) return send()
      // delayed answers are tracked so close() can drop them instead of keeping the process up
      const t = setTimeout(() => {
        pending.delete(t)
        send()
      }, r.delay)
      pending.add(t)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return count
    },
    seen,
    async close() {
      for (const t of pending) clearTimeout(t)
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}
