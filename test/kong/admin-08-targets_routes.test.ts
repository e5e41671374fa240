// Port of Kong 3.10 spec/02-integration/04-admin_api/08-targets_routes_spec.lua: each case
// carries the name of the Kong `it(...)` it transcribes (`it_content_types` cases once per
// content type). Kong's DNS mock (`custom_localhost` → 127.0.0.1) is `localhost` here.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { encodeBody } from '../fixtures/kong-echo.js'

let a: AdminNode
let n = 0
before(async () => {
  a = await adminNode({}, null, [])
})
after(() => a.stop())

const TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json']
function itContentTypes(title: string, fn: (type: string) => () => Promise<void>): void {
  for (const type of TYPES)
    it(`${title} with ${type === TYPES[0] ? 'application/www-form-urlencoded' : type}`, fn(type))
}
/** Kong's JSON cases send numbers as numbers; forms send text either way */
const send = (method: string, path: string, type: string, fields: Record<string, string | number>) => {
  const text = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]))
  const { body, type: ct } = encodeBody(type, text)
  return a.req(method, path, type === 'application/json' ? JSON.stringify(fields) : body, {
    headers: { 'content-type': ct },
  })
}
const upstream = async (fields: Record<string, unknown> = {}) => {
  const res = await a.req('POST', '/upstreams', { name: `upstream-${++n}.test`, ...fields })
  assert.equal(res.status, 201, res.text)
  return res.body as Record<string, unknown> & { name: string; id: string }
}
const target = async (u: { id: string }, target: string, weight: number) => {
  const res = await a.req('POST', `/upstreams/${u.id}/targets`, { target, weight })
  assert.equal(res.status, 201, res.text)
  return res.body as Record<string, unknown> & { target: string; id: string }
}

describe('Admin API: /targets', () => {
  it('returns a 404', async () => {
    const res = await a.req('GET', '/targets')
    assert.equal(res.status, 404)
    assert.equal(res.body.message, 'Not found')
  })
})

describe('Admin API: /upstreams/{upstream}/targets/ POST', () => {
  itContentTypes('creates a target with defaults', (type) => async () => {
    const u = await upstream({ slots: 10 })
    const res = await send('POST', `/upstreams/${u.name}/targets/`, type, { target: 'konghq.test' })
    assert.equal(res.status, 201)
    assert.equal(res.body.target, 'konghq.test:8000')
    assert.equal(typeof res.body.created_at, 'number')
    assert.equal(typeof res.body.id, 'string')
    assert.equal(res.body.weight, 100)
  })
  itContentTypes('creates a target without defaults', (type) => async () => {
    const u = await upstream({ slots: 10 })
    const res = await send('POST', `/upstreams/${u.name}/targets/`, type, {
      target: 'konghq.test:123',
      weight: 99,
    })
    assert.equal(res.status, 201)
    assert.equal(res.body.target, 'konghq.test:123')
    assert.equal(res.body.weight, 99)
  })
  itContentTypes('creates a target with weight = 0', (type) => async () => {
    const u = await upstream({ slots: 10 })
    const res = await send('POST', `/upstreams/${u.name}/targets/`, type, {
      target: 'zero.weight.test:8080',
      weight: 0,
    })
    assert.equal(res.status, 201)
    assert.equal(res.body.target, 'zero.weight.test:8080')
    assert.equal(res.body.weight, 0)
    const again = await a.req('GET', `/upstreams/${u.name}/targets/zero.weight.test:8080`)
    assert.equal(again.status, 200)
    assert.deepEqual(again.body, res.body)
  })
  it('handles malformed JSON body', async () => {
    const u = await upstream({ slots: 10 })
    const res = await a.req('POST', `/upstreams/${u.name}/targets/`, '{"hello": "world"', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body, { message: 'Cannot parse JSON body' })
  })
  itContentTypes('handles invalid input', (type) => async () => {
    const u = await upstream({ slots: 10 })
    let res = await send('POST', `/upstreams/${u.name}/targets/`, type, { weight: 0 })
    assert.equal(res.status, 400)
    assert.equal(res.body.name, 'schema violation')
    assert.deepEqual(res.body.fields, { target: 'required field missing' })
    res = await send('POST', `/upstreams/${u.name}/targets/`, type, { target: 'some invalid host name' })
    assert.equal(res.status, 400)
    assert.equal(res.body.name, 'schema violation')
    assert.deepEqual(res.body.fields, { target: 'Invalid target; not a valid hostname or ip address' })
    res = await send('POST', `/upstreams/${u.name}/targets/`, type, { target: 'konghq.test', weight: 65536 })
    assert.equal(res.status, 400)
    assert.equal(res.body.name, 'schema violation')
    assert.deepEqual(res.body.fields, { weight: 'value should be between 0 and 65535' })
  })
  for (const method of ['PUT', 'PATCH', 'DELETE'])
    itContentTypes(`returns 405 on ${method}`, (type) => async () => {
      const u = await upstream({ slots: 10 })
      const res = await send(method, `/upstreams/${u.name}/targets/`, type, { target: 'konghq.test' })
      assert.equal(res.status, 405)
    })
  itContentTypes('fails to create duplicated targets', (type) => async () => {
    const u = await upstream({ slots: 10 })
    const res = await send('POST', `/upstreams/${u.name}/targets/`, type, {
      target: 'single-target.test:8080',
      weight: 1,
    })
    assert.equal(res.status, 201)
    assert.equal(res.body.target, 'single-target.test:8080')
    assert.equal(res.body.weight, 1)
    const again = await send('POST', `/upstreams/${u.name}/targets/`, type, {
      target: 'single-target.test:8080',
      weight: 100,
    })
    assert.equal(again.status, 409)
  })
})

