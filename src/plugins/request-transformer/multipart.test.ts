import assert from 'node:assert/strict'
import { test } from 'node:test'
import { boundaryOf, transformMultipartBody } from './multipart.js'
import type { TemplateEnv } from './template.js'
import type { Ops } from './transform.js'

const env: TemplateEnv = { header: () => undefined, query: () => undefined, capture: () => undefined }
const ops = (over: Partial<Ops>): Ops => ({
  remove: [],
  rename: [],
  replace: [],
  add: [],
  append: [],
  ...over,
})

const B = 'XyZ123'
const body = Buffer.concat([
  Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="user"\r\n\r\nann\r\n`),
  Buffer.from(
    `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  ),
  Buffer.from([0, 1, 2, 13, 10, 255]),
  Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="secret"\r\n\r\ns\r\n--${B}--\r\n`),
])

/** Field name → value (as text) of a multipart body. */
async function fields(b: Buffer): Promise<Array<[string, string]>> {
  const form = await new Response(b, {
    headers: { 'content-type': `multipart/form-data; boundary=${B}` },
  }).formData()
  const out: Array<[string, string]> = []
  for (const [k, v] of form) out.push([k, typeof v === 'string' ? v : `file:${v.name}:${v.size}`])
  return out
}

test('boundaryOf reads quoted and bare boundaries', () => {
  assert.equal(boundaryOf('multipart/form-data; boundary=abc'), 'abc')
  assert.equal(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b"'), 'a b')
  assert.equal(boundaryOf('multipart/form-data'), null)
})

test("rename, remove, replace, add as Kong's lua-multipart; files keep their bytes", async () => {
  const out = transformMultipartBody(
    body,
    ops({
      rename: [['user', 'username']],
      remove: ['secret'],
      replace: [
        ['file', 'replaced'],
        ['absent', 'x'],
      ],
      add: [
        ['source', 'gw'],
        ['username', 'no'],
      ],
    }),
    env,
    B,
  )
  assert.deepEqual(await fields(out!), [
    ['username', 'ann'],
    ['file', 'replaced'],
    ['source', 'gw'],
  ])
  const kept = transformMultipartBody(body, ops({ add: [['x', '1']] }), env, B)
  assert.deepEqual(await fields(kept!), [
    ['user', 'ann'],
    ['file', 'file:a.bin:6'],
    ['secret', 's'],
    ['x', '1'],
  ])
})

test('an empty body gets the added fields; a malformed one is left alone', async () => {
  assert.deepEqual(
    await fields(transformMultipartBody(Buffer.alloc(0), ops({ add: [['a', '1']] }), env, B)!),
    [['a', '1']],
  )
  assert.equal(transformMultipartBody(Buffer.from('garbage'), ops({ add: [['a', '1']] }), env, B), null)
  assert.equal(transformMultipartBody(body, ops({ replace: [['absent', 'x']] }), env, B), null)
})
