import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { routeSchema } from '../config/index.js'
import { assertSafeKeys, decodeForm, ForbiddenKeyError } from './form.js'
import { parseMultipart } from './multipart.js'
import { inferForm, mergePatch } from './schema-walk.js'

describe('decodeForm (Kong arguments.decode)', () => {
  test('dots nest, [] appends, [n] places by index, repeated keys make a list', () => {
    const out = decodeForm([
      ['name', 'rate-limiting'],
      ['config.minute', '5'],
      ['paths[]', '/a'],
      ['paths[]', '/b'],
      ['config.key_names[2]', 'key'],
      ['config.key_names[1]', 'apikey'],
      ['hosts', 'a.test'],
      ['hosts', 'b.test'],
      ['consumer.username', 'app'],
    ])
    assert.deepEqual(out, {
      name: 'rate-limiting',
      config: { minute: '5', key_names: ['apikey', 'key'] },
      paths: ['/a', '/b'],
      hosts: ['a.test', 'b.test'],
      consumer: { username: 'app' },
    })
  })

  test('keys starting or ending with a dot are literal', () => {
    assert.deepEqual(decodeForm([['.x', '1']]), { '.x': '1' })
  })

  for (const key of ['__proto__', 'constructor.prototype.polluted', 'a.__proto__.b', 'prototype[]']) {
    test(`refuses ${key}`, () => {
      assert.throws(() => decodeForm([[key, '1']]), ForbiddenKeyError)
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    })
  }

  test('JSON bodies: forbidden keys at any depth, and absurd nesting, are refused', () => {
    assert.throws(() => assertSafeKeys(JSON.parse('{"config":{"__proto__":{"x":1}}}')), ForbiddenKeyError)
    assert.throws(() => assertSafeKeys(JSON.parse('[{"constructor":{}}]')), ForbiddenKeyError)
    let deep: unknown = 1
    for (let i = 0; i < 70; i++) deep = { a: deep }
    assert.throws(() => assertSafeKeys(deep), ForbiddenKeyError)
    assert.doesNotThrow(() => assertSafeKeys({ name: 'x', config: { key_names: ['a'] } }))
  })
})

describe('inferForm (Kong arguments.infer)', () => {
  test('numbers, booleans and lists are inferred by the schema; empty means null', () => {
    const out = inferForm(routeSchema, {
      paths: '/one',
      strip_path: 'false',
      regex_priority: '7',
      methods: ['GET', 'POST'],
      name: '',
      headers: { 'x-version': 'v1' },
    })
    assert.deepEqual(out, {
      paths: ['/one'],
      strip_path: false,
      regex_priority: 7,
      methods: ['GET', 'POST'],
      name: null,
      headers: { 'x-version': ['v1'] },
    })
  })

  test('a value that is not a number stays a string for the schema to refuse', () => {
    assert.deepEqual(inferForm(routeSchema, { regex_priority: 'high' }), { regex_priority: 'high' })
  })
})

describe('mergePatch', () => {
  test('records merge field by field, lists and maps are replaced, null unsets', () => {
    const schema = routeSchema
    const merged = mergePatch(
      schema,
      { paths: ['/a'], headers: { a: ['1'] }, name: 'r' },
      {
        paths: ['/b'],
        headers: { b: ['2'] },
        name: null,
      },
    )
    assert.deepEqual(merged, { paths: ['/b'], headers: { b: ['2'] } })
  })
})

describe('parseMultipart', () => {
  test('fields and file parts, as curl -F sends them', () => {
    const b = 'XyZ'
    const body = Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="algorithm"\r\n\r\nRS256\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name="rsa_public_key"; filename="k.pem"\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n\r\n` +
        `--${b}--\r\n`,
    )
    assert.deepEqual(parseMultipart(body, `multipart/form-data; boundary=${b}`), [
      ['algorithm', 'RS256'],
      ['rsa_public_key', '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n'],
    ])
  })

  test('a body that is not multipart is refused', () => {
    assert.equal(parseMultipart(Buffer.from('hello'), 'multipart/form-data; boundary=x'), null)
    assert.equal(parseMultipart(Buffer.from('--x\r\n'), 'multipart/form-data'), null)
  })
})