describe('Admin API: /upstreams/{upstream}/targets/ GET', () => {
  const byTarget = (list: Array<Record<string, unknown>>) =>
    Object.fromEntries(list.map((t) => [t.target, { ...t, tags: t.tags ?? undefined }]))
  for (const append of ['', '/'])
    it(`shows all targets with ${append === '' ? 'no' : ''} ending slash`, async () => {
      const u = await upstream()
      const apis = [
        await target(u, 'api-1:80', 10),
        await target(u, 'api-2:80', 0),
        await target(u, 'api-3:80', 50),
        await target(u, 'api-4:80', 10),
      ]
      const res = await a.req('GET', `/upstreams/${u.name}/targets${append}`)
      assert.equal(res.status, 200)
      const data = res.body.data as Array<Record<string, unknown>>
      assert.equal(data.length, 4)
      assert.deepEqual(byTarget(data), byTarget(apis))
    })
  it('data property is an empty array', async () => {
    const u = await upstream()
    const res = await a.req('GET', `/upstreams/${u.name}/targets`)
    assert.equal(res.status, 200)
    assert.match(res.text, /"data":\[\]/)
  })
})

describe('Admin API: /upstreams/{upstream}/health/ GET', () => {
  const addTargets = async (u: { id: string }, format: (i: number) => string) => {
    const out = []
    for (let i = 1; i <= 4; i++) out.push(await target(u, format(i), 10))
    return out
  }
  /** Kong's check_health_endpoint: the newest target first, each with the expected health */
  const check = async (
    u: { name: string },
    targets: Array<{ id: string; target: string }>,
    count: number,
    health: string,
  ) => {
    const nodeId = (await a.req('GET', '/')).body.node_id
    for (const append of ['', '/']) {
      const res = await a.req('GET', `/upstreams/${u.name}/health${append}`)
      assert.equal(res.status, 200)
      assert.equal(res.body.node_id, nodeId)
      const data = res.body.data as Array<{ id: string; target: string; health: string }>
      assert.equal(data.length, count)
      assert.equal(data[0]?.id, targets[3]?.id)
      assert.equal(data[1]?.target, targets[2]?.target)
      assert.equal(data[2]?.target, targets[1]?.target)
      for (const t of data) assert.equal(t.health, health, t.target)
    }
  }
  const passive = {
    healthchecks: {
      passive: { healthy: { successes: 1 }, unhealthy: { tcp_failures: 1, http_failures: 1, timeouts: 1 } },
    },
  }
  it('returns HEALTHCHECKS_OFF for targets that resolve (with healthchecks off)', async () => {
    const u = await upstream()
    await addTargets(u, (i) => `127.0.0.1:8${i}`)
    const targets = await addTargets(u, (i) => `localhost:8${i}`)
    await check(u, targets, 8, 'HEALTHCHECKS_OFF')
  })
  it('returns HEALTHY if failure not detected', async () => {
    const u = await upstream()
    assert.equal((await a.req('PATCH', `/upstreams/${u.name}`, passive)).status, 200)
    const targets = await addTargets(u, (i) => `localhost:222${i}`)
    await check(u, targets, 4, 'HEALTHY')
  })
})

