import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { RequestContext } from '../../core/context.js'
import { GatewayError } from '../../core/errors.js'
import { hasRequestBody, readBody } from './body.js'

/** One request to a real server whose handler runs `check` with a context over it. */
async function withRequest(
  body: string | null,
  headers: Record<string, string>,
  maxBody: number,
  check: (ctx: RequestContext) => Promise<unknown>,
): Promise<unknown> {
  let result: unknown
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ctx = new RequestContext(req, res, 'r1', 0)
    ctx.maxBody = maxBody
    check(ctx).then(
      (v) => {
        result = v
        res.end('ok')
      },
      (err: unknown) => {
        result = err
        res.end('err')
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      res.resume()
      res.on('end', resolve)
    })
    req.on('error', () => resolve())
    req.end(body ?? undefined)
  })
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return result
}

test('the body is read once: every reader gets the same buffer, sent upstream with its length', async () => {
  const r = (await withRequest('{"a":1}', { 'content-type': 'application/json' }, 0, async (ctx) => {
    const first = await readBody(ctx)
    const second = await readBody(ctx)
    return {
      same: first === second,
      text: first.toString(),
      kept: ctx.upstreamBody === first,
      cl: ctx.header('content-length'),
    }
  })) as Record<string, unknown>
  assert.deepEqual(r, { same: true, text: '{"a":1}', kept: true, cl: '7' })
})

test('a chunked body counts as a body; a request without one reads as empty and is not kept', async () => {
  const chunked = await withRequest('abc', { 'transfer-encoding': 'chunked' }, 0, async (ctx) => [
    hasRequestBody(ctx),
    (await readBody(ctx)).toString(),
  ])
  assert.deepEqual(chunked, [true, 'abc'])
  const none = await withRequest(null, { 'content-length': '0' }, 0, async (ctx) => [
    hasRequestBody(ctx),
    (await readBody(ctx)).length,
    ctx.upstreamBody,
  ])
  assert.deepEqual(none, [false, 0, null])
})

test('past ctx.maxBody the read stops with BODY_TOO_LARGE (413) and keep-alive off', async () => {
  const err = await withRequest('x'.repeat(64), {}, 16, async (ctx) => {
    try {
      return await readBody(ctx)
    } finally {
      assert.equal(ctx.res.shouldKeepAlive, false)
    }
  })
  assert.ok(err instanceof GatewayError)
  assert.equal(err.code, 'BODY_TOO_LARGE')
  assert.equal(err.status, 413)
})
