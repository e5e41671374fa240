// Port of Kong 3.10 spec/03-plugins/23-rate-limiting/04-access_spec.lua, its per-policy
// (local, redis) and per-`limit_by` cases over HTTP: each case carries the name of the Kong
// `it(...)` it transcribes. Kong runs them once per policy; so does this file.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

for (const policy of ['local', 'redis'] as const) {
  describe(`Plugin: rate-limiting (access) [policy: ${policy}]`, () => {
    let echo: Upstream
    let gw: Awaited<ReturnType<typeof gateway>>
    const limitBy = ['ip', 'consumer', 'credential', 'service', 'header', 'path']
    before(async () => {
      echo = await kongEcho()
      const rl = (config: string) => `{ name: rate-limiting, config: { policy: ${policy}, ${config} } }`
      const routes = limitBy.map((by) => {
        const auth =
          by === 'consumer' || by === 'credential'
            ? ', { name: key-auth, config: { key_names: [test-key] } }'
            : ''
        return `  - { name: single-${by}, service: s, hosts: [${by}.test], plugins: [${rl(`minute: 6, limit_by: ${by}, path: /test, header_name: test-header`)}${auth}] }`
      })
      gw = await gateway(
        `_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
consumers: [{ username: Bob, keyauth_credentials: [{ key: test_credential }] }]
routes:
${routes.join('\n')}
  - { name: hide, service: s, hosts: [hide.test], plugins: [${rl('minute: 6, limit_by: ip, hide_client_headers: true')}] }
  - { name: multiple, service: s, hosts: [multiple.test], plugins: [${rl('minute: 6, hour: 99999, limit_by: ip')}] }
  - { name: custom, service: s, hosts: [custom.test], plugins: [${rl('minute: 1, limit_by: ip, error_code: 404, error_message: Fake Not Found')}] }
`,
        // a generous Redis deadline: on a loaded test machine the default (50 ms) would let
        // fault_tolerant pass requests without headers, which is not what these cases test
        { redisUrl: REDIS_URL, keyPrefix: `kongspec:${randomUUID()}:`, redisDeadlineMs: 2000 },
      )
    })
    after(async () => {
      await gw.stop()
      await echo.close()
    })
    const get = (host: string, headers: Record<string, string> = {}) =>
      send(`${gw.url}/test`, { headers: { host, ...headers } })

    /** Kong's `client_requests(7, …)` + `validate_headers`: six admitted, then 429, headers counting down. */
    const validate = async (host: string, headers: Record<string, string> = {}, hour = false) => {
      // Kong retries these cases when a minute ends between the requests; here they start
      // after that edge instead (a wait of at most 3 s, never an assertion on time)
      const second = new Date().getSeconds()
      if (second >= 57) await new Promise((r) => setTimeout(r, (60 - second) * 1000 + 100))
      const out: Array<Awaited<ReturnType<typeof get>>> = []
      for (let i = 0; i < 7; i++) out.push(await get(host, headers))
      assert.deepEqual(
        out.map((r) => r.status),
        [200, 200, 200, 200, 200, 200, 429],
      )
      assert.deepEqual(
        out.map((r) => Number(r.headers['x-ratelimit-limit-minute'])),
        [6, 6, 6, 6, 6, 6, 6],
      )
      assert.deepEqual(
        out.map((r) => Number(r.headers['x-ratelimit-remaining-minute'])),
        [5, 4, 3, 2, 1, 0, 0],
      )
      assert.deepEqual(
        out.map((r) => Number(r.headers['ratelimit-limit'])),
        [6, 6, 6, 6, 6, 6, 6],
      )
      assert.deepEqual(
        out.map((r) => Number(r.headers['ratelimit-remaining'])),
        [5, 4, 3, 2, 1, 0, 0],
      )
      for (const r of out) {
        const reset = Number(r.headers['ratelimit-reset'])
        assert.ok(reset >= 0 && reset <= (hour ? 3600 : 60))
        if (hour) assert.ok(Number(r.headers['x-ratelimit-limit-hour']) > 0)
      }
    }

    for (const by of limitBy) {
      it(`blocks if exceeding limit (single ${by})`, async () => {
        const headers: Record<string, string> =
          by === 'header'
            ? { 'test-header': 'test' }
            : by === 'consumer' || by === 'credential'
              ? { 'test-key': 'test_credential' }
              : {}
        await validate(`${by}.test`, headers)
      })
    }
    it('hide_client_headers (single ip)', async () => {
      let res = await get('hide.test')
      assert.equal(res.status, 200)
      for (const h of [
        'x-ratelimit-limit-minute',
        'x-ratelimit-remaining-minute',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
        'retry-after',
      ])
        assert.equal(res.headers[h], undefined, h)
      for (let i = 0; i < 10 && res.status !== 429; i++) res = await get('hide.test')
      assert.equal(res.status, 429)
      for (const h of [
        'x-ratelimit-limit-minute',
        'x-ratelimit-remaining-minute',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
      ])
        assert.equal(res.headers[h], undefined, h)
    })
    it('hide_client_headers (single ip): no Retry-After on the 429', async () => {
      let res = await get('hide.test')
      for (let i = 0; i < 10 && res.status !== 429; i++) res = await get('hide.test')
      assert.equal(res.status, 429)
      assert.equal(res.headers['retry-after'], undefined)
    })
    it('handles multiple limits (single ip)', async () => {
      await validate('multiple.test', {}, true)
    })
    it('blocks with a custom error code and message', async () => {
      assert.equal((await get('custom.test')).status, 200)
      const res = await get('custom.test')
      assert.equal(res.status, 404)
      assert.match(String(res.body.message), /Fake Not Found/)
    })
  })
}
