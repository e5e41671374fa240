import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { canonicalHost } from '../../src/control-plane/addresses.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'
import { get, RawClient } from '../fixtures/raw-http.js'

const TOKEN = 'a-long-enough-admin-token'

function post(path: string, host: string, body: string, ...lines: string[]): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n${body}`
  )
}

describe('edges: Admin API against browsers (DNS rebinding, cross-site writes)', () => {
  let a: AdminNode
  let withToken: AdminNode
  before(async () => {
    a = await adminNode()
    withToken = await adminNode({ adminToken: TOKEN })
  })
  after(async () => {
    await a.stop()
    await withToken.stop()
  })
  const services = async () => ((await a.req('GET', '/services')).body.data as unknown[]).length

  test('a cross-site form POST (Host and Origin evil.example) is refused and creates nothing', async () => {
    const c = await RawClient.open(a.node.admin!.port)
    const r = await c.request(
      post('/services', 'evil.example', 'name=pwn&url=http://127.0.0.1:9', 'Origin: http://evil.example'),
    )
    assert.equal(r.status, 403)
    assert.match(r.body, /Host 'evil.example' is not an address of this Admin API/)
    const read = await c.request(get('/services', 'evil.example:8001'))
    assert.equal(read.status, 403, 'a rebinding page cannot read either')
    const own = await c.request(get('/services', `127.0.0.1:${a.node.admin!.port}`))
    assert.equal(own.status, 200, 'the next request on the connection gets its own answer')
    c.close()
    assert.equal(await services(), 0)
  })

  test('loopback Host, foreign Origin: the write is refused; Sec-Fetch-Site cross-site too', async () => {
    const host = `127.0.0.1:${a.node.admin!.port}`
    const c = await RawClient.open(a.node.admin!.port)
    const cases = [
      ['Origin: http://evil.example'],
      ['Origin: null'],
      ['Sec-Fetch-Site: cross-site'],
      [`Origin: http://localhost:${a.node.admin!.port}`], // another origin than the Host's
    ]
    for (const lines of cases) {
      const r = await c.request(post('/services', host, 'name=pwn&url=http://127.0.0.1:9', ...lines))
      assert.equal(r.status, 403, lines.join())
      assert.match(r.body, /cross-origin write/)
    }
    const readable = await c.request(get('/services', host, 'Origin: http://evil.example'))
    assert.equal(readable.status, 200, 'reads carry no side effect (and CORS keeps the page out)')
    c.close()
    assert.equal(await services(), 0)
  })

  test('the admin itself: same-origin browser writes and tools without Origin are served', async () => {
    const port = a.node.admin!.port
    const c = await RawClient.open(port)
    const same = await c.request(
      post(
        '/services',
        `localhost:${port}`,
        'name=ui&url=http://127.0.0.1:9',
        `Origin: http://localhost:${port}`,
      ),
    )
    assert.equal(same.status, 201)
    const curl = await c.request(post('/services', `127.0.0.1:${port}`, 'name=cli&url=http://127.0.0.1:9'))
    assert.equal(curl.status, 201)
    const v6 = await c.request(get('/services', `[::1]:${port}`))
    assert.equal(v6.status, 200)
    c.close()
    assert.equal(await services(), 2)
  })

  test('with a token, a cross-origin write that carries it is served (no page can add it)', async () => {
    const port = withToken.node.admin!.port
    const c = await RawClient.open(port)
    const none = await c.request(post('/services', 'evil.example', 'name=x&url=http://127.0.0.1:9'))
    assert.equal(none.status, 401)
    const ok = await c.request(
      post(
        '/services',
        'admin.example',
        'name=x&url=http://127.0.0.1:9',
        'Origin: https://dash.example',
        `Authorization: Bearer ${TOKEN}`,
      ),
    )
    assert.equal(ok.status, 201)
    c.close()
  })

  test('a YAML alias bomb on POST /config is a 400 and the node keeps serving', async () => {
    let yaml = '_format_version: "3.0"\na: &a ["x","x","x","x","x","x","x","x","x"]\n'
    let prev = 'a'
    for (const n of 'bcdefghi') {
      yaml += `${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]\n`
      prev = n
    }
    const r = await a.req('POST', '/config', yaml, { headers: { 'content-type': 'application/x-yaml' } })
    assert.equal(r.status, 400)
    assert.match(r.text, /Excessive alias count/)
    assert.equal((await a.req('GET', '/')).status, 200)
    assert.equal(await services(), 2, 'nothing was applied')
  })
})

