import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { test } from 'node:test'
import type { RouteEntity } from '../../core/entities.js'
import { buildRouter } from './router.js'
import { makeRoute } from './testing.js'

type R = Partial<RouteEntity> & { id: string }

interface Row {
  name: string
  routes: R[]
  req: { method?: string; host?: string; path: string; headers?: IncomingHttpHeaders }
  /** expected route id, or null for no match */
  want: string | null
  stripped?: string
  captures?: Record<string, string> | null
}

const rows: Row[] = [
  // hosts
  {
    name: 'exact host beats wildcard host defined first',
    routes: [
      { id: 'wild', hosts: ['*.example.com'] },
      { id: 'exact', hosts: ['api.example.com'] },
    ],
    req: { host: 'api.example.com', path: '/' },
    want: 'exact',
  },
  {
    name: 'suffix wildcard matches any depth',
    routes: [{ id: 'wild', hosts: ['*.example.com'] }],
    req: { host: 'a.b.example.com', path: '/' },
    want: 'wild',
  },
  {
    name: 'suffix wildcard does not match the bare domain',
    routes: [{ id: 'wild', hosts: ['*.example.com'] }],
    req: { host: 'example.com', path: '/' },
    want: null,
  },
  {
    name: 'prefix wildcard',
    routes: [{ id: 'wild', hosts: ['example.*'] }],
    req: { host: 'example.org', path: '/' },
    want: 'wild',
  },
  {
    name: 'route host is case-insensitive and its port is ignored',
    routes: [{ id: 'h', hosts: ['API.Example.COM:8080'] }],
    req: { host: 'api.example.com', path: '/' },
    want: 'h',
  },
  {
    name: 'plain hosts beat wildcard hosts even against a longer path',
    routes: [
      { id: 'wild', hosts: ['*.example.com'], paths: ['/api/v1/long'] },
      { id: 'plain', hosts: ['api.example.com'], paths: ['/'] },
    ],
    req: { host: 'api.example.com', path: '/api/v1/long' },
    want: 'plain',
  },
  {
    name: 'one wildcard among the hosts loses the plain-hosts rank',
    routes: [
      { id: 'mixed', hosts: ['a.com', '*.b.com'], paths: ['/'] },
      { id: 'plain', hosts: ['a.com'], paths: ['/'] },
    ],
    req: { host: 'a.com', path: '/' },
    want: 'plain',
  },
  {
    name: 'a wildcard host beats no host (one more category)',
    routes: [
      { id: 'none', paths: ['/api'] },
      { id: 'wild', hosts: ['*.h.com'], paths: ['/'] },
    ],
    req: { host: 'x.h.com', path: '/api' },
    want: 'wild',
  },
  // categories, methods, headers
  {
    name: 'more categories beat a longer prefix',
    routes: [
      { id: 'long', paths: ['/api/v1/users'] },
      { id: 'get', paths: ['/api'], methods: ['GET'] },
    ],
    req: { method: 'GET', path: '/api/v1/users' },
    want: 'get',
  },
  {
    name: 'a method mismatch falls through to the next route',
    routes: [
      { id: 'long', paths: ['/api/v1/users'] },
      { id: 'get', paths: ['/api'], methods: ['GET'] },
    ],
    req: { method: 'POST', path: '/api/v1/users' },
    want: 'long',
  },
  {
    name: 'methods are case-sensitive',
    routes: [{ id: 'get', methods: ['GET'] }],
    req: { method: 'get', path: '/' },
    want: null,
  },
  {
    name: 'more header names win',
    routes: [
      { id: 'one', paths: ['/'], headers: { 'x-a': ['1'] } },
      { id: 'two', paths: ['/'], headers: { 'x-a': ['1'], 'x-b': ['2'] } },
    ],
    req: { path: '/x', headers: { 'x-a': '1', 'x-b': '2' } },
    want: 'two',
  },
  {
    name: 'a missing header rules the route out',
    routes: [
      { id: 'one', paths: ['/'], headers: { 'x-a': ['1'] } },
      { id: 'two', paths: ['/'], headers: { 'x-a': ['1'], 'x-b': ['2'] } },
    ],
    req: { path: '/x', headers: { 'x-a': '1' } },
    want: 'one',
  },
  {
    name: 'header values compare case-insensitively, also inside a joined list',
    routes: [{ id: 'env', headers: { 'x-env': ['Prod'] } }],
    req: { path: '/', headers: { 'x-env': 'canary, PROD' } },
    want: 'env',
  },
  {
    name: 'a ~* header value is a case-insensitive regex',
    routes: [{ id: 'ver', headers: { 'x-version': ['~*^v\\d+$'] } }],
    req: { path: '/', headers: { 'x-version': 'V2' } },
    want: 'ver',
  },
  {
    name: 'a header-only route does not match without the header',
    routes: [{ id: 'ver', headers: { 'x-version': ['v1'] } }],
    req: { path: '/', headers: { 'x-version': 'v2' } },
    want: null,
  },
  // paths
  {
    name: 'a regex path beats a longer prefix path',
    routes: [
      { id: 'prefix', paths: ['/users/profile/settings'] },
      { id: 'regex', paths: ['~/users/\\w+'] },
    ],
    req: { path: '/users/profile/settings' },
    want: 'regex',
    stripped: '/settings',
  },
  {
    name: 'higher regex_priority wins',
    routes: [
      { id: 'any', paths: ['~/api/.*'] },
      { id: 'versioned', paths: ['~/api/v\\d+'], regex_priority: 5 },
    ],
    req: { path: '/api/v2/x' },
    want: 'versioned',
  },
  {
    name: 'a negative regex_priority ranks below zero',
    routes: [
      { id: 'low', paths: ['~/api'], regex_priority: -1 },
      { id: 'zero', paths: ['~/api/'] },
    ],
    req: { path: '/api/x' },
    want: 'zero',
  },
  {
    name: 'regex_priority does not lift a prefix path',
    routes: [
      { id: 'prefix', paths: ['/api'], regex_priority: 100 },
      { id: 'longer', paths: ['/api/v1'] },
    ],
    req: { path: '/api/v1/x' },
    want: 'longer',
  },
  {
    name: 'longest prefix wins',
    routes: [
      { id: 'root', paths: ['/'] },
      { id: 'api', paths: ['/api'] },
      { id: 'v1', paths: ['/api/v1'] },
    ],
    req: { path: '/api/v1/users' },
    want: 'v1',
    stripped: '/users',
  },
  {
    name: 'a prefix stops at a segment boundary: /api does not match /apix',
    routes: [{ id: 'api', paths: ['/api'] }],
    req: { path: '/apix' },
    want: null,
  },
  {
    name: '/apix falls back to a shorter prefix',
    routes: [
      { id: 'root', paths: ['/'] },
      { id: 'api', paths: ['/api'] },
    ],
    req: { path: '/apix' },
    want: 'root',
    stripped: '/apix',
  },
  {
    name: '/api matches /api itself, strip gives /',
    routes: [{ id: 'api', paths: ['/api'] }],
    req: { path: '/api' },
    want: 'api',
    stripped: '/',
  },
  {
    name: '/api matches /api/, strip gives /',
    routes: [{ id: 'api', paths: ['/api'] }],
    req: { path: '/api/' },
    want: 'api',
    stripped: '/',
  },
  {
    name: 'a route path ending in / does not match the path without it',
    routes: [{ id: 'api', paths: ['/api/'] }],
    req: { path: '/api' },
    want: null,
  },
  {
    name: 'a route path ending in / matches below it',
    routes: [{ id: 'api', paths: ['/api/'] }],
    req: { path: '/api/x/y' },
    want: 'api',
    stripped: '/x/y',
  },
  {
    name: 'the root route strips nothing',
    routes: [{ id: 'root', paths: ['/'] }],
    req: { path: '/x' },
    want: 'root',
    stripped: '/x',
  },
  {
    name: 'strip_path false keeps the whole path',
    routes: [{ id: 'api', paths: ['/api'], strip_path: false }],
    req: { path: '/api/x' },
    want: 'api',
    stripped: '/api/x',
  },
  {
    name: 'a regex strips what it matched',
    routes: [{ id: 'u', paths: ['~/users/\\d+'] }],
    req: { path: '/users/42/orders' },
    want: 'u',
    stripped: '/orders',
    captures: null,
  },
  {
    name: 'named captures, in JS and PCRE spelling',
    routes: [{ id: 'u', paths: ['~/users/(?<id>\\d+)/(?P<sub>[a-z]+)(?<opt>-x)?'] }],
    req: { path: '/users/42/orders' },
    want: 'u',
    stripped: '/',
    captures: { id: '42', sub: 'orders' },
  },
  {
    name: 'a regex is anchored at the start, alternation included',
    routes: [{ id: 'alt', paths: ['~/a|/b'] }],
    req: { path: '/x/b' },
    want: null,
  },
  {
    name: 'among several paths of one route the longest matching one strips',
    routes: [{ id: 'multi', paths: ['/api', '/api/v2'] }],
    req: { path: '/api/v2/x' },
    want: 'multi',
    stripped: '/x',
  },
  {
    name: 'route paths are normalised like requests',
    routes: [{ id: 'n', paths: ['/a//b/./%7ec'] }],
    req: { path: '/a/b/~c/d' },
    want: 'n',
    stripped: '/d',
  },
  // ties and exclusions
  {
    name: 'equal routes: the first defined wins',
    routes: [
      { id: 'first', paths: ['/api'] },
      { id: 'second', paths: ['/api'] },
    ],
    req: { path: '/api' },
    want: 'first',
  },
  {
    name: 'equal routes: the older created_at wins over order',
    routes: [
      { id: 'newer', paths: ['/api'], created_at: 200 },
      { id: 'older', paths: ['/api'], created_at: 100 },
    ],
    req: { path: '/api' },
    want: 'older',
  },
  {
    name: 'a route with no hosts, paths, methods or headers matches nothing',
    routes: [{ id: 'empty', hosts: [], paths: [] }],
    req: { path: '/' },
    want: null,
  },
  {
    name: 'stream-only routes are not HTTP routes',
    routes: [{ id: 'tcp', protocols: ['tcp'], paths: ['/'] }],
    req: { path: '/' },
    want: null,
  },
]

