import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { testPlugin } from '../fixtures/plugins.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** node settings: the shared Redis under a fresh key prefix (counters of earlier runs stay out) */
const withRedis = (extra: Record<string, unknown> = {}) => ({
  redisUrl: REDIS_URL,
  keyPrefix: `rltest:${randomUUID()}:`,
  ...extra,
})

/** Stands in for an auth plugin: the consumer and credential come from test headers. */
const fakeAuth = testPlugin('fake-auth', 1000, () => ({
  access(ctx) {
    const c = ctx.header('x-consumer')
    const k = ctx.header('x-credential')
    if (c !== undefined) ctx.consumer = { id: c }
    if (k !== undefined) ctx.credential = { id: k, identifier: k }
    return undefined
  },
}))

const route = (name: string, config: Record<string, unknown>, extra = '') => `
      - name: ${name}
        paths: [/${name}]
        ${extra}
        plugins:
          - name: rate-limiting
            config: ${JSON.stringify(config)}`

const doc = (url: string, routes: string, withAuth = false) => `
_format_version: "3.0"
${withAuth ? 'plugins:\n  - name: fake-auth\n' : ''}
services:
  - name: s
    url: ${url}
    routes:${routes}
`

type Res = Awaited<ReturnType<typeof call>>
const hit = (gw: { url: string }, path: string, headers: Record<string, string> = {}): Promise<Res> =>
  call(`${gw.url}${path}`, { headers })
const statuses = async (n: number, f: () => Promise<Res>): Promise<number[]> => {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await f()).status)
  return out
}

