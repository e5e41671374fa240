// Port of Kong 3.10 spec/03-plugins/17-ip-restriction/02-access_spec.lua (HTTP cases over
// IPv4; gRPC and TCP streams are not proxied by Portico): each case carries the name of the
// Kong `it(...)` it transcribes. Kong runs it with `trusted_ips = 0.0.0.0/0, ::/0` and
// `real_ip_header = X-Forwarded-For`, `real_ip_recursive = on`: so does this file.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const get = (n: number, headers: Record<string, string> = {}) =>
  send(`${gw.url}/status/200`, { headers: { host: `ip-restriction${n}.test`, ...headers } })
const CONFIGS: Record<number, string> = {
  1: '{ deny: [127.0.0.1, 127.0.0.2] }',
  2: '{ deny: [127.0.0.2] }',
  3: '{ allow: [127.0.0.2] }',
  4: '{ allow: [127.0.0.1] }',
  5: '{ deny: [127.0.0.0/24] }',
  6: '{ allow: [127.0.0.4] }',
  7: '{ deny: [127.0.0.4] }',
  8: '{ allow: [0.0.0.0/0] }',
  9: '{ allow: [127.0.0.1], deny: [127.0.0.1] }',
  10: '{ allow: [127.0.0.0/24], deny: [127.0.0.1] }',
  11: '{ allow: [127.0.0.0/24], deny: [127.0.0.0/24] }',
  12: '{ deny: [127.0.0.0/24], status: 401, message: Forbidden }',
}

before(async () => {
  echo = await kongEcho()
  const routes = Object.entries(CONFIGS).map(
    ([n, config]) =>
      `  - { name: r${n}, service: s, hosts: [ip-restriction${n}.test], plugins: [{ name: ip-restriction, config: ${config} }] }`,
  )
  gw = await gateway(
    `_format_version: "3.0"\nservices: [{ name: s, url: "${echo.url}" }]\nroutes:\n${routes.join('\n')}\n`,
    { trustedIps: '0.0.0.0/0,::/0' },
  )
})
after(async () => {
  await gw.stop()
  await echo.close()
})

const denied = (res: Awaited<ReturnType<typeof get>>) => {
  assert.equal(res.status, 403)
  assert.match(res.text, /IP address not allowed/)
}

describe('Plugin: ip-restriction (access) — deny', () => {
  it('blocks a request when the IP is denied', async () => denied(await get(1)))
  it('blocks a request when the IP is denied with status/message', async () => {
    const res = await get(12)
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /Forbidden/)
  })
  it('allows a request when the IP is not denied', async () => {
    assert.equal((await get(2)).status, 200)
  })
  it('blocks IP with CIDR', async () => denied(await get(5)))
  it('blocks an IP on a allowed CIDR range', async () => denied(await get(10)))
  it('takes precedence over an allowed IP', async () => denied(await get(9)))
  it('takes precedence over an allowed CIDR range', async () => denied(await get(11)))
  it('allows without any X-Forwarded-For and allowed IP', async () => {
    assert.equal((await get(7)).status, 200)
  })
  it('allows with allowed X-Forwarded-For header', async () => {
    assert.equal((await get(7, { 'x-forwarded-for': '127.0.0.3' })).status, 200)
  })
  it('blocks with not allowed X-Forwarded-For header', async () => {
    denied(await get(7, { 'x-forwarded-for': '127.0.0.4' }))
  })
})

describe('Plugin: ip-restriction (access) — allow', () => {
  it('blocks a request when the IP is not allowed', async () => denied(await get(3)))
  it('allows a allowed IP', async () => {
    assert.equal((await get(4)).status, 200)
  })
  it('blocks without any X-Forwarded-For and not allowed IP', async () => denied(await get(6)))
  it('block with not allowed X-Forwarded-For header', async () => {
    denied(await get(6, { 'x-forwarded-for': '127.0.0.3' }))
  })
  it('allows with allowed X-Forwarded-For header', async () => {
    assert.equal((await get(6, { 'x-forwarded-for': '127.0.0.4' })).status, 200)
  })
  it('allows with allowed complex X-Forwarded-For header', async () => {
    assert.equal((await get(6, { 'x-forwarded-for': '127.0.0.4, 127.0.0.3' })).status, 200)
  })
})

describe('Plugin: ip-restriction (access) — #regression', () => {
  it('handles a CIDR entry with 0.0.0.0/0', async () => {
    assert.equal((await get(8)).status, 200)
  })
})
