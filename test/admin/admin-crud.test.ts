import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const NOT_FOUND = { message: 'Not found' }

type Body = Record<string, unknown>

/** One resource of the Admin API and what a full create → read → update → replace → delete does to it. */
interface Resource {
  name: string
  /** the collection (nested ones under an owner made in `before`) */
  base: string
  create: Body
  /** its endpoint key (name, username, key, target, group), when it has one */
  key?: string
  /** PATCH body, and the field it changes with the value expected after */
  patch: [Body, string, unknown]
  /** PUT body (the whole entity): the PATCHed field is back at its default, given here */
  put: [Body, unknown]
  /** an invalid POST body and the field the 400 names */
  invalid: [Body, string]
  /** a POST body that collides with the created entity on a unique field */
  duplicate: Body
}

const RESOURCES: Resource[] = [
  {
    name: 'services',
    base: '/services',
    create: { name: 'crud-svc', host: 'h.test' },
    key: 'crud-svc',
    patch: [{ retries: 3 }, 'retries', 3],
    put: [{ host: 'h2.test' }, 5],
    invalid: [{ name: 'bad-svc', host: 'h.test', port: 'eighty' }, 'port'],
    duplicate: { name: 'crud-svc', host: 'other.test' },
  },
  {
    name: 'routes',
    base: '/routes',
    create: { name: 'crud-route', paths: ['/crud'] },
    key: 'crud-route',
    patch: [{ strip_path: false }, 'strip_path', false],
    put: [{ paths: ['/crud-again'] }, true],
    invalid: [{ name: 'bad-route', paths: ['no-leading-slash'] }, 'paths'],
    duplicate: { name: 'crud-route', paths: ['/other'] },
  },
  {
    name: 'consumers',
    base: '/consumers',
    create: { username: 'crud-user' },
    key: 'crud-user',
    patch: [{ custom_id: 'c-1' }, 'custom_id', 'c-1'],
    put: [{ username: 'crud-user', tags: ['x'] }, null],
    invalid: [{ username: 'bad-user', custom_id: 5 }, 'custom_id'],
    duplicate: { username: 'crud-user' },
  },
  {
    name: 'upstreams',
    base: '/upstreams',
    create: { name: 'crud.up' },
    key: 'crud.up',
    patch: [{ slots: 100 }, 'slots', 100],
    put: [{ name: 'crud.up', algorithm: 'least-connections' }, 10000],
    invalid: [{ name: 'bad.up', slots: 5 }, 'slots'],
    duplicate: { name: 'crud.up' },
  },
  {
    name: 'targets',
    base: '/upstreams/owner.up/targets',
    create: { target: '10.0.0.9:80' },
    key: '10.0.0.9:80',
    patch: [{ weight: 5 }, 'weight', 5],
    // Kong's PUT of an existing target updates it: the PATCHed weight stays (08-targets_routes_spec)
    put: [{ target: '10.0.0.9:80' }, 5],
    invalid: [{ target: '10.0.0.8:80', weight: 70000 }, 'weight'],
    duplicate: { target: '10.0.0.9:80' },
  },
  {
    name: 'plugins',
    base: '/plugins',
    create: { name: 'rate-limiting', config: { minute: 5 } },
    patch: [{ enabled: false }, 'enabled', false],
    put: [{ name: 'rate-limiting', config: { minute: 9 } }, true],
    invalid: [
      { name: 'rate-limiting', config: { minute: 'many' }, service: { name: 'owner-svc' } },
      'config',
    ],
    duplicate: { name: 'rate-limiting', config: { hour: 1 } },
  },
  {
    name: 'key-auth credentials',
    base: '/consumers/owner/key-auth',
    create: { key: 'crud-key' },
    key: 'crud-key',
    patch: [{ tags: ['t'] }, 'tags', ['t']],
    put: [{ key: 'crud-key' }, null],
    invalid: [{ key: ['not', 'a', 'string'] }, 'key'],
    duplicate: { key: 'crud-key' },
  },
  {
    name: 'jwt credentials',
    base: '/consumers/owner/jwt',
    create: { key: 'crud-iss', secret: 'crud-secret', kid: 'k1' },
    key: 'crud-iss',
    patch: [{ tags: ['t'] }, 'tags', ['t']],
    put: [{ key: 'crud-iss', secret: 'crud-secret' }, null],
    invalid: [{ key: 'bad-iss', algorithm: 'none' }, 'algorithm'],
    // one consumer may hold several secrets under one key (rotation); one kid twice under it is refused
    duplicate: { key: 'crud-iss', kid: 'k1' },
  },
  {
    name: 'basic-auth credentials',
    base: '/consumers/owner/basic-auth',
    create: { username: 'crud-basic', password: 'open-sesame' },
    key: 'crud-basic',
    patch: [{ tags: ['t'] }, 'tags', ['t']],
    put: [{ username: 'crud-basic', password: 'open-sesame' }, null],
    invalid: [{ username: 'bad-basic' }, 'password'],
    duplicate: { username: 'crud-basic', password: 'x' },
  },
  {
    name: 'acls',
    base: '/consumers/owner/acls',
    create: { group: 'crud-group' },
    key: 'crud-group',
    patch: [{ tags: ['t'] }, 'tags', ['t']],
    put: [{ group: 'crud-group' }, null],
    invalid: [{ group: ['g'] }, 'group'],
    duplicate: { group: 'crud-group' },
  },
]

