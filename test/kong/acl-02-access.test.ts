// Port of Kong 3.10 spec/03-plugins/18-acl/02-access_spec.lua, the consumer-group cases (the
// "with authenticated groups" twins need Kong's `ctx-checker` test plugin, which sets groups
// from inside Kong, and have no Portico counterpart): each case carries the name of the Kong
// `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gateway, type Upstream } from '../fixtures/helpers.js'
import { kongEcho, send } from '../fixtures/kong-echo.js'

let echo: Upstream
let gw: Awaited<ReturnType<typeof gateway>>
const get = (host: string, path: string) => send(`${gw.url}${path}`, { headers: { host } })
const KEY_AUTH = '{ name: key-auth }'
const route = (host: string, acl: string, auth = KEY_AUTH) =>
  `  - { name: ${host}, service: s, hosts: [${host}.test], plugins: [{ name: acl, config: ${acl} }${auth === '' ? '' : `, ${auth}`}] }`

before(async () => {
  echo = await kongEcho()
  gw = await gateway(`_format_version: "3.0"
services: [{ name: s, url: "${echo.url}" }]
consumers:
  - { username: consumer1, keyauth_credentials: [{ key: apikey123 }] }
  - { username: consumer2, keyauth_credentials: [{ key: apikey124 }], acls: [{ group: admin }] }
  - { username: consumer3, keyauth_credentials: [{ key: apikey125 }], acls: [{ group: pro }, { group: hello }] }
  - { username: consumer4, keyauth_credentials: [{ key: apikey126 }], acls: [{ group: free }, { group: hello }] }
  - { username: anonymous, id: 1e2d3c4b-0000-4000-8000-00000000a001, acls: [{ group: anonymous }] }
routes:
${route('acl1', '{ allow: [admin] }', '')}
${route('acl2', '{ allow: [admin] }')}
${route('acl3', '{ deny: [admin] }')}
${route('acl3d', '{ deny: [none] }', '')}
${route('acl4', '{ allow: [admin, pro] }')}
${route('acl5', '{ deny: [admin, pro] }')}
${route('acl6', '{ deny: [admin, pro, hello] }')}
${route('acl7', '{ allow: [admin, pro, hello] }')}
${route('acl8', '{ allow: [anonymous] }', '{ name: key-auth, config: { anonymous: 1e2d3c4b-0000-4000-8000-00000000a001 } }')}
${route('acl9', '{ allow: [admin], hide_groups_header: true }')}
${route('acl10', '{ allow: [admin], hide_groups_header: false }')}
`)
})
after(async () => {
  await gw.stop()
  await echo.close()
})

const headersOf = (res: Awaited<ReturnType<typeof get>>) => res.body.headers as Record<string, string>
const forbidden = (res: Awaited<ReturnType<typeof get>>) => {
  assert.equal(res.status, 403)
  assert.match(String(res.body.message), /You cannot consume this service/)
}

describe('Plugin: ACL (access)', () => {
  it('should work with consumer with credentials', async () => {
    const res = await get('acl2.test', '/request?apikey=apikey124')
    assert.equal(res.status, 200)
    assert.equal(headersOf(res)['x-consumer-groups'], 'admin')
    assert.equal(headersOf(res)['x-authenticated-groups'], undefined)
  })
  it('should work with consumer without credentials', async () => {
    const res = await get('acl8.test', '/request')
    assert.equal(res.status, 200)
    assert.equal(headersOf(res)['x-consumer-groups'], 'anonymous')
  })
  it('should fail when an authentication plugin is missing', async () => {
    const res = await get('acl1.test', '/status/200')
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /Unauthorized/)
  })
  it('should fail when not allowed', async () => {
    forbidden(await get('acl2.test', '/status/200?apikey=apikey123'))
  })
  it('should work when allowed', async () => {
    const res = await get('acl2.test', '/request?apikey=apikey124')
    assert.equal(res.status, 200)
    assert.equal(headersOf(res)['x-consumer-groups'], 'admin')
  })
  it('should not send x-consumer-groups header when hide_groups_header flag true', async () => {
    const res = await get('acl9.test', '/request?apikey=apikey124')
    assert.equal(res.status, 200)
    assert.equal(headersOf(res)['x-consumer-groups'], undefined)
  })
  it('should send x-consumer-groups header when hide_groups_header flag false', async () => {
    const res = await get('acl10.test', '/request?apikey=apikey124')
    assert.equal(headersOf(res)['x-consumer-groups'], 'admin')
  })
  it('should work when not denied', async () => {
    assert.equal((await get('acl3.test', '/request?apikey=apikey123')).status, 200)
  })
  it('should fail when denied', async () => {
    forbidden(await get('acl3.test', '/request?apikey=apikey124'))
  })
  it('should fail denied and with no authenticated groups', async () => {
    const res = await get('acl3d.test', '/request')
    assert.equal(res.status, 401)
    assert.match(String(res.body.message), /Unauthorized/)
  })
  it('should work when allowed (multiple groups)', async () => {
    const res = await get('acl4.test', '/request?apikey=apikey125')
    assert.equal(res.status, 200)
  })
  it('should fail when not allowed (multiple groups)', async () => {
    forbidden(await get('acl4.test', '/request?apikey=apikey126'))
  })
  it('should fail when denied (multiple groups)', async () => {
    forbidden(await get('acl5.test', '/request?apikey=apikey125'))
  })
  it('should work when not denied (multiple groups)', async () => {
    assert.equal((await get('acl5.test', '/request?apikey=apikey126')).status, 200)
  })
  it('should not work when one of the ACLs denied', async () => {
    forbidden(await get('acl6.test', '/request?apikey=apikey126'))
  })
  it('should work when one of the ACLs is allowed', async () => {
    assert.equal((await get('acl7.test', '/request?apikey=apikey126')).status, 200)
  })
  it('should not work when at least one of the ACLs denied', async () => {
    forbidden(await get('acl6.test', '/request?apikey=apikey125'))
  })
})
