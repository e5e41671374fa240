import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validateDocument } from '../../config/index.js'
import { createRegistry } from '../index.js'
import { schema } from './schema.js'

const issues = (config: unknown) =>
  validateDocument(
    { _format_version: '3.0', plugins: [{ name: 'request-transformer', config }] },
    createRegistry(),
  ).issues

test("defaults: every section present with Kong's empty lists", () => {
  assert.deepEqual(schema.parse({}), {
    remove: { body: [], headers: [], querystring: [] },
    rename: { body: [], headers: [], querystring: [] },
    replace: { body: [], headers: [], querystring: [] },
    add: { body: [], headers: [], querystring: [] },
    append: { body: [], headers: [], querystring: [] },
  })
})

test('a Kong export with nulls loads', () => {
  assert.deepEqual(
    issues({ http_method: null, replace: { uri: null, body: [], headers: [], querystring: [] } }),
    [],
  )
})

test("Kong's entry rules, with the offending path", () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [
      { add: { querystring: ['novalue'] } },
      'plugins[0].config.add.querystring[0]',
      /key 'novalue' has no value/,
    ],
    [
      { add: { headers: ['bad header:x'] } },
      'plugins[0].config.add.headers[0]',
      /'bad header' is not a valid header/,
    ],
    [{ add: { headers: ['x-a'] } }, 'plugins[0].config.add.headers[0]', /^invalid value: x-a$/],
    [
      { rename: { headers: ['x-a:bad name'] } },
      'plugins[0].config.rename.headers[0]',
      /'bad name' is not a valid header/,
    ],
    [{ http_method: 'get' }, 'plugins[0].config.http_method', /upper-case/],
    [
      { add: { headers: ['x-a:$(os.getenv("HOME"))'] } },
      'plugins[0].config.add.headers[0]',
      /not in supported format.*only headers, query_params and uri_captures/,
    ],
    [{ replace: { uri: '/a/$(ngx.var.x)' } }, 'plugins[0].config.replace.uri', /not in supported format/],
    [{ remove: { uri: '/x' } }, 'plugins[0].config.remove.uri', /unknown field/],
  ]
  for (const [config, path, message] of cases) {
    const found = issues(config)
    assert.ok(
      found.some((i) => i.path.startsWith(path) && message.test(i.message)),
      `${JSON.stringify(config)}: ${JSON.stringify(found)}`,
    )
  }
})