describe('Admin API: every resource, create to delete, with status codes and error bodies', () => {
  let a: AdminNode
  before(async () => {
    a = await adminNode()
    assert.equal((await a.req('POST', '/consumers', { username: 'owner' })).status, 201)
    assert.equal((await a.req('POST', '/upstreams', { name: 'owner.up' })).status, 201)
    assert.equal((await a.req('POST', '/services', { name: 'owner-svc', host: 'h.test' })).status, 201)
  })
  after(() => a.stop())

  for (const r of RESOURCES) {
    test(r.name, async () => {
      const count = async () => {
        const res = await a.req('GET', `${r.base}?size=1000`)
        assert.equal(res.status, 200)
        return (res.body.data as Body[]).length
      }
      const before_ = await count()

      // create
      const made = await a.req('POST', r.base, r.create)
      assert.equal(made.status, 201, made.text)
      const id = String(made.body.id)
      assert.match(id, UUID)
      for (const [field, value] of Object.entries(r.create)) {
        if (field !== 'password' && field !== 'config') assert.deepEqual(made.body[field], value, field)
      }

      // read: by id, by endpoint key, in the list
      const byId = await a.req('GET', `${r.base}/${id}`)
      assert.equal(byId.status, 200)
      assert.deepEqual(byId.body, made.body)
      if (r.key !== undefined) {
        const byKey = await a.req('GET', `${r.base}/${encodeURIComponent(r.key)}`)
        assert.equal(byKey.status, 200)
        assert.equal(byKey.body.id, id)
      }
      const list = await a.req('GET', r.base)
      assert.equal(list.status, 200)
      assert.ok((list.body.data as Body[]).some((e) => e.id === id))
      assert.ok('next' in list.body)

      // errors: schema violation, unique violation; nothing is created
      const [bad, field] = r.invalid
      const invalid = await a.req('POST', r.base, bad)
      assert.equal(invalid.status, 400, invalid.text)
      assert.equal(invalid.body.code, 2)
      assert.equal(invalid.body.name, 'schema violation')
      assert.equal(typeof invalid.body.message, 'string')
      assert.ok(field in (invalid.body.fields as Body), `fields.${field} in ${invalid.text}`)
      const duplicate = await a.req('POST', r.base, r.duplicate)
      assert.equal(duplicate.status, 409, duplicate.text)
      assert.equal(duplicate.body.code, 5)
      assert.equal(duplicate.body.name, 'unique constraint violation')
      assert.equal(await count(), before_ + 1)

      // update: PATCH merges, PUT replaces the whole entity (the PATCHed field back to its default)
      const [patch, changed, value] = r.patch
      const patched = await a.req('PATCH', `${r.base}/${id}`, patch)
      assert.equal(patched.status, 200, patched.text)
      assert.deepEqual(patched.body[changed], value)
      assert.deepEqual((await a.req('GET', `${r.base}/${id}`)).body[changed], value)
      const [whole, reset] = r.put
      const put = await a.req('PUT', `${r.base}/${id}`, whole)
      assert.equal(put.status, 200, put.text)
      assert.equal(put.body.id, id)
      assert.deepEqual(put.body[changed] ?? null, reset, `${changed} after PUT`)

      // delete: 204, then 404 with Kong's body for reads and updates
      assert.equal((await a.req('DELETE', `${r.base}/${id}`)).status, 204)
      const gone = await a.req('GET', `${r.base}/${id}`)
      assert.equal(gone.status, 404)
      assert.deepEqual(gone.body, NOT_FOUND)
      const patchGone = await a.req('PATCH', `${r.base}/${id}`, patch)
      assert.equal(patchGone.status, 404)
      assert.deepEqual(patchGone.body, NOT_FOUND)
      if (!r.base.slice(1).includes('/')) {
        assert.equal((await a.req('DELETE', `${r.base}/${id}`)).status, 204, 'deleting again is a success')
      }
      assert.equal(await count(), before_)
    })
  }

  test('an owner that does not exist: 404 for its nested collections', async () => {
    for (const path of [
      '/consumers/nobody/key-auth',
      '/upstreams/nowhere.up/targets',
      '/services/none/routes',
    ]) {
      const list = await a.req('GET', path)
      assert.equal(list.status, 404, path)
      assert.deepEqual(list.body, NOT_FOUND)
      const create = await a.req('POST', path, { key: 'k', target: '10.0.0.1:80', paths: ['/x'] })
      assert.equal(create.status, 404, path)
    }
  })
})