test('precedence and matching table', async (t) => {
  for (const row of rows) {
    await t.test(row.name, () => {
      const router = buildRouter(row.routes.map((r) => ({ route: makeRoute(r), value: r.id })))
      const { method = 'GET', host = 'example.com', path, headers = {} } = row.req
      const m = router.find(method, host, path, headers)
      assert.equal(m?.value ?? null, row.want)
      if (m === null) return
      assert.equal(m.route.id, row.want)
      if (row.stripped !== undefined) assert.equal(m.strippedPath, row.stripped)
      if (row.captures !== undefined) assert.deepEqual(m.captures, row.captures)
    })
  }
})

test('size counts the routes that can match', () => {
  const router = buildRouter([
    { route: makeRoute({ id: 'a', paths: ['/a', '/b'], hosts: ['x.com', '*.x.com'] }), value: 1 },
    { route: makeRoute({ id: 'empty' }), value: 2 },
  ])
  assert.equal(router.size, 1)
})

test('an invalid regex path fails the build and names the route', () => {
  const bad = makeRoute({ id: 'bad-route', paths: ['~/a(['] })
  assert.throws(() => buildRouter([{ route: bad, value: 0 }]), /bad-route/)
})

test('a router answers the same lookup the same way every time', () => {
  const router = buildRouter([
    { route: makeRoute({ id: 're', paths: ['~/u/(?<id>\\d+)'] }), value: 're' },
    { route: makeRoute({ id: 'p', paths: ['/u'], hosts: ['a.com'] }), value: 'p' },
  ])
  for (let i = 0; i < 3; i++) {
    assert.equal(router.find('GET', 'a.com', '/u/1', {})?.value, 'p')
    assert.deepEqual(router.find('GET', 'b.com', '/u/1', {})?.captures, { id: '1' })
    assert.equal(router.find('GET', 'b.com', '/v', {}), null)
  }
})
