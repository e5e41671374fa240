import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'

describe('Admin API: routes', () => {
  let a: AdminNode
  let svc: Record<string, unknown>
  before(async () => {
    a = await adminNode()
    svc = (await a.req('POST', '/services', { name: 'backend', host: 'backend.test' })).body
    await a.req('POST', '/services', { name: 'other', host: 'other.test' })
  })
  after(() => a.stop())

  test("form bodies as Kong's curl examples send them: paths[]=, methods[]=, single values, booleans, headers", async () => {
    const res = await a.req('POST', '/services/backend/routes', [
      ['name', 'r-form'],
      ['paths[]', '/a'],
      ['paths[]', '/b'],
      ['methods[]', 'GET'],
      ['hosts', 'api.test'],
      ['strip_path', 'false'],
      ['regex_priority', '3'],
      ['headers.x-version', 'v1'],
    ])
    assert.equal(res.status, 201)
    const r = res.body
    assert.deepEqual(
      [r.paths, r.methods, r.hosts, r.strip_path, r.regex_priority, r.headers, r.service],
      [['/a', '/b'], ['GET'], ['api.test'], false, 3, { 'x-version': ['v1'] }, { id: svc.id }],
    )
    const single = await a.req('POST', '/routes', [
      ['paths', '/single'],
      ['service.name', 'backend'],
    ])
    assert.equal(single.status, 201)
    assert.deepEqual([single.body.paths, single.body.service], [['/single'], { id: svc.id }])
  })

  test('the service may be given as {id}, {name}, or service.id= in a form', async () => {
    const byId = await a.req('POST', '/routes', { paths: ['/by-id'], service: { id: svc.id } })
    assert.deepEqual(byId.body.service, { id: svc.id })
    const byName = await a.req('POST', '/routes', { paths: ['/by-name'], service: { name: 'backend' } })
    assert.deepEqual(byName.body.service, { id: svc.id })
    const form = await a.req('POST', '/routes', [
      ['paths[]', '/form-id'],
      ['service.id', String(svc.id)],
    ])
    assert.deepEqual(form.body.service, { id: svc.id })
  })

  test('a service that does not exist: code 4 by id, code 13 by name; nothing is created', async () => {
    const before = (await a.req('GET', '/routes')).body.data as unknown[]
    const id = '0b0b0b0b-0000-4000-8000-000000000000'
    const byId = await a.req('POST', '/routes', { paths: ['/x'], service: { id } })
    assert.equal(byId.status, 400)
    assert.deepEqual(byId.body, {
      code: 4,
      name: 'foreign key violation',
      message: `the foreign key '{id="${id}"}' does not reference an existing 'services' entity.`,
      fields: { service: { id } },
    })
    const byName = await a.req('POST', '/routes', [
      ['paths[]', '/x'],
      ['service.name', 'nope'],
    ])
    assert.equal(byName.status, 400)
    assert.equal(byName.body.code, 13)
    const nested = await a.req('POST', '/services/nope/routes', { paths: ['/x'] })
    assert.equal(nested.status, 404)
    assert.deepEqual((await a.req('GET', '/routes')).body.data, before)
  })

  test('route schema violations come back with Kong-style fields', async () => {
    const none = await a.req('POST', '/routes', { name: 'empty' })
    assert.equal(none.status, 400)
    assert.match(String((none.body.fields as Record<string, string[]>)['@entity']?.[0]), /must set one of/)
    const badPath = await a.req('POST', '/routes', { paths: ['/ok', 'no-slash'] })
    assert.equal(badPath.status, 400)
    const paths = (badPath.body.fields as { paths: unknown[] }).paths
    assert.equal(paths[0], null)
    assert.equal(typeof paths[1], 'string')
    const badMethod = await a.req('POST', '/routes', { paths: ['/m'], methods: ['get'] }, {})
    assert.equal(badMethod.status, 400)
    const unknown = await a.req('POST', '/routes', { paths: ['/u'], foo: 'bar' })
    assert.deepEqual(unknown.body.fields, { foo: 'unknown field' })
  })

  test('nested forms: list and address routes under their service only', async () => {
    const own = await a.req('POST', '/services/backend/routes', { name: 'nested-own', paths: ['/n'] })
    const foreign = await a.req('POST', '/services/other/routes', { name: 'nested-foreign', paths: ['/f'] })
    const list = (await a.req('GET', '/services/backend/routes')).body.data as Array<{ name: string }>
    assert.ok(list.some((r) => r.name === 'nested-own'))
    assert.ok(!list.some((r) => r.name === 'nested-foreign'))
    assert.equal((await a.req('GET', '/services/backend/routes/nested-own')).status, 200)
    assert.equal((await a.req('GET', `/services/backend/routes/${foreign.body.id}`)).status, 404)
    const patched = await a.req(
      'PATCH',
      '/services/backend/routes/nested-own',
      { tags: 'tutorial' },
      { form: true },
    )
    assert.deepEqual(patched.body.tags, ['tutorial'])
    assert.equal((await a.req('DELETE', '/services/backend/routes/nested-foreign')).status, 404)
    assert.equal((await a.req('DELETE', `/services/backend/routes/${own.body.id}`)).status, 204)
  })

  test('/routes/{route}/service: GET, PATCH; DELETE is 405; 404 for a route without service', async () => {
    await a.req('POST', '/routes', { name: 'with-svc', paths: ['/w'], service: { name: 'other' } })
    await a.req('POST', '/routes', { name: 'no-svc', paths: ['/ns'] })
    const got = await a.req('GET', '/routes/with-svc/service')
    assert.equal(got.body.name, 'other')
    const patched = await a.req('PATCH', '/routes/with-svc/service', { retries: 2 })
    assert.equal(patched.body.retries, 2)
    assert.equal((await a.req('GET', '/services/other')).body.retries, 2)
    assert.equal((await a.req('DELETE', '/routes/with-svc/service')).status, 405)
    assert.equal((await a.req('GET', '/routes/no-svc/service')).status, 404)
  })

  test('PATCH can detach a route from its service with null; PUT by name upserts', async () => {
    await a.req('POST', '/routes', { name: 'detach', paths: ['/d'], service: { name: 'backend' } })
    const detached = await a.req('PATCH', '/routes/detach', { service: null })
    assert.equal(detached.status, 200)
    assert.equal(detached.body.service, null)
    await a.req('PATCH', '/routes/detach', { service: { name: 'backend' } })
    const byForm = await a.req('PATCH', '/routes/detach', [['service', '']])
    assert.deepEqual([byForm.status, byForm.body.service], [200, null])
    const put = await a.req('PUT', '/routes/upserted', { paths: ['/up'], service: { name: 'backend' } })
    assert.equal(put.status, 200)
    assert.equal(put.body.name, 'upserted')
    const again = await a.req('PUT', '/routes/upserted', { hosts: ['h.test'] })
    assert.deepEqual([again.body.id, again.body.paths, again.body.service], [put.body.id, null, null])
  })

  test('unknown methods on known paths: 405; unknown paths: 404', async () => {
    const res = await a.req('POST', '/routes/detach')
    assert.equal(res.status, 405)
    assert.deepEqual(res.body, { message: 'Method not allowed' })
    assert.equal((await a.req('GET', '/no-such-thing')).status, 404)
  })
})
