import { test } from 'node:test'
import { checkRow, type Row } from './testing.js'

const rows: Row[] = [
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
    positional: [],
  },
  {
    name: 'a prefix path has no positional captures',
    routes: [{ id: 'p', paths: ['/users'] }],
    req: { path: '/users/42' },
    want: 'p',
    positional: null,
  },
  {
    name: 'named captures, in JS and PCRE spelling',
    routes: [{ id: 'u', paths: ['~/users/(?<id>\\d+)/(?P<sub>[a-z]+)(?<opt>-x)?'] }],
    req: { path: '/users/42/orders' },
    want: 'u',
    stripped: '/',
    captures: { id: '42', sub: 'orders' },
    // Kong numbers named groups too; a group that took no part is null
    positional: ['42', 'orders', null],
  },
  {
    name: 'unnamed captures by position',
    routes: [{ id: 'u', paths: ['~/(\\w+)/(\\d+)'] }],
    req: { path: '/users/42' },
    want: 'u',
    captures: null,
    positional: ['users', '42'],
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
]

test('precedence and stripping: prefix and regex paths', async (t) => {
  for (const row of rows) await t.test(row.name, () => checkRow(row))
})
