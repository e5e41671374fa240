import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { z } from 'zod'
import { silentLogger } from '../../src/core/logger.js'
import type { PluginDefinition } from '../../src/core/plugin.js'
import { Gateway } from '../../src/data-plane/gateway.js'
import { createProxyServer, DEFAULT_SERVER_LIMITS, listen } from '../../src/data-plane/server.js'
import { TrustedProxies } from '../../src/data-plane/trust.js'
import { gateway } from '../fixtures/helpers.js'
import { parseExposition, value } from '../fixtures/metrics-text.js'

/** Opens a WebSocket; resolves with the handshake's status (101 when it opened) and the socket. */
function connect(url: string): Promise<{ status: number; ws: WebSocket; id: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url)
    let id = ''
    ws.on('upgrade', (res) => {
      id = String(res.headers['x-request-id'])
    })
    ws.on('open', () => resolve({ status: 101, ws, id }))
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, ws, id }))
    ws.on('error', () => resolve({ status: -1, ws, id }))
  })
}

function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (m) => resolve(m.toString()))
    ws.once('error', reject)
    ws.send(text)
  })
}

function closed(ws: WebSocket): Promise<void> {
  return new Promise((r) => {
    if (ws.readyState === WebSocket.CLOSED) return r()
    ws.once('close', () => r())
    ws.close()
  })
}

/** A plugin whose access phase waits for the test to open its gate; records when its instance closes. */
function gatePlugin() {
  const state = {
    entered: 0,
    release: () => {},
    closedInstances: 0,
    closedWhileWaiting: false,
    waiting: false,
  }
  const def: PluginDefinition = {
    name: 'test-gate',
    priority: 900,
    schema: z.strictObject({ tag: z.string().optional() }),
    create: () => ({
      access: () => {
        state.entered++
        state.waiting = true
        return new Promise<undefined>((r) => {
          state.release = () => {
            state.waiting = false
            r(undefined)
          }
        })
      },
      close: () => {
        state.closedInstances++
        if (state.waiting) state.closedWhileWaiting = true
      },
    }),
  }
  return { def, state }
}

/** The echo server behind route /ws, with plugin lines appended under `plugins:`. */
function wsConfig(port: number, plugins = ''): string {
  return `
_format_version: "3.0"
services:
  - name: ws
    url: http://127.0.0.1:${port}/socket
    routes: [{ name: ws, paths: [/ws] }]
${plugins === '' ? '' : `plugins:\n${plugins}`}`
}

const thrower: PluginDefinition = {
  name: 'test-throw',
  priority: 900,
  schema: z.strictObject({}),
  create: () => ({
    access: () => {
      throw new Error('plugin bug')
    },
  }),
}