describe('Admin API: /upstreams/{upstream}/targets/all/ GET', () => {
  let u: { name: string; id: string }
  before(async () => {
    u = await upstream()
    for (let i = 1; i <= 10; i++) await target(u, `api-${i}:80`, 100)
  })
  it('retrieves the first page', async () => {
    const res = await a.req('GET', `/upstreams/${u.name}/targets/all`)
    assert.equal(res.status, 200)
    assert.equal((res.body.data as unknown[]).length, 10)
  })
  it('offset is a string', async () => {
    const res = await a.req('GET', `/upstreams/${u.name}/targets/all?size=3`)
    assert.equal(res.status, 200)
    assert.equal(typeof res.body.offset, 'string')
  })
  it('next url ends with /targets/all', async () => {
    const res = await a.req('GET', `/upstreams/${u.name}/targets/all?size=3`)
    assert.equal(res.status, 200)
    assert.equal(
      res.body.next,
      `/upstreams/${u.name}/targets/all?offset=${encodeURIComponent(String(res.body.offset))}`,
    )
  })
  it('paginates a set', async () => {
    const pages: Array<Record<string, unknown>> = []
    let offset: string | undefined
    for (let i = 1; i <= 4; i++) {
      const q = offset === undefined ? '?size=3' : `?size=3&offset=${encodeURIComponent(offset)}`
      const res = await a.req('GET', `/upstreams/${u.name}/targets/all${q}`)
      assert.equal(res.status, 200)
      assert.equal((res.body.data as unknown[]).length, i < 4 ? 3 : 1)
      if (i > 1) assert.notDeepEqual(res.body, pages[i - 2])
      offset = res.body.offset as string | undefined
      pages.push(res.body)
    }
  })
  it('ignores filters', async () => {
    assert.equal((await a.req('GET', `/upstreams/${u.name}/targets/all?foo=bar`)).status, 200)
  })
  it('ignores an invalid body', async () => {
    const res = await a.req('GET', `/upstreams/${u.name}/targets/all`, 'this fails if decoded as json', {
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 200)
  })
  it('data property is an empty array', async () => {
    const empty = await upstream()
    const res = await a.req('GET', `/upstreams/${empty.name}/targets/all`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { data: [], next: null })
    assert.match(res.text, /"data":\[\]/)
  })
})

describe('Admin API: /upstreams/{upstream}/targets/{target}/(un)healthy', () => {
  it('checks every combination of valid and invalid upstream and target', async () => {
    const wrong = await target(await upstream(), '127.0.0.1:8192', 10)
    const u = await upstream(
      // Kong's PATCH of passive healthchecks
      {},
    )
    await a.req('PATCH', `/upstreams/${u.id}`, {
      healthchecks: {
        passive: { healthy: { successes: 1 }, unhealthy: { tcp_failures: 1, http_failures: 1, timeouts: 1 } },
      },
    })
    const t = await target(u, '127.0.0.1:8192', 10)
    const ups = [crypto.randomUUID(), 'invalid', u.name, u.id]
    const targets = [crypto.randomUUID(), 'invalid:1234', wrong.id, t.target, t.id]
    for (const [i, up] of ups.entries())
      for (const [j, tg] of targets.entries())
        for (const e of ['healthy', 'unhealthy']) {
          const expected = i >= 2 && j >= 3 ? 204 : 404
          const path = `/upstreams/${up}/targets/${tg}/${e}`
          assert.equal((await a.req('PUT', path)).status, expected, `bad status for path ${path}`)
        }
  })
})

describe('Admin API: /upstreams/{upstream}/targets/{target}', () => {
  const pair = async () => {
    const u = await upstream()
    await target(u, 'api-1:80', 10)
    return { u, t: await target(u, 'api-2:80', 10) }
  }
  const strip = (t: Record<string, unknown>) => {
    const { tags: _tags, updated_at: _updated, ...rest } = t
    return rest
  }
  it('returns target entity', async () => {
    const { u, t } = await pair()
    const res = await a.req('GET', `/upstreams/${u.name}/targets/${t.target}`)
    assert.equal(res.status, 200)
    assert.deepEqual(strip(res.body), strip(t))
  })
  it('is allowed and works', async () => {
    const { u, t } = await pair()
    // a target's updated_at has millisecond precision (Kong's auto_timestamp_ms): the PATCH
    // comes a few milliseconds later so the two stamps differ
    await new Promise((r) => setTimeout(r, 5))
    const res = await a.req('PATCH', `/upstreams/${u.name}/targets/${t.target}`, { weight: 659 })
    assert.equal(res.status, 200)
    assert.equal(typeof res.body.id, 'string')
    assert.equal(res.body.target, t.target)
    assert.equal(res.body.weight, 659)
    assert.ok((t.updated_at as number) < (res.body.updated_at as number))
    const again = await a.req('GET', `/upstreams/${u.name}/targets/${t.target}`)
    assert.equal(again.status, 200)
    assert.equal(again.body.weight, 659)
  })
  it('updates target (by id)', async () => {
    const { u, t } = await pair()
    const renamed = `${t.target}1`
    assert.equal(
      (await a.req('PUT', `/upstreams/${u.name}/targets/${t.id}`, { target: renamed })).status,
      200,
    )
    const res = await a.req('GET', `/upstreams/${u.name}/targets/${t.id}`)
    assert.equal(res.status, 200)
    assert.deepEqual(strip(res.body), strip({ ...t, target: renamed }))
  })
  it('updates target (by target)', async () => {
    const { u, t } = await pair()
    const res = await a.req('PUT', `/upstreams/${u.name}/targets/${t.target}`, { target: `${t.target}1` })
    assert.equal(res.status, 200)
    assert.equal((await a.req('GET', `/upstreams/${u.name}/targets/${t.target}`)).status, 404)
    const again = await a.req('GET', `/upstreams/${u.name}/targets/${t.target}1`)
    assert.equal(again.status, 200)
    assert.deepEqual(again.body, res.body)
  })
  for (const by of ['target', 'id'] as const)
    it(`method DELETE actually deletes targets (by ${by})`, async () => {
      const { u, t } = await pair()
      assert.equal(
        ((await a.req('GET', `/upstreams/${u.name}/targets/all`)).body.data as unknown[]).length,
        2,
      )
      assert.equal((await a.req('DELETE', `/upstreams/${u.name}/targets/${t[by]}`)).status, 204)
      assert.equal(
        ((await a.req('GET', `/upstreams/${u.name}/targets/all`)).body.data as unknown[]).length,
        1,
      )
      const active = await a.req('GET', `/upstreams/${u.name}/targets`)
      assert.equal(active.status, 200)
      const data = active.body.data as Array<{ target: string }>
      assert.equal(data.length, 1)
      assert.equal(data[0]?.target, 'api-1:80')
    })
})
