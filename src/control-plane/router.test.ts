import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { paginate } from './paginate.js'
import { Router } from './router.js'

describe('Router', () => {
  const r = new Router<string>()
  r.add('GET', '/plugins', 'list')
  r.add('GET', '/plugins/enabled', 'enabled')
  r.add('GET', '/plugins/:plugin', 'get')
  r.add('DELETE', '/plugins/:plugin', 'delete')
  r.add('GET', '/services/:service/routes/:route', 'nested')
  r.add('GET', '/', 'root')

  test('literal segments win over parameters; parameters are captured', () => {
    assert.deepEqual(r.match('GET', ['plugins', 'enabled']), { handler: 'enabled', params: {} })
    assert.deepEqual(r.match('GET', ['plugins', 'abc']), { handler: 'get', params: { plugin: 'abc' } })
    assert.deepEqual(r.match('GET', ['services', 's', 'routes', 'r']), {
      handler: 'nested',
      params: { service: 's', route: 'r' },
    })
    assert.deepEqual(r.match('GET', []), { handler: 'root', params: {} })
  })

  test('unknown path → undefined (404); known path, other method → "method" (405); HEAD uses GET', () => {
    assert.equal(r.match('GET', ['nope']), undefined)
    assert.equal(r.match('GET', ['services', 's']), undefined)
    assert.equal(r.match('POST', ['plugins', 'abc']), 'method')
    assert.deepEqual(r.match('HEAD', ['plugins']), { handler: 'list', params: {} })
  })

  test('duplicate routes are refused', () => {
    assert.throws(() => r.add('GET', '/plugins', 'again'))
  })
})

describe('paginate', () => {
  const items = Array.from({ length: 7 }, (_, i) => ({
    id: `id-${i}`,
    tags: i % 2 === 0 ? ['even'] : ['odd'],
  }))

  test('pages of size n with an opaque offset and a next URL; the last page has next null', () => {
    const seen: string[] = []
    let query = new URLSearchParams('size=3')
    for (;;) {
      const page = paginate(items, query, '/things')
      assert.ok(!('status' in page))
      seen.push(...page.data.map((e) => e.id))
      if (page.next === null) break
      assert.match(page.next, /^\/things\?offset=[A-Za-z0-9_-]+&size=3$/)
      query = new URLSearchParams(page.next.split('?')[1])
    }
    assert.deepEqual(
      seen,
      items.map((e) => e.id),
    )
  })

  test('a page boundary whose entity is gone continues where it was', () => {
    const first = paginate(items, new URLSearchParams('size=3'), '/t')
    assert.ok(!('status' in first) && first.offset !== undefined)
    const shrunk = items.filter((e) => e.id !== 'id-3')
    const second = paginate(shrunk, new URLSearchParams(`size=3&offset=${first.offset}`), '/t')
    assert.ok(!('status' in second))
    assert.deepEqual(
      second.data.map((e) => e.id),
      ['id-4', 'id-5', 'id-6'],
    )
  })

  test("Kong's size and offset errors", () => {
    for (const size of ['0', '1001', 'abc', '2.5', '']) {
      const page = paginate(items, new URLSearchParams({ size }), '/t')
      assert.ok('status' in page && page.status === 400)
      assert.equal(page.body.code, 9)
    }
    const bad = paginate(items, new URLSearchParams('offset=%%%'), '/t')
    assert.ok('status' in bad && bad.status === 400 && bad.body.code === 7)
  })

  test('tags: a,b means all of them, a/b any of them', () => {
    const even = paginate(items, new URLSearchParams('tags=even'), '/t')
    assert.ok(!('status' in even))
    assert.equal(even.data.length, 4)
    const both = paginate(items, new URLSearchParams('tags=even,odd'), '/t')
    assert.ok(!('status' in both) && both.data.length === 0)
    const any = paginate(items, new URLSearchParams('tags=even/odd'), '/t')
    assert.ok(!('status' in any) && any.data.length === 7)
  })
})
