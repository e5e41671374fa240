import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileTemplate, render, type TemplateEnv, TemplateError } from './template.js'

const env: TemplateEnv = {
  header: (n) => ({ 'x-user': 'ann', authorization: 'abc' })[n],
  query: (n) => ({ page: '3', empty: '' })[n],
  capture: (n) => ({ id: '42', 'user-id': 'u7' })[n],
}

test('a value without placeholders stays a constant string', () => {
  assert.equal(compileTemplate('plain:value'), 'plain:value')
})

test('headers, query_params and uri_captures in dot and bracket form', () => {
  const cases: Array<[string, string]> = [
    ['$(headers.x_user)', 'ann'],
    ['$(headers["X-User"])', 'ann'],
    ["$(headers['x-user'])", 'ann'],
    ['Basic $(headers.Authorization)', 'Basic abc'],
    ['p=$(query_params.page)', 'p=3'],
    ['$(query_params["page"])', '3'],
    ['/items/$(uri_captures.id)/x', '/items/42/x'],
    ['$(uri_captures["user-id"])', 'u7'],
  ]
  for (const [src, want] of cases) assert.equal(render(compileTemplate(src), env), want, src)
})

test('an absent value renders empty; `or` takes the first present value', () => {
  assert.equal(render(compileTemplate('[$(headers.nope)]'), env), '[]')
  assert.equal(
    render(compileTemplate('$(uri_captures["nope"] or query_params["nope"] or "unknown")'), env),
    'unknown',
  )
  assert.equal(render(compileTemplate('$(headers.nope or query_params.page)'), env), '3')
  // an empty string is a value (Lua: '' is true)
  assert.equal(render(compileTemplate('$(query_params.empty or "x")'), env), '')
})

test('a quoted placeholder escapes a template', () => {
  assert.equal(render(compileTemplate("$('$(headers.x_user)')"), env), '$(headers.x_user)')
})

test('expressions Portico does not evaluate are refused at load', () => {
  for (const src of [
    '$(os.getenv("HOME"))',
    '$(headers.x .. "y")',
    '$((function() return 1 end)())',
    '$(headers)',
    '$(query_params[)',
  ])
    assert.throws(() => compileTemplate(src), TemplateError, src)
})

test('an unbalanced placeholder is text', () => {
  assert.equal(compileTemplate('$(headers.x'), '$(headers.x')
})
