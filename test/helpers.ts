import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { silentLogger } from '../src/core/logger.js'
import type { PluginDefinition } from '../src/core/plugin.js'
import { DEFAULT_SETTINGS, type NodeSettings, type PorticoNode, startNode } from '../src/main.js'
import { createRegistry } from '../src/plugins/index.js'

/** What an upstream test server saw of one request. */
export interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  rawHeaders: string[]
  body: Buffer
}

export interface Upstream {
  url: string
  port: number
  seen: Seen[]
  server: http.Server
  close(): Promise<void>
}

/**
 * A real HTTP server on 127.0.0.1:0 that records every request and answers with `respond`
 * (default: 200 JSON echo of method, url and its own name).
 */
export async function upstream(
  name: string,
  respond?: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void,
): Promise<Upstream> {
  const seen: Seen[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      })
      if (respond) return respond(req, res, body)
      const out = JSON.stringify({ name, method: req.method, url: req.url })
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name })
      res.end(out)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** Writes a declarative file into a fresh temp dir and returns its path. */
export function writeConfig(text: string, name = 'portico.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-test-'))
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

/** Starts a gateway node on loopback port 0 with a declarative config text. */
export async function gateway(
  config: string | null,
  overrides: Partial<NodeSettings> = {},
  plugins: PluginDefinition[] = [],
): Promise<PorticoNode & { url: string; file: string | undefined }> {
  const file = config === null ? undefined : writeConfig(config)
  const node = await startNode(
    {
      ...DEFAULT_SETTINGS,
      proxy: { host: '127.0.0.1', port: 0 },
      status: { host: '127.0.0.1', port: 0 },
      declarativeConfig: file,
      drainTimeoutMs: 5000,
      ...overrides,
    },
    silentLogger,
    createRegistry(plugins),
  )
  return Object.assign(node, { url: `http://127.0.0.1:${node.proxy.port}`, file })
}

/** GET (or any method) through undici, body read as text. */
export async function call(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: () => unknown
}> {
  const res = await request(url, {
    method: (opts.method ?? 'GET') as 'GET',
    headers: opts.headers,
    body: opts.body,
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
}

/**
 * Sends raw bytes on a fresh TCP connection and resolves with everything the server answered
 * (for requests a well-behaved client library refuses to send).
 */
export async function raw(port: number, data: string, waitMs = 1500): Promise<string> {
  const net = await import('node:net')
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let out = ''
    const done = () => {
      socket.destroy()
      resolve(out)
    }
    const timer = setTimeout(done, waitMs)
    socket.on('data', (d) => {
      out += d.toString('latin1')
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(out)
    })
    socket.on('error', () => {})
    socket.write(data)
  })
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