describe('edges: service hosts in every IPv4 spelling (SSRF)', () => {
  let open: AdminNode
  let listed: AdminNode
  before(async () => {
    open = await adminNode()
    listed = await adminNode({ adminAllowedUpstreams: '10.0.0.0/8' })
  })
  after(async () => {
    await open.stop()
    await listed.stop()
  })

  // spellings the hostname schema lets through are caught by the address policy; the others
  // (numbers that do not look like a hostname) by the schema: a 400 on `host` either way
  const metadata: Array<[string, RegExp]> = [
    ['169.254.169.254', /link-local or metadata address/],
    ['0xa9fea9fe', /link-local or metadata address/],
    ['0xA9.0xFE.0xA9.0xFE', /link-local or metadata address/],
    ['[::ffff:a9fe:a9fe]', /link-local or metadata address/],
    ['[::ffff:169.254.169.254]', /link-local or metadata address/],
    ['[::a9fe:a9fe]', /link-local or metadata address/],
    ['[64:ff9b::a9fe:a9fe]', /link-local or metadata address/],
    ['0251.0376.0251.0376', /not a valid hostname or IP address/],
    ['2852039166', /not a valid hostname or IP address/],
    ['169.254.43518', /not a valid hostname or IP address/],
    ['169.254.169.254.', /not a valid hostname or IP address/],
  ]
  for (const [host, message] of metadata) {
    test(`the metadata address written ${host} is refused with a 400 on host`, async () => {
      const r = await open.req('POST', '/services', { name: 'm', host, port: 80 })
      assert.equal(r.status, 400, JSON.stringify(r.body))
      assert.match(String((r.body.fields as { host: string }).host), message)
    })
  }

  test('an allow list is checked against the address, not its spelling', async () => {
    for (const host of ['0x7f000001', '0x7F.0x0.0x0.0x1', '[::ffff:7f00:1]']) {
      const r = await listed.req('POST', '/services', { host, port: 80 })
      assert.equal(r.status, 400, host)
      assert.match(String((r.body.fields as { host: string }).host), /not in the allowed upstreams/)
    }
    const inside = await listed.req('POST', '/services', { name: 'in', host: '0x0a000001', port: 80 })
    assert.equal(inside.status, 201, '10.0.0.1 however spelled is in 10.0.0.0/8')
    const target = await listed.req('POST', '/upstreams', { name: 'u' })
    assert.equal(target.status, 201)
    const t = await listed.req('POST', '/upstreams/u/targets', { target: '0x7f000001:80' })
    assert.equal(t.status, 400)
    assert.match(String((t.body.fields as { target: string }).target), /not in the allowed upstreams/)
  })

  test('canonicalHost: one spelling per address', () => {
    assert.equal(canonicalHost('0x7f.1'), '127.0.0.1')
    assert.equal(canonicalHost('[::FFFF:7F00:1]'), '127.0.0.1')
    assert.equal(canonicalHost('::1'), '::1')
    assert.equal(canonicalHost('Example.COM.'), 'example.com')
    assert.equal(canonicalHost('deadbeef'), 'deadbeef', 'a name, not a number')
  })
})

describe("edges: the proxy's /healthz keeps internal detail on the status listener", () => {
  let up: Upstream
  let a: AdminNode
  before(async () => {
    up = await upstream('up')
    a = await adminNode({ status: { host: '127.0.0.1', port: 0 } })
    await a.req('POST', '/upstreams', { name: 'users.internal' })
    await a.req('POST', '/upstreams/users.internal/targets', { target: `127.0.0.1:${up.port}` })
  })
  after(async () => {
    await a.stop()
    await up.close()
  })

  test('proxy: ok, uptime, healthy per upstream; status listener: targets and config', async () => {
    const c = await RawClient.open(a.node.proxy.port)
    const pub = await c.request(get('/healthz', 'gw.example'))
    assert.equal(pub.status, 200)
    const body = JSON.parse(pub.body) as Record<string, unknown>
    assert.deepEqual(Object.keys(body).sort(), ['status', 'upstreams', 'uptime_s'])
    assert.deepEqual(body.upstreams, [{ name: 'users.internal', healthy: true }])
    assert.ok(!pub.body.includes(String(up.port)), 'no target address')
    assert.equal((await c.request(get('/health', 'gw.example'))).status, 200, 'next request, own answer')
    c.close()
    const internal = (await call(`http://127.0.0.1:${a.node.status!.port}/healthz`)).json() as {
      config: { hash: string }
      upstreams: Array<{ targets: Array<{ target: string }> }>
    }
    assert.equal(internal.upstreams[0]?.targets[0]?.target, `127.0.0.1:${up.port}`)
    assert.match(internal.config.hash, /\w+/)
  })
})
