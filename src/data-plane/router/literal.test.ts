import assert from 'node:assert/strict'
import { test } from 'node:test'
import { literalPrefix } from './literal.js'
import { compilePathRegex } from './priority.js'

const cases: Array<[string, string]> = [
  ['~/users/(?<id>\\d+)', '/users/'],
  ['~/users/\\d+', '/users/'],
  ['~^/api/v1', '/api/v1'],
  ['~/v1?/x', '/v'],
  ['~/ab*', '/a'],
  ['~/a{2}', '/'],
  ['~/a+b', '/a'],
  ['~/a\\/b\\.json', '/a/b.json'],
  ['~/a.b', '/a'],
  ['~/a|/b', ''],
  ['~(?:/a)', ''],
  ['~[/]a', ''],
  ['~\\/\\w', '/'],
]

test('literal prefix of a path regex', () => {
  for (const [path, want] of cases) {
    assert.equal(literalPrefix(compilePathRegex(path, 'r').source), want, path)
  }
})

test('every match of the regex starts with its literal prefix', () => {
  const samples = [
    '/users/42',
    '/api/v1/x',
    '/x',
    '/vx',
    '/v1/x',
    '/abbb',
    '/aa',
    '/aab',
    '/a/b.json',
    '/a.b',
    '/b',
  ]
  for (const [path] of cases) {
    const re = compilePathRegex(path, 'r')
    const literal = literalPrefix(re.source)
    for (const s of samples) {
      if (re.test(s)) assert.ok(s.startsWith(literal), `${path} matched ${s} without ${literal}`)
    }
  }
})

test('a source not produced by the router has no literal prefix', () => {
  assert.equal(literalPrefix('/users/'), '')
})
