import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { RequestContext } from '../../src/core/context.js'
import { silentLogger } from '../../src/core/logger.js'
import { measure } from '../../src/observability/facts.js'
import { OtlpExporter } from '../../src/observability/otlp.js'
import { call, gateway, upstream } from '../fixtures/helpers.js'

const SHAPE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

interface Span {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string } }>
  status: { code: number }
}

/** A collector on port 0 that keeps every OTLP/HTTP JSON body it is sent. */
async function collector() {
  const bodies: Array<{ path: string; type: string | undefined; json: { resourceSpans: unknown[] } }> = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      bodies.push({
        path: req.url!,
        type: req.headers['content-type'],
        json: JSON.parse(Buffer.concat(chunks).toString()),
      })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const spans = (): Span[] =>
    bodies.flatMap((b) =>
      (b.json.resourceSpans as Array<{ scopeSpans: Array<{ spans: Span[] }> }>).flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans),
      ),
    )
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    spans,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

let up: Awaited<ReturnType<typeof upstream>>
before(async () => {
  up = await upstream('traced')
})
after(async () => {
  await up.close()
})

const CONFIG = () => `
_format_version: "3.0"
services:
  - name: traced
    url: ${'http://127.0.0.1:'}${up.port}
    routes: [{ name: traced-route, paths: [/t] }]
`

test('traceparent: created when absent, continued (same trace, new parent) when present, never duplicated', async () => {
  const node = await gateway(CONFIG())
  try {
    up.seen.length = 0
    await call(`${node.url}/t`)
    await call(`${node.url}/t`, { headers: { traceparent: CALLER, tracestate: 'vendor=1' } })
    await call(`${node.url}/t`, { headers: { traceparent: '00-not-a-valid-header-01' } })
    const [fresh, continued, repaired] = up.seen
    const count = (raw: string[]) =>
      raw.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'traceparent').length
    for (const s of up.seen) assert.equal(count(s.rawHeaders), 1)

    const f = SHAPE.exec(String(fresh!.headers.traceparent))!
    assert.ok(f, String(fresh!.headers.traceparent))
    assert.equal(f[3], '01')

    const c = SHAPE.exec(String(continued!.headers.traceparent))!
    assert.equal(c[1], '4bf92f3577b34da6a3ce929d0e0e4736')
    assert.notEqual(c[2], '00f067aa0ba902b7')
    assert.equal(c[3], '01')
    assert.equal(continued!.headers.tracestate, 'vendor=1')

    const r = SHAPE.exec(String(repaired!.headers.traceparent))!
    assert.ok(r)
    assert.notEqual(r[1], f[1])
  } finally {
    await node.stop()
  }
})

test('OTLP export: a server span per request and a client span for the upstream hop reach the collector', async () => {
  const col = await collector()
  const node = await gateway(CONFIG(), { otlpEndpoint: col.url })
  try {
    up.seen.length = 0
    assert.equal((await call(`${node.url}/t/a`)).status, 200)
    assert.equal((await call(`${node.url}/t/b`, { headers: { traceparent: CALLER } })).status, 200)
    assert.equal((await call(`${node.url}/nowhere`)).status, 404)
    await node.observability.otlp!.flush()
    for (let i = 0; i < 50 && col.spans().length < 5; i++) {
      await new Promise((r) => setTimeout(r, 20))
      await node.observability.otlp!.flush()
    }
    assert.equal(col.bodies[0]!.path, '/v1/traces')
    assert.equal(col.bodies[0]!.type, 'application/json')
    const spans = col.spans()
    assert.equal(spans.length, 5, JSON.stringify(spans, null, 1))
    const servers = spans.filter((s) => s.kind === 2)
    const clients = spans.filter((s) => s.kind === 3)
    assert.equal(servers.length, 3)
    assert.equal(clients.length, 2)
    const attr = (s: Span, k: string) => {
      const v = s.attributes.find((a) => a.key === k)?.value
      return v?.stringValue ?? v?.intValue
    }

    // each upstream saw the client span as its parent, in the server span's trace
    for (const [i, seen] of up.seen.entries()) {
      const [, traceId, parentId] = SHAPE.exec(String(seen.headers.traceparent))!
      const client = clients.find((s) => s.spanId === parentId)!
      assert.ok(client, `client span ${parentId}`)
      assert.equal(client.traceId, traceId)
      const server = servers.find((s) => s.spanId === client.parentSpanId)!
      assert.equal(server.traceId, traceId)
      assert.equal(attr(server, 'url.path'), i === 0 ? '/t/a' : '/t/b')
      assert.equal(attr(server, 'http.response.status_code'), '200')
      assert.equal(attr(server, 'http.route'), 'traced-route')
      assert.equal(attr(client, 'server.port'), String(up.port))
      assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano))
      assert.ok(BigInt(client.startTimeUnixNano) >= BigInt(server.startTimeUnixNano))
    }
    // the continued trace names the caller's span as parent
    const continued = servers.find((s) => attr(s, 'url.path') === '/t/b')!
    assert.equal(continued.traceId, '4bf92f3577b34da6a3ce929d0e0e4736')
    assert.equal(continued.parentSpanId, '00f067aa0ba902b7')
    // no upstream hop: only the server span, in a new trace
    const unmatched = servers.find((s) => attr(s, 'url.path') === '/nowhere')!
    assert.equal(attr(unmatched, 'http.response.status_code'), '404')
    assert.equal(unmatched.parentSpanId, undefined)
    assert.equal(node.observability.otlp!.exported, 3) // counted by request
  } finally {
    await node.stop()
    await col.close()
  }
})

test('OTLP queue is bounded and a dead collector drops spans without throwing', async () => {
  const otlp = new OtlpExporter({
    endpoint: 'http://127.0.0.1:1',
    maxPending: 3,
    batchSize: 100,
    log: silentLogger,
  })
  const req = { method: 'GET', headers: {}, socket: null } as never
  for (let i = 0; i < 5; i++) {
    const ctx = new RequestContext(req, {} as never, `r${i}`, performance.now())
    ctx.status = 200
    otlp.add(ctx, measure(ctx, performance.now()))
  }
  assert.equal(otlp.dropped, 2)
  await otlp.close()
  assert.equal(otlp.dropped, 5)
  assert.equal(otlp.exported, 0)
})
