import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkPath, checkRouterPath, normalizePath } from './paths.js'

test('plain paths: leading slash, no empty segment, RFC 3986 characters, valid escapes', () => {
  for (const ok of ['/', '/api/v1', "/a-b_c.d~e/%2F/:@!$&'()*+,;="])
    assert.equal(checkPath(ok), undefined, ok)
  const cases: Array<[string, RegExp]> = [
    ['api', /should start with/],
    ['/a//b', /empty segments/],
    ['/a b', /outside of the reserved list/],
    ['/a%zz', /invalid url-encoded value: '%zz'/],
    ['/a%2', /invalid url-encoded value/],
  ]
  for (const [path, message] of cases) assert.match(checkPath(path) ?? '', message, path)
})

test('router paths: prefixes must be normalised, regexes must compile', () => {
  for (const ok of ['/users', '~/users/(?<id>\\d+)$', '~/v[12]/'])
    assert.equal(checkRouterPath(ok), undefined, ok)
  const cases: Array<[string, RegExp]> = [
    ['users', /should start with: \/ \(fixed path\) or ~\/ \(regex path\)/],
    ['~users', /should start with/],
    ['~/a//b', /empty segments/],
    ['~/(', /invalid regex: '\/\('/],
    ['/a/./b', /non-normalized path, consider use '\/a\/b' instead/],
    ['/%7euser', /consider use '\/~user'/],
  ]
  for (const [path, message] of cases) assert.match(checkRouterPath(path) ?? '', message, path)
})

test('normalizePath decodes unreserved escapes, upper-cases the rest, removes dot segments', () => {
  const cases: Array<[string, string]> = [
    ['/a/./b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/..', '/'],
    ['/%41%2f', '/A%2F'],
    ['/already/normal', '/already/normal'],
  ]
  for (const [input, expected] of cases) assert.equal(normalizePath(input), expected, input)
})