describe('WebSocket upgrades', () => {
  let server: http.Server
  let wss: WebSocketServer
  let gw: Awaited<ReturnType<typeof gateway>>
  let seenPath = ''

  before(async () => {
    server = http.createServer()
    wss = new WebSocketServer({ server })
    wss.on('connection', (socket, req) => {
      seenPath = req.url ?? ''
      socket.on('message', (m) => socket.send(`echo:${m.toString()}`))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    gw = await gateway(`
_format_version: "3.0"
services:
  - name: ws
    url: http://127.0.0.1:${port}/socket
    routes: [{ name: ws, paths: [/ws] }]
`)
  })
  after(async () => {
    await gw.stop()
    for (const c of wss.clients) c.terminate()
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  })

  test('an upgrade passes both ways on the routed path', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxy.port}/ws/chat?room=1`)
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'))
      ws.on('message', (m) => resolve(m.toString()))
      ws.on('error', reject)
    })
    assert.equal(reply, 'echo:hello')
    assert.equal(seenPath, '/socket/chat?room=1')
    ws.close()
  })

  test('an upgrade on no route gets the 404 JSON', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxy.port}/nope`)
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => resolve(-1))
    })
    assert.equal(status, 404)
  })

  test('a WebSocket request is counted in /metrics and written to the access log when it closes', async () => {
    const port = (server.address() as AddressInfo).port
    const file = join(mkdtempSync(join(tmpdir(), 'portico-ws-log-')), 'access.log')
    const node = await gateway(
      wsConfig(port, '  - name: prometheus\n    config: { status_code_metrics: true }\n'),
      { accessLog: file },
    )
    let id = ''
    try {
      const opened = await connect(`ws://127.0.0.1:${node.proxy.port}/ws/chat`)
      const ws = opened.ws
      assert.equal(opened.status, 101)
      id = opened.id
      assert.match(id, /^[0-9a-f]{32}$/)
      assert.equal(await echo(ws, 'counted'), 'echo:counted')
      await closed(ws)
      let all = parseExposition('')
      for (let i = 0; i < 50; i++) {
        all = parseExposition(await (await fetch(`http://127.0.0.1:${node.status!.port}/metrics`)).text())
        if (value(all, 'portico_node_requests_total', { code_class: '1xx' }) === 1) break
        await new Promise((r) => setTimeout(r, 20))
      }
      assert.equal(value(all, 'portico_node_requests_total', { code_class: '1xx' }), 1)
      assert.equal(
        value(all, 'kong_http_requests_total', {
          service: 'ws',
          route: 'ws',
          code: '101',
          source: 'service',
          workspace: 'default',
          consumer: '',
        }),
        1,
      )
    } finally {
      await node.stop()
    }
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(lines.length, 1)
    assert.equal(lines[0].status, 101)
    assert.equal(lines[0].path, '/ws/chat')
    assert.equal(lines[0].route, 'ws')
    assert.equal(lines[0].target, `127.0.0.1:${port}`)
    assert.equal(lines[0].request_id, id)
  })

  test('a config swap during a handshake leaves the plugin instances under it open until it is done', async () => {
    const port = (server.address() as AddressInfo).port
    const { def, state } = gatePlugin()
    const config = (tag: string) => wsConfig(port, `  - name: test-gate\n    config: { tag: ${tag} }\n`)
    const node = await gateway(config('one'), {}, [def])
    try {
      const pending = connect(`ws://127.0.0.1:${node.proxy.port}/ws`)
      for (let i = 0; i < 200 && state.entered === 0; i++) await new Promise((r) => setTimeout(r, 10))
      assert.equal(state.entered, 1)
      writeFileSync(node.file!, config('two'))
      const loaded = await node.reload()
      assert.equal(loaded.ok, true, 'the new config applied')
      // the old runtime is retired but the handshake still runs on it
      assert.equal(state.closedInstances, 0)
      state.release()
      const { status, ws } = await pending
      assert.equal(status, 101)
      assert.equal(await echo(ws, 'after swap'), 'echo:after swap')
      assert.equal(state.closedWhileWaiting, false)
      assert.equal(state.closedInstances, 0, 'still in use by the open WebSocket')
      await closed(ws)
      for (let i = 0; i < 200 && state.closedInstances === 0; i++) await new Promise((r) => setTimeout(r, 10))
      assert.equal(state.closedInstances, 1, 'closed once the WebSocket ended')
    } finally {
      state.release()
      await node.stop()
    }
  })

  test('a plugin that throws during the handshake gives a 500', async () => {
    const port = (server.address() as AddressInfo).port
    const node = await gateway(wsConfig(port, '  - name: test-throw\n'), {}, [thrower])
    try {
      const { status } = await connect(`ws://127.0.0.1:${node.proxy.port}/ws`)
      assert.equal(status, 500)
    } finally {
      await node.stop()
    }
  })

  test("the upstream's X-Forwarded-Proto on a handshake is the listener's protocol", async () => {
    let proto: string | undefined
    wss.once('connection', (_socket, req) => {
      proto = String(req.headers['x-forwarded-proto'])
    })
    const g = new Gateway(
      gw.gateway.runtime,
      gw.gateway.limits,
      TrustedProxies.parse(undefined),
      silentLogger,
      'https',
    )
    const s = createProxyServer(g, DEFAULT_SERVER_LIMITS)
    const addr = await listen(s, '127.0.0.1', 0)
    try {
      const { status, ws } = await connect(`ws://127.0.0.1:${addr.port}/ws`)
      assert.equal(status, 101)
      await closed(ws)
      assert.equal(proto, 'https')
    } finally {
      s.closeAllConnections()
      await new Promise<void>((r) => s.close(() => r()))
    }
  })
})
