import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { call, gateway, type Upstream, upstream } from '../fixtures/helpers.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A global limit and a per-client limit on one route: two instances with their own names. */
const doc = (url: string, policy: string) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - name: limited
        paths: [/limited]
        plugins:
          - name: rate-limiting
            instance_name: a-global
            config: { minute: 5, limit_by: service, policy: ${policy} }
          - name: rate-limiting
            instance_name: b-client
            config: { minute: 2, limit_by: ip, policy: ${policy}, scope_name: client }
      - name: other
        paths: [/other]
plugins:
  - name: rate-limiting
    config: { minute: 1, limit_by: ip, policy: ${policy}, scope_name: everywhere }
`

describe('a global and a per-client limit compose on one route', () => {
  let up: Upstream
  before(async () => {
    up = await upstream('up')
  })
  after(() => up.close())

  for (const policy of ['local', 'redis']) {
    test(`${policy}: each scope refuses on its own; a refused request gives back what it took`, async () => {
      const gw = await gateway(doc(up.url, policy), {
        redisUrl: REDIS_URL,
        keyPrefix: `rltest:${randomUUID()}:`,
        trustedIps: '127.0.0.1',
      })
      const from = (ip: string) => call(`${gw.url}/limited`, { headers: { 'x-forwarded-for': ip } })
      try {
        const first = await from('1.1.1.1')
        assert.equal(first.status, 200)
        // one header per name: the lower remaining of the two instances wins
        assert.equal(first.headers['x-ratelimit-limit-minute'], '2')
        assert.equal(first.headers['x-ratelimit-remaining-minute'], '1')
        assert.equal(first.headers['ratelimit-limit'], '2')
        assert.equal(first.headers['ratelimit-remaining'], '1')
        assert.equal(first.headers['ratelimit-policy'], '"global-minute";q=5;w=60, "client-minute";q=2;w=60')
        assert.match(
          String(first.headers.ratelimit),
          /^"global-minute";r=4;t=\d+, "client-minute";r=1;t=\d+$/,
        )

        // client A goes over its own limit: refused by the client scope, 8 times
        assert.equal((await from('1.1.1.1')).status, 200)
        for (let i = 0; i < 8; i++) {
          const r = await from('1.1.1.1')
          assert.equal(r.status, 429)
          assert.equal(r.headers['ratelimit-scope'], 'client')
          assert.equal(r.headers['x-ratelimit-remaining-minute'], '0')
        }
        // A's refusals did not use the global budget: B and C still fit in it (2 + 2 + 1 = 5)
        assert.equal((await from('2.2.2.2')).status, 200)
        assert.equal((await from('2.2.2.2')).status, 200)
        assert.equal((await from('3.3.3.3')).status, 200)
        const d = await from('4.4.4.4')
        assert.equal(d.status, 429)
        assert.equal(d.headers['ratelimit-scope'], 'global')
        // the global instance (everywhere else) still applies to other routes
        assert.equal((await call(`${gw.url}/other`)).status, 200)
        const other = await call(`${gw.url}/other`)
        assert.equal(other.status, 429)
        assert.equal(other.headers['ratelimit-scope'], 'everywhere')
      } finally {
        await gw.stop()
      }
    })
  }
})
