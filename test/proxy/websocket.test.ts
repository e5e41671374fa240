import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { gateway } from '../fixtures/helpers.js'

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
})
