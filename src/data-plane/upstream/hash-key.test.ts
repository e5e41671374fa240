import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { test } from 'node:test'
import { request } from 'undici'
import { RequestContext } from '../../core/context.js'
import type { UpstreamEntity } from '../../core/entities.js'
import { serve, upstream } from './fixtures.js'
import { compileHashInput } from './hash-key.js'
import type { PickInput } from './types.js'

/**
 * Sends one real request with `headers` and returns what `compileHashInput(u)` read from it,
 * with the Set-Cookie the gateway would add.
 */
async function inputFor(
  u: UpstreamEntity,
  path: string,
  headers: IncomingHttpHeaders,
  fill?: (ctx: RequestContext) => void,
): Promise<{ input: PickInput; setCookie: string | undefined }> {
  const inputOf = compileHashInput(u)
  let result: { input: PickInput; setCookie: string | undefined } | undefined
  const server = await serve((req, res) => {
    const ctx = new RequestContext(req, res, 'r1', performance.now())
    const [p, q = ''] = (req.url ?? '/').split('?')
    ctx.path = p!
    ctx.query = q
    ctx.clientIp = req.socket.remoteAddress ?? ''
    fill?.(ctx)
    const input = inputOf(ctx)
    const list = ctx.responseHeaders ?? []
    result = { input, setCookie: list[list.indexOf('set-cookie') + 1] }
    res.end()
  })
  try {
    const res = await request(`http://${server.address}${path}`, {
      headers: headers as Record<string, string>,
    })
    await res.body.dump()
  } finally {
    await server.close()
  }
  return result!
}

const hashing = (o: Partial<UpstreamEntity>) => upstream({ algorithm: 'consistent-hashing', ...o })

test('hash_on ip, header, path and query_arg read the request', async () => {
  assert.equal((await inputFor(hashing({ hash_on: 'ip' }), '/', {})).input.hashKey, '127.0.0.1')
  const header = hashing({ hash_on: 'header', hash_on_header: 'X-User' })
  assert.equal((await inputFor(header, '/', { 'x-user': 'ann' })).input.hashKey, 'ann')
  assert.equal((await inputFor(hashing({ hash_on: 'path' }), '/a/b?x=1', {})).input.hashKey, '/a/b')
  const query = hashing({ hash_on: 'query_arg', hash_on_query_arg: 'tenant' })
  assert.equal((await inputFor(query, '/?tenant=b&tenant=a', {})).input.hashKey, 'a,b')
  assert.equal((await inputFor(query, '/?other=1', {})).input.hashKey, undefined)
})

test('hash_on consumer and uri_capture use what earlier phases found', async () => {
  const consumer = hashing({ hash_on: 'consumer' })
  const got = await inputFor(consumer, '/', {}, (ctx) => {
    ctx.consumer = { id: 'c-1' }
  })
  assert.equal(got.input.hashKey, 'c-1')
  const capture = hashing({ hash_on: 'uri_capture', hash_on_uri_capture: 'user' })
  const cap = await inputFor(capture, '/', {}, (ctx) => {
    ctx.captures = { user: '42' }
  })
  assert.equal(cap.input.hashKey, '42')
})

test('a missing key uses hash_fallback; neither gives round-robin', async () => {
  const u = hashing({ hash_on: 'header', hash_on_header: 'x-user', hash_fallback: 'ip' })
  assert.deepEqual((await inputFor(u, '/', {})).input, { hashKey: undefined, fallbackKey: '127.0.0.1' })
  assert.deepEqual((await inputFor(u, '/', { 'x-user': 'ann' })).input, {
    hashKey: 'ann',
    fallbackKey: undefined,
  })
  const none = hashing({ hash_on: 'header', hash_on_header: 'x-user' })
  assert.deepEqual((await inputFor(none, '/', {})).input, { hashKey: undefined, fallbackKey: undefined })
})

test('hash_on cookie uses the cookie, or sets one for the next requests', async () => {
  const u = hashing({ hash_on: 'cookie', hash_on_cookie: 'sticky', hash_on_cookie_path: '/app' })
  const known = await inputFor(u, '/', { cookie: 'a=1; sticky=abc' })
  assert.equal(known.input.hashKey, 'abc')
  assert.equal(known.setCookie, undefined)
  const fresh = await inputFor(u, '/', {})
  assert.match(fresh.setCookie ?? '', /^sticky=[0-9a-f-]{36}; Path=\/app$/)
  assert.equal(fresh.setCookie?.slice('sticky='.length, 'sticky='.length + 36), fresh.input.hashKey)
})

test('upstreams that do not hash share one constant input', async () => {
  const rr = upstream({ hash_on: 'ip' })
  const a = await inputFor(rr, '/', {})
  const b = await inputFor(rr, '/', {})
  assert.deepEqual(a.input, { hashKey: undefined, fallbackKey: undefined })
  assert.equal(a.input, b.input, 'the same object: nothing allocated per request')
})