describe('rate-limiting through a gateway', () => {
  let up: Upstream
  before(async () => {
    up = await upstream('up')
  })
  after(() => up.close())

  for (const policy of ['local', 'redis', 'cluster'] as const) {
    test(`${policy} policy: Kong's headers, the IETF fields, a 429 with Kong's body; refusals not counted`, async () => {
      const gw = await gateway(doc(up.url, route('a', { minute: 3, limit_by: 'ip', policy })), withRedis())
      try {
        const seenBefore = up.seen.length
        const ok = [await hit(gw, '/a'), await hit(gw, '/a'), await hit(gw, '/a')]
        ok.forEach((r, i) => {
          assert.equal(r.status, 200)
          assert.equal(r.headers['x-ratelimit-limit-minute'], '3')
          assert.equal(r.headers['x-ratelimit-remaining-minute'], String(2 - i))
          assert.equal(r.headers['ratelimit-limit'], '3')
          assert.equal(r.headers['ratelimit-remaining'], String(2 - i))
          const reset = Number(r.headers['ratelimit-reset'])
          assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset ${reset}`)
          assert.equal(r.headers['ratelimit-policy'], '"ip-minute";q=3;w=60')
          assert.equal(r.headers.ratelimit, `"ip-minute";r=${2 - i};t=${reset}`)
          assert.equal(r.headers['retry-after'], undefined)
        })
        for (let i = 0; i < 3; i++) {
          const r = await hit(gw, '/a')
          assert.equal(r.status, 429)
          // Kong's kong.response.error body: the message and the request id
          assert.deepEqual(r.json(), {
            message: 'API rate limit exceeded',
            request_id: r.headers['x-request-id'],
          })
          assert.match(String(r.headers['content-type']), /^application\/json/)
          assert.equal(r.headers['x-ratelimit-remaining-minute'], '0')
          assert.equal(r.headers['ratelimit-remaining'], '0')
          assert.equal(r.headers['ratelimit-scope'], 'ip')
          const retry = Number(r.headers['retry-after'])
          assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`)
          assert.equal(r.headers['ratelimit-reset'], String(retry))
        }
        assert.equal(up.seen.length - seenBefore, 3, 'the upstream saw only the admitted requests')
      } finally {
        await gw.stop()
      }
    })
  }

  test('several windows: one header pair each; RateLimit-* reports the most constrained', async () => {
    // the test spans about two seconds of fixed windows: start clear of a minute boundary, or
    // the minute window would reset in the middle of it
    const intoMinute = Date.now() % 60_000
    if (intoMinute > 55_000) await sleep(60_000 - intoMinute + 200)
    const gw = await gateway(
      doc(up.url, route('w', { second: 2, minute: 3, hour: 100, limit_by: 'ip', policy: 'redis' })),
      withRedis(),
    )
    try {
      const r1 = await hit(gw, '/w')
      assert.equal(r1.headers['x-ratelimit-limit-second'], '2')
      assert.equal(r1.headers['x-ratelimit-remaining-second'], '1')
      assert.equal(r1.headers['x-ratelimit-limit-minute'], '3')
      assert.equal(r1.headers['x-ratelimit-remaining-minute'], '2')
      assert.equal(r1.headers['x-ratelimit-limit-hour'], '100')
      assert.equal(r1.headers['x-ratelimit-remaining-hour'], '99')
      // the second window has the fewest left
      assert.equal(r1.headers['ratelimit-limit'], '2')
      assert.equal(r1.headers['ratelimit-remaining'], '1')
      assert.equal(r1.headers['ratelimit-reset'], '1')
      assert.equal(
        r1.headers['ratelimit-policy'],
        '"ip-second";q=2;w=1, "ip-minute";q=3;w=60, "ip-hour";q=100;w=3600',
      )
      await sleep(1100)
      // a tie (1 left in the second and in the minute) goes to the longer window, as in Kong
      const r2 = await hit(gw, '/w')
      assert.equal(r2.headers['ratelimit-limit'], '3')
      assert.equal(r2.headers['ratelimit-remaining'], '1')
      await hit(gw, '/w')
      const refused = await hit(gw, '/w')
      assert.equal(refused.status, 429)
      assert.equal(refused.headers['ratelimit-limit'], '3', 'the minute refused it')
      assert.equal(refused.headers['retry-after'], refused.headers['ratelimit-reset'])
      // the refused request was not counted in the window that had room
      assert.equal(refused.headers['x-ratelimit-remaining-hour'], '97')
    } finally {
      await gw.stop()
    }
  })

  test('limit_by consumer, credential, ip, service, header and path; fallbacks to the client IP', async () => {
    const routes = [
      route('consumer', { minute: 1, limit_by: 'consumer' }),
      route('credential', { minute: 1, limit_by: 'credential', policy: 'redis' }),
      route('ip', { minute: 1, limit_by: 'ip' }),
      route('header', { minute: 1, limit_by: 'header', header_name: 'X-Api-Key', policy: 'redis' }),
      route('path', { minute: 1, limit_by: 'path', path: '/path/one' }),
    ].join('')
    const gw = await gateway(
      `${doc(up.url, routes, true)}
  - name: other
    url: ${up.url}
    routes:
      - { name: svc-a, paths: [/svc-a] }
      - { name: svc-b, paths: [/svc-b] }
    plugins:
      - name: rate-limiting
        config: { minute: 1, limit_by: service, policy: redis }
  - name: third
    url: ${up.url}
    routes:
      - { name: svc-c, paths: [/svc-c] }
    plugins:
      - name: rate-limiting
        config: { minute: 1, limit_by: service, policy: redis }
`,
      withRedis({ trustedIps: '127.0.0.1' }),
      [fakeAuth],
    )
    const from = (ip: string, h: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...h })
    try {
      // consumer: one counter per consumer; a credential stands in when there is no consumer
      assert.equal((await hit(gw, '/consumer', from('1.1.1.1', { 'x-consumer': 'alice' }))).status, 200)
      assert.equal((await hit(gw, '/consumer', from('1.1.1.2', { 'x-consumer': 'alice' }))).status, 429)
      assert.equal((await hit(gw, '/consumer', from('1.1.1.1', { 'x-consumer': 'bob' }))).status, 200)
      assert.equal((await hit(gw, '/consumer', from('1.1.1.3', { 'x-credential': 'k1' }))).status, 200)
      assert.equal((await hit(gw, '/consumer', from('1.1.1.4', { 'x-credential': 'k1' }))).status, 429)
      assert.equal((await hit(gw, '/consumer', from('9.9.9.9'))).status, 200, 'no consumer: by IP')
      assert.equal((await hit(gw, '/consumer', from('9.9.9.9'))).status, 429)
      // credential
      assert.equal((await hit(gw, '/credential', from('2.2.2.1', { 'x-credential': 'k1' }))).status, 200)
      assert.equal((await hit(gw, '/credential', from('2.2.2.2', { 'x-credential': 'k1' }))).status, 429)
      assert.equal((await hit(gw, '/credential', from('2.2.2.1', { 'x-credential': 'k2' }))).status, 200)
      assert.equal((await hit(gw, '/credential', from('2.2.2.9'))).status, 200, 'no credential: by IP')
      // ip: the client address (X-Forwarded-For from a trusted proxy)
      assert.equal((await hit(gw, '/ip', from('3.3.3.1'))).status, 200)
      assert.equal((await hit(gw, '/ip', from('3.3.3.1', { 'x-consumer': 'carol' }))).status, 429)
      assert.equal((await hit(gw, '/ip', from('3.3.3.2'))).status, 200)
      // header
      assert.equal((await hit(gw, '/header', from('4.4.4.1', { 'x-api-key': 'K' }))).status, 200)
      assert.equal((await hit(gw, '/header', from('4.4.4.2', { 'x-api-key': 'K' }))).status, 429)
      assert.equal((await hit(gw, '/header', from('4.4.4.1', { 'x-api-key': 'L' }))).status, 200)
      assert.equal((await hit(gw, '/header', from('4.4.4.3'))).status, 200, 'no header: by IP')
      assert.equal((await hit(gw, '/header', from('4.4.4.3'))).status, 429)
      // path: the configured path is one counter whoever calls; other paths count by IP
      assert.equal((await hit(gw, '/path/one', from('5.5.5.1'))).status, 200)
      assert.equal((await hit(gw, '/path/one', from('5.5.5.2'))).status, 429)
      assert.equal((await hit(gw, '/path/two', from('5.5.5.1'))).status, 200)
      assert.equal((await hit(gw, '/path/two', from('5.5.5.1'))).status, 429)
      // service: routes of one service share the counter; another service has its own
      assert.equal((await hit(gw, '/svc-a', from('6.6.6.1'))).status, 200)
      const shared = await hit(gw, '/svc-b', from('6.6.6.2'))
      assert.equal(shared.status, 429)
      assert.equal(shared.headers['ratelimit-scope'], 'global')
      assert.equal((await hit(gw, '/svc-c', from('6.6.6.1'))).status, 200)
    } finally {
      await gw.stop()
    }
  })

  test('error_code, error_message and hide_client_headers', async () => {
    const gw = await gateway(
      doc(
        up.url,
        route('custom', { minute: 1, limit_by: 'ip', error_code: 503, error_message: 'slow down' }) +
          route('hidden', { minute: 1, limit_by: 'ip', hide_client_headers: true, policy: 'redis' }),
      ),
      withRedis(),
    )
    try {
      await hit(gw, '/custom')
      const r = await hit(gw, '/custom')
      assert.equal(r.status, 503)
      assert.equal((r.json() as { message: string }).message, 'slow down')
      const ok = await hit(gw, '/hidden')
      assert.equal(ok.status, 200)
      const refused = await hit(gw, '/hidden')
      assert.equal(refused.status, 429)
      for (const res of [ok, refused]) {
        const names = Object.keys(res.headers).filter((h) => h.includes('ratelimit'))
        assert.deepEqual(names, [], 'no rate-limit headers')
      }
      assert.equal(
        refused.headers['retry-after'],
        undefined,
        "Kong's hide_client_headers hides Retry-After too",
      )
    } finally {
      await gw.stop()
    }
  })

  for (const policy of ['local', 'redis'] as const) {
    test(`${policy}: token bucket (burst then rate) and sliding window through the gateway`, async () => {
      const gw = await gateway(
        doc(
          up.url,
          route('tb', { second: 2, burst: 4, algorithm: 'token-bucket', limit_by: 'ip', policy }) +
            route('sw', { minute: 3, algorithm: 'sliding-window', limit_by: 'ip', policy }),
        ),
        withRedis(),
      )
      try {
        const tb = await statuses(6, () => hit(gw, '/tb'))
        assert.deepEqual(tb, [200, 200, 200, 200, 429, 429], 'a burst of 4, then the rate')
        const r = await hit(gw, '/tb')
        assert.equal(r.headers['retry-after'], '1')
        assert.equal(r.headers['x-ratelimit-limit-second'], '2')
        assert.equal(r.headers['ratelimit-policy'], '"ip-second";q=2;w=1')
        const sw = await statuses(5, () => hit(gw, '/sw'))
        assert.deepEqual(sw, [200, 200, 200, 429, 429])
      } finally {
        await gw.stop()
      }
    })
  }

  test('policy redis without a Redis refuses to load, naming what is missing', async () => {
    await assert.rejects(
      gateway(doc(up.url, route('r', { minute: 1, policy: 'redis' })), { redisUrl: undefined }),
      /needs Redis: set PORTICO_REDIS_URL/,
    )
  })
})
