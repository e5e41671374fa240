// Port of Kong 3.10 spec/03-plugins/14-request-termination/03-integration_spec.lua: the case
// carries the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import type { Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

let echo: Upstream
let a: AdminNode
let consumer: Record<string, unknown>
before(async () => {
  echo = await kongEcho()
  a = await adminNode({}, null, [])
  const service = (await a.req('POST', '/services', { url: echo.url })).body
  await a.req('POST', '/routes', { hosts: ['api1.request-termination.test'], service: { id: service.id } })
  await a.req('POST', '/plugins', { name: 'key-auth' })
  consumer = (await a.req('POST', '/consumers', { username: 'bob' })).body
  await a.req('POST', `/consumers/${consumer.id}/key-auth`, { key: 'kong' })
})
after(async () => {
  await a.stop()
  await echo.close()
})

describe('Plugin: request-termination (integration)', () => {
  it('can be applied on a consumer', async () => {
    const res = await a.req('POST', '/plugins', {
      name: 'request-termination',
      consumer: { id: consumer.id },
    })
    assert.equal(res.status, 201, res.text)
    // Kong waits up to 10 s for the change to reach the proxy; so does this case
    let last: Awaited<ReturnType<typeof send>> | undefined
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      last = await send(`${a.proxy}/request`, {
        headers: { host: 'api1.request-termination.test', apikey: 'kong' },
      })
      if (last.status === 503) break
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.equal(last?.status, 503)
    assert.deepEqual(last?.body, { message: 'Service unavailable' })
  })
})
