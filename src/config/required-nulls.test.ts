import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import { requiredNulls } from './required-nulls.js'

const schema = z.strictObject({
  minute: z.number().optional(),
  policy: z.enum(['local', 'redis']).default('local'),
  names: z.array(z.string()).default(() => ['apikey']),
  header: z.string(),
  remove: z
    .strictObject({ headers: z.array(z.string()).default(() => []), note: z.string().optional() })
    .prefault({}),
  rules: z.array(z.strictObject({ path: z.string(), weight: z.number().optional() })).optional(),
  map: z.record(z.string(), z.string().nullable()).optional(),
})

const paths = (value: unknown) => requiredNulls(schema, value, 'config').map((i) => `${i.path}: ${i.message}`)

test('null on a field with a default or without optional is required field missing', () => {
  assert.deepEqual(paths({ policy: null, names: null, header: null }), [
    'config.policy: required field missing',
    'config.names: required field missing',
    'config.header: required field missing',
  ])
})

test('null on an optional field unsets it; absent fields are not looked at', () => {
  assert.deepEqual(paths({ minute: null, rules: null, map: null }), [])
  assert.deepEqual(paths({}), [])
})

test('records and arrays of records are followed; map values are not fields', () => {
  assert.deepEqual(paths({ remove: null }), ['config.remove: required field missing'])
  assert.deepEqual(paths({ remove: { headers: null, note: null } }), [
    'config.remove.headers: required field missing',
  ])
  assert.deepEqual(paths({ rules: [{ path: '/a', weight: null }, { path: null }] }), [
    'config.rules[1].path: required field missing',
  ])
  assert.deepEqual(paths({ map: { a: null } }), [])
})
