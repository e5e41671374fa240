import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { DemoServer } from './types.js'
import { startUsers, type User } from './users.js'

let one: DemoServer
let two: DemoServer

before(async () => {
  ;[one, two] = await Promise.all([startUsers({ name: 'users-1' }), startUsers({ name: 'users-2' })])
})
after(() => Promise.all([one.close(), two.close()]))

async function call(
  srv: DemoServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; instance: string | null; headers: Headers; json: unknown }> {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return {
    status: res.status,
    instance: res.headers.get('x-instance'),
    headers: res.headers,
    json: text === '' ? undefined : JSON.parse(text),
  }
}

test('both instances start from the same seed and name themselves', async () => {
  for (const [srv, name] of [
    [one, 'users-1'],
    [two, 'users-2'],
  ] as const) {
    const list = await call(srv, 'GET', '/users')
    assert.equal(list.status, 200)
    assert.equal(list.instance, name)
    const body = list.json as { instance: string; data: User[]; total: number }
    assert.equal(body.instance, name)
    assert.equal(body.total, 3)
    assert.deepEqual(
      body.data.map((u) => u.name),
      ['Alice', 'Bob', 'Carol'],
    )
    const alice = await call(srv, 'GET', '/users/1')
    assert.deepEqual(alice.json, { id: '1', name: 'Alice', email: 'alice@example.com', instance: name })
  }
})

test('create, read, replace and delete a user', async () => {
  const created = await call(one, 'POST', '/users', { name: '  Dave ', email: 'dave@example.com' })
  assert.equal(created.status, 201)
  assert.equal(created.instance, 'users-1')
  const dave = created.json as User & { instance: string }
  assert.equal(dave.name, 'Dave')
  assert.equal(dave.instance, 'users-1')
  assert.equal(created.headers.get('location'), `/users/${dave.id}`)

  assert.equal((await call(one, 'GET', `/users/${dave.id}`)).status, 200)
  // each instance has its own store: the write landed on users-1 only
  assert.equal((await call(two, 'GET', `/users/${dave.id}`)).status, 404)

  const replaced = await call(one, 'PUT', `/users/${dave.id}`, { name: 'David' })
  assert.equal(replaced.status, 200)
  assert.deepEqual(replaced.json, { id: dave.id, name: 'David', email: null, instance: 'users-1' })

  const deleted = await call(one, 'DELETE', `/users/${dave.id}`)
  assert.equal(deleted.status, 204)
  assert.equal(deleted.instance, 'users-1')
  assert.equal(deleted.json, undefined)
  assert.equal((await call(one, 'GET', `/users/${dave.id}`)).status, 404)
  assert.equal((await call(one, 'DELETE', `/users/${dave.id}`)).status, 404)
})

test('form-encoded bodies work too', async () => {
  const res = await fetch(`${two.url}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'name=Erin&email=erin%40example.com',
  })
  assert.equal(res.status, 201)
  const erin = (await res.json()) as User
  assert.equal(erin.email, 'erin@example.com')
})

test('errors are JSON and still carry X-Instance', async () => {
  const cases: Array<[string, string, unknown, number, string]> = [
    ['GET', '/users/999', undefined, 404, 'not_found'],
    ['PUT', '/users/999', { name: 'x' }, 404, 'not_found'],
    ['POST', '/users', { email: 'no-name@example.com' }, 400, 'invalid_user'],
    ['POST', '/users', { name: 'x', email: 7 }, 400, 'invalid_user'],
    ['PUT', '/users/1', { name: '' }, 400, 'invalid_user'],
    ['PATCH', '/users/1', { name: 'x' }, 405, 'method_not_allowed'],
    ['DELETE', '/users', undefined, 405, 'method_not_allowed'],
    ['GET', '/api/users', undefined, 404, 'not_found'],
    ['GET', '/users/%E0', undefined, 400, 'bad_request'],
  ]
  for (const [method, path, body, status, error] of cases) {
    const res = await call(two, method, path, body)
    assert.equal(res.status, status, `${method} ${path}`)
    assert.equal(res.instance, 'users-2')
    assert.equal((res.json as { error: string }).error, error, `${method} ${path}`)
  }
  const badJson = await fetch(`${two.url}/users`, { method: 'POST', body: '{"name":' })
  assert.equal(badJson.status, 400)
  assert.equal(badJson.headers.get('x-instance'), 'users-2')
  await badJson.body?.cancel()
})

test('GET /healthz is 200 with X-Instance', async () => {
  const res = await call(one, 'GET', '/healthz')
  assert.equal(res.status, 200)
  assert.equal(res.instance, 'users-1')
})
