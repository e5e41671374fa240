import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildRouter } from './router.js'
import { checkRow, makeRoute, type Row } from './testing.js'

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

test('precedence: hosts, categories, headers, ties', async (t) => {
  for (const row of rows) await t.test(row.name, () => checkRow(row))
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

test('an invalid header regex fails the build and names the route', () => {
  const bad = makeRoute({ id: 'bad-header', headers: { 'x-a': ['~*(('] } })
  assert.throws(() => buildRouter([{ route: bad, value: 0 }]), /bad-header/)
})

test('a router answers the same lookup the same way every time', () => {
  const router = buildRouter([
    { route: makeRoute({ id: 're', paths: ['~/u/(?<id>\\d+)'] }), value: 're' },
    { route: makeRoute({ id: 'p', paths: ['/u'], hosts: ['a.com'] }), value: 'p' },
  ])
  for (let i = 0; i < 3; i++) {
    assert.equal(router.find('GET', 'a.com', '/u/1', { headers: {} })?.value, 'p')
    assert.deepEqual(router.find('GET', 'b.com', '/u/1', { headers: {} })?.captures, { id: '1' })
    assert.equal(router.find('GET', 'b.com', '/v', { headers: {} }), null)
  }
})
