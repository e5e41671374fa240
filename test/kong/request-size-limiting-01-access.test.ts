// Port of Kong 3.10 spec/03-plugins/12-request-size-limiting/01-access_spec.lua: each case
// carries the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, raw, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

const TEST_SIZE = 2
const FACTOR: Record<string, number> = { megabytes: 2 ** 20, kilobytes: 2 ** 10, bytes: 1 }
let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>

before(async () => {
  echo = await kongEcho()
  const units = Object.keys(FACTOR).map(
    (unit) =>
      `  - { name: r-${unit}, service: s, hosts: [limit_${unit}.test], plugins: [{ name: request-size-limiting, config: { allowed_payload_size: ${TEST_SIZE}, size_unit: ${unit} } }] }`,
  )
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
routes:
  - { name: limit, service: s, hosts: [limit.test], plugins: [{ name: request-size-limiting, config: { allowed_payload_size: ${TEST_SIZE} } }] }
  - { name: required, service: s, hosts: [required.test], plugins: [{ name: request-size-limiting, config: { allowed_payload_size: ${TEST_SIZE}, require_content_length: true } }] }
${units.join('\n')}
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

const post = (host: string, body: string, chunked = false) =>
  send(`${gw.url}/request`, {
    method: 'POST',
    headers: chunked ? { host } : { host, 'content-length': String(Buffer.byteLength(body)) },
    body: chunked ? (Buffer.from(body) as unknown as string) : body,
  })
/** A request with `Expect: 100-continue` on a raw socket (undici does not send Expect). */
const expect100 = async (host: string, size: number) => {
  const port = Number(new URL(gw.url).port)
  const head = `POST /request HTTP/1.1\r\nHost: ${host}\r\nExpect: 100-continue\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`
  const out = await raw(port, head + 'a'.repeat(size), 3000)
  // the final response, after any interim 100 Continue
  return out.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '')
}
const limited = (res: Awaited<ReturnType<typeof post>>) => {
  assert.equal(res.status, 413)
  assert.match(String(res.body.message), /Request size limit exceeded/)
}

describe('Plugin: request-size-limiting (access) — with Content-Length', () => {
  it('works if size is lower than limit', async () => {
    assert.equal((await post('limit.test', 'a'.repeat(TEST_SIZE * 2 ** 20))).status, 200)
  })
  it('works if size is lower than limit and Expect header', async () => {
    const out = await expect100('limit.test', TEST_SIZE * 2 ** 20)
    assert.match(out, /HTTP\/1.1 200/)
  })
  it('blocks if size is greater than limit', async () => {
    limited(await post('limit.test', 'a'.repeat(TEST_SIZE * 2 ** 20 + 1)))
  })
  it('blocks if size is greater than limit and Expect header', async () => {
    const out = await expect100('limit.test', TEST_SIZE * 2 ** 20 + 1)
    assert.match(out, /^HTTP\/1.1 417/)
    assert.match(out, /Request size limit exceeded/)
  })
  for (const [unit, factor] of Object.entries(FACTOR)) {
    it(`blocks if size is greater than limit when unit in ${unit}`, async () => {
      limited(await post(`limit_${unit}.test`, 'a'.repeat(TEST_SIZE * factor + 1)))
    })
    it(`works if size is less than limit when unit in ${unit}`, async () => {
      assert.equal((await post(`limit_${unit}.test`, 'a'.repeat(TEST_SIZE * factor - 1))).status, 200)
    })
  }
})

describe('Plugin: request-size-limiting (access) — without Content-Length(chunked request body)', () => {
  it('works if size is lower than limit', async () => {
    assert.equal((await post('limit.test', 'a'.repeat(TEST_SIZE * 2 ** 20), true)).status, 200)
  })
  it('blocks if size is greater than limit', async () => {
    limited(await post('limit.test', 'a'.repeat(TEST_SIZE * 2 ** 20 + 1), true))
  })
  for (const [unit, factor] of Object.entries(FACTOR)) {
    it(`blocks if size is greater than limit when unit in ${unit}`, async () => {
      limited(await post(`limit_${unit}.test`, 'a'.repeat(TEST_SIZE * factor + 1), true))
    })
    it(`works if size is less than limit when unit in ${unit}`, async () => {
      assert.equal((await post(`limit_${unit}.test`, 'a'.repeat(TEST_SIZE * factor - 1), true)).status, 200)
    })
  }
})

describe('Plugin: request-size-limiting (access) — Content-Length header required', () => {
  it('blocks if header is not provided', async () => {
    const res = await send(`${gw.url}/request`, { headers: { host: 'required.test' } })
    assert.equal(res.status, 411)
  })
})
