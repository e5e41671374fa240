import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { verifyPassword } from '../../src/config/index.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call, sleep, upstream } from '../fixtures/helpers.js'

describe('Admin API: consumers and credentials', () => {
  let a: AdminNode
  before(async () => {
    a = await adminNode()
  })
  after(() => a.stop())

  test('consumers: username and/or custom_id; neither is a 400; duplicates are 409; ?custom_id= filters', async () => {
    const made = await a.req('POST', '/consumers', 'username=user123&custom_id=SOME_CUSTOM_ID', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(made.status, 201)
    assert.deepEqual([made.body.username, made.body.custom_id], ['user123', 'SOME_CUSTOM_ID'])
    const neither = await a.req('POST', '/consumers', {})
    assert.equal(neither.status, 400)
    assert.ok(Array.isArray((neither.body.fields as Record<string, unknown>)['@entity']))
    assert.equal((await a.req('POST', '/consumers', { username: 'user123' })).status, 409)
    const dupCustom = await a.req('POST', '/consumers', { username: 'x', custom_id: 'SOME_CUSTOM_ID' })
    assert.deepEqual(dupCustom.body.fields, { custom_id: 'SOME_CUSTOM_ID' })
    const filtered = await a.req('GET', '/consumers?custom_id=SOME_CUSTOM_ID')
    assert.deepEqual(
      (filtered.body.data as Array<{ id: string }>).map((c) => c.id),
      [made.body.id],
    )
  })

  test('key-auth: given or generated keys, unique, listed at /key-auths, addressable by key', async () => {
    await a.req('POST', '/consumers', { username: 'luka' })
    const given = await a.req('POST', '/consumers/luka/key-auth', { key: 'top-secret-key' }, { form: true })
    assert.equal(given.status, 201)
    assert.equal(given.body.key, 'top-secret-key')
    const generated = await a.req('POST', '/consumers/luka/key-auth')
    assert.equal(generated.status, 201)
    assert.match(String(generated.body.key), /^[0-9a-f]{32}$/)
    const dup = await a.req('POST', '/consumers/luka/key-auth', { key: 'top-secret-key' })
    assert.equal(dup.status, 409)
    assert.deepEqual(dup.body.fields, { key: 'top-secret-key' })
    const all = (await a.req('GET', '/key-auths')).body.data as Array<{ key: string }>
    assert.ok(all.some((k) => k.key === 'top-secret-key'))
    assert.equal((await a.req('GET', '/key-auths/top-secret-key')).body.id, given.body.id)
    assert.equal((await a.req('GET', '/key-auths/top-secret-key/consumer')).body.username, 'luka')
    const mine = (await a.req('GET', '/consumers/luka/key-auth')).body.data as unknown[]
    assert.equal(mine.length, 2)
    assert.equal((await a.req('DELETE', `/consumers/luka/key-auth/${generated.body.id}`)).status, 204)
    assert.equal((await a.req('DELETE', `/consumers/luka/key-auth/${generated.body.id}`)).status, 404)
    assert.equal((await a.req('POST', '/consumers/nobody/key-auth', { key: 'k' })).status, 404)
  })

  test('jwt: HS256 key and secret generated; RS256 needs a public key, also sent as a multipart file', async () => {
    await a.req('POST', '/consumers', { username: 'jwt-user' })
    const hs = await a.req('POST', '/consumers/jwt-user/jwt', '', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(hs.status, 201)
    assert.equal(hs.body.algorithm, 'HS256')
    assert.match(String(hs.body.key), /^[0-9a-f]{32}$/)
    assert.match(String(hs.body.secret), /^[0-9a-f]{32}$/)
    const noKey = await a.req('POST', '/consumers/jwt-user/jwt', { algorithm: 'RS256', key: 'rs-key' })
    assert.equal(noKey.status, 400)
    assert.ok('rsa_public_key' in (noKey.body.fields as object))
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const boundary = 'portico-test-boundary'
    const body =
      `--${boundary}\r\nContent-Disposition: form-data; name="algorithm"\r\n\r\nRS256\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nexample-key\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="rsa_public_key"; filename="public.pem"\r\n\r\n${pem}\r\n` +
      `--${boundary}--\r\n`
    const rs = await a.req('POST', '/consumers/jwt-user/jwt', body, {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })
    assert.equal(rs.status, 201)
    assert.equal(rs.body.rsa_public_key, pem)
    assert.equal((await a.req('GET', '/jwts/example-key/consumer')).body.username, 'jwt-user')
  })

  test('basic-auth: the password is stored hashed, and a new one is hashed again', async () => {
    await a.req('POST', '/consumers', { username: 'aladdin' })
    const made = await a.req(
      'POST',
      '/consumers/aladdin/basic-auth',
      { username: 'Aladdin', password: 'OpenSesame' },
      { form: true },
    )
    assert.equal(made.status, 201)
    assert.match(String(made.body.password), /^scrypt\$/)
    assert.ok(verifyPassword('OpenSesame', String(made.body.password)))
    const changed = await a.req('PATCH', `/basic-auths/${made.body.id}`, { password: 'NewSesame' })
    assert.ok(verifyPassword('NewSesame', String(changed.body.password)))
    const renamed = await a.req('PATCH', `/basic-auths/${made.body.id}`, { tags: ['t'] })
    assert.equal(renamed.body.password, changed.body.password, 'an unchanged hash is kept as is')
  })

  test('acls: one group once per consumer; listed at /acls', async () => {
    await a.req('POST', '/consumers', { username: 'grouped' })
    const g = await a.req('POST', '/consumers/grouped/acls', [
      ['group', 'group1'],
      ['tags[]', 'tag1'],
    ])
    assert.equal(g.status, 201)
    assert.deepEqual([g.body.group, g.body.tags], ['group1', ['tag1']])
    const dup = await a.req('POST', '/consumers/grouped/acls', { group: 'group1' })
    assert.equal(dup.status, 409)
    assert.equal((await a.req('GET', '/consumers/grouped/acls/group1')).body.id, g.body.id)
    assert.ok(
      ((await a.req('GET', '/acls')).body.data as Array<{ id: string }>).some((x) => x.id === g.body.id),
    )
  })

  test('deleting a consumer deletes its credentials and its plugins', async () => {
    await a.req('POST', '/consumers', { username: 'temp' })
    const key = await a.req('POST', '/consumers/temp/key-auth', { key: 'temp-key' })
    const acl = await a.req('POST', '/consumers/temp/acls', { group: 'g' })
    const plugin = await a.req('POST', '/consumers/temp/plugins', {
      name: 'rate-limiting',
      config: { second: 5 },
    })
    assert.equal(plugin.status, 201)
    assert.equal((await a.req('DELETE', '/consumers/temp')).status, 204)
    assert.equal((await a.req('GET', `/key-auths/${key.body.id}`)).status, 404)
    assert.equal((await a.req('GET', `/acls/${acl.body.id}`)).status, 404)
    assert.equal((await a.req('GET', `/plugins/${plugin.body.id}`)).status, 404)
    assert.equal((await call(`${a.admin}/consumers/temp`)).status, 404)
  })
})

describe('Admin API: key-auth credentials with a ttl (Kong expires them)', () => {
  test('seconds left on GET, reset by PATCH; once expired the key is refused and gone', async () => {
    const a = await adminNode({}, null, []) // the real key-auth plugin
    const echo = await upstream('ttl')
    try {
      await a.req('POST', '/services', { name: 'ttl-svc', url: echo.url })
      await a.req('POST', '/services/ttl-svc/routes', { name: 'ttl-route', paths: ['/ttl'] })
      await a.req('POST', '/routes/ttl-route/plugins', { name: 'key-auth' })
      await a.req('POST', '/consumers', { username: 'ephemeral' })
      const short = await a.req('POST', '/consumers/ephemeral/key-auth', { key: 'short-lived', ttl: 2 })
      assert.equal(short.status, 201, short.text)
      const kept = await a.req('POST', '/consumers/ephemeral/key-auth', { key: 'kept', ttl: 2 })
      const left = (await a.req('GET', `/key-auths/${short.body.id}`)).body.ttl as number
      assert.ok(left >= 0 && left <= 2, `seconds left: ${left}`)
      const patched = await a.req('PATCH', `/key-auths/${kept.body.id}`, { ttl: 600 })
      assert.ok((patched.body.ttl as number) > 590, `seconds left after PATCH: ${patched.body.ttl}`)
      assert.equal((await call(`${a.proxy}/ttl`, { headers: { apikey: 'short-lived' } })).status, 200)

      // Kong's spec waits 3 s for a 1 s ttl: poll until it is gone, at most 6 s
      let status = 200
      for (let i = 0; i < 60 && status !== 404; i++) {
        await sleep(100)
        status = (await a.req('GET', `/key-auths/${short.body.id}`)).status
      }
      assert.equal(status, 404)
      const listed = (await a.req('GET', '/consumers/ephemeral/key-auth')).body.data as Array<{ id: string }>
      assert.deepEqual(
        listed.map((c) => c.id),
        [kept.body.id],
      )
      assert.equal((await call(`${a.proxy}/ttl`, { headers: { apikey: 'short-lived' } })).status, 401)
      assert.equal((await call(`${a.proxy}/ttl`, { headers: { apikey: 'kept' } })).status, 200)
      // the expired key is free again
      const again = await a.req('POST', '/consumers/ephemeral/key-auth', { key: 'short-lived' })
      assert.equal(again.status, 201, again.text)
      assert.equal(again.body.ttl, null)
      assert.equal((await call(`${a.proxy}/ttl`, { headers: { apikey: 'short-lived' } })).status, 200)
    } finally {
      await echo.close()
      await a.stop()
    }
  })
})
