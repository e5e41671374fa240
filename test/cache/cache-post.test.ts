import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { request } from 'undici'
import { startInference } from '../../demo/services/inference.js'
import type { DemoServer } from '../../demo/services/types.js'
import {
  admin,
  cacheGateway,
  cachePlugin,
  eventually,
  type Node,
  STRATEGIES,
  sleep,
} from '../fixtures/cache-helpers.js'

for (const strategy of STRATEGIES) {
  describe(`POST caching for inference (${strategy})`, () => {
    let infer: DemoServer
    let gw: Node
    let calls = 0
    before(async () => {
      infer = await startInference({ port: 0, name: 'inference-a', latencyMs: 30 })
      gw = await cacheGateway(
        `
_format_version: "3.0"
services:
  - name: infer
    url: ${infer.url}/infer
    routes:
      - name: infer
        paths: [/infer]
        plugins: [${cachePlugin(strategy, 'cache_post: true, max_body_bytes: 2048, content_type: ["application/json; charset=utf-8"]')}]
      - name: infer-swr
        paths: [/swr-infer]
        plugins: [${cachePlugin(strategy, 'cache_post: true, cache_ttl: 1, stale_while_revalidate: 30, content_type: ["application/json; charset=utf-8"]')}]
`,
        strategy,
      )
      gw.gateway.observers.push((ctx) => {
        if (ctx.target !== '') calls++
      })
    })
    after(async () => {
      await gw.stop()
      await infer.close()
    })

    const post = (body: string | Readable, headers: Record<string, string> = {}, path = '/infer') =>
      request(`${gw.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      }).then(async (r) => ({ status: r.statusCode, headers: r.headers, text: await r.body.text() }))

    test('the same body is a hit; another body is a miss; the upstream still gets the body', async () => {
      const before = calls
      const a = await post('{"prompt":"hello world"}')
      const b = await post('{"prompt":"hello world"}')
      const c = await post('{"prompt":"goodbye"}')
      assert.equal(a.status, 200)
      assert.deepEqual(
        [a, b, c].map((r) => r.headers['x-cache-status']),
        ['Miss', 'Hit', 'Miss'],
      )
      assert.equal(b.text, a.text)
      assert.match(a.text, /dlrow olleh/, 'the upstream read the body it was sent')
      assert.match(c.text, /eybdoog/)
      assert.notEqual(a.headers['x-cache-key'], c.headers['x-cache-key'])
      assert.equal(calls - before, 2)
    })

    test('50 concurrent identical prompts: one inference', async () => {
      const before = calls
      const all = await Promise.all(Array.from({ length: 50 }, () => post('{"prompt":"collapse me"}')))
      assert.ok(all.every((r) => r.status === 200 && r.text === all[0]!.text))
      assert.equal(calls - before, 1)
    })

    test('a body over the bound streams through uncached; a chunked one within it is keyed as its bytes', async () => {
      const big = JSON.stringify({ prompt: 'x'.repeat(3000) })
      for (let i = 0; i < 2; i++) {
        const r = await post(big)
        assert.equal(r.status, 200)
        assert.equal(r.headers['x-cache-status'], 'Bypass')
        assert.match(r.text, /"characters":3000/)
      }
      const sized = await post('{"prompt":"streamed"}')
      const chunked = await post(Readable.from([Buffer.from('{"prompt":'), Buffer.from('"streamed"}')]))
      assert.equal(chunked.status, 200)
      assert.deepEqual([sized.headers['x-cache-status'], chunked.headers['x-cache-status']], ['Miss', 'Hit'])
      assert.equal(chunked.headers['x-cache-key'], sized.headers['x-cache-key'])
      assert.match(chunked.text, /demaerts/)
      const bigChunked = await post(
        Readable.from([Buffer.from(big.slice(0, 1500)), Buffer.from(big.slice(1500))]),
      )
      assert.equal(bigChunked.headers['x-cache-status'], 'Bypass')
      assert.match(bigChunked.text, /"characters":3000/)
    })

    test('stale_while_revalidate: the background refresh sends the prompt again (the body is part of the entry)', async () => {
      const prompt = '{"prompt":"refresh me"}'
      const first = await post(prompt, {}, '/swr-infer')
      assert.equal(first.headers['x-cache-status'], 'Miss')
      const key = String(first.headers['x-cache-key'])
      const storedAt = async () => {
        const r = await admin(gw, 'GET', `/proxy-cache/${key}`)
        return r.status === 200 ? Number((r.body as { timestamp: number }).timestamp) : 0
      }
      const t0 = await storedAt()
      await sleep(1100)
      const stale = await post(prompt, {}, '/swr-infer')
      assert.equal(stale.headers['x-cache-status'], 'Stale')
      // the inference service answers 400 to a request without the prompt: a newer entry means
      // the refresh carried the body
      assert.ok(await eventually(async () => (await storedAt()) > t0), 'refreshed with the body')
      const again = await post(prompt, {}, '/swr-infer')
      assert.equal(again.headers['x-cache-status'], 'Hit')
      const output = (text: string) => (JSON.parse(text) as { output: unknown }).output
      assert.deepEqual(output(again.text), output(first.text))
    })
  })
}
